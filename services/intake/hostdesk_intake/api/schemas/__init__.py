"""What callers send and receive over HTTP, and how a request becomes a command.

Requests repeat the commands' own limits, so a bad field answers 422 naming it, never a 500 when the
command is built; they refuse unknown fields, so a misspelt one is not silently dropped. ``fields`` holds
what many requests share, ``conversation`` the requests of a ticket's conversation (open, reply, close),
``actions`` those of everything else done to a ticket, ``responses`` the answers.
"""
