"""Intake's HTTP API: thin routes, their schemas and dependencies, and the one translation from outcomes to answers."""
