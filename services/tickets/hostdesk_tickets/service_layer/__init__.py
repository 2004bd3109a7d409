"""The use cases: applying commands to tickets, and reading a ticket as it was."""
