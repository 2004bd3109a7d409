"""The HTTP surface: thin routes, their response schemas, and the dependencies they read from the app."""
