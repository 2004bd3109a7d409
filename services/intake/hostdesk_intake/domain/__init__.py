"""Intake's own rules, free of I/O: which id a request's command gets, and how fast an account may call."""
