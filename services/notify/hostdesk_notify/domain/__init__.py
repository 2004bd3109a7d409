"""Notify's rules: who is mailed for which event, in which words. Pure: no I/O, no framework."""
