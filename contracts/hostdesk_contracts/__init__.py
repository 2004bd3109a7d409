"""HostDesk's public language: the commands callers send, the events subscribers receive, and where.

Install this package alone to subscribe to ticket events from any Python system; other languages use the
committed JSON Schemas in ``contracts/schemas/``. The ``runtime`` subpackage is what the services share
to speak HTTP and NATS the same way; it needs the ``runtime`` extra and subscribers never import it.
"""
