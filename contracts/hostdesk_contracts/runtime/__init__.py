"""What the services share to speak HTTP and NATS alike (needs the ``runtime`` extra)."""
