"""What drives query besides HTTP: the bulk catch-up of a fresh read model, then the live events consumer."""
