"""Intake's use cases: send a request's commands to the tickets service and learn what became of them."""
