"""Intake's HTTP API: thin routes, their request and response schemas, and their dependencies."""
