"""Intake's own rules, free of I/O: which id a request's command gets, how fast an account may call, and which
canonical status a provider's own status label stands for."""
