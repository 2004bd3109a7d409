"""The HTTP API: thin routes over the read model, their schemas and their ``Annotated`` dependencies."""
