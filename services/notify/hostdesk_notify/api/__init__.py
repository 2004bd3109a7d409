"""Notify's HTTP API: health, readiness, and the delivery log of a ticket for staff."""
