"""Intake's own rules, free of I/O: which id a request's command gets (and whether an outcome found under it is the
request's own), how fast an account may call, and which canonical status a provider's own status label stands for."""
