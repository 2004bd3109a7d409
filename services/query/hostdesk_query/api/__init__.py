"""The HTTP API: thin routes over the read model."""
