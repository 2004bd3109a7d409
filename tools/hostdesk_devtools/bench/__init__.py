"""``make bench``: the system's figures beside the machine's raw limits (see ``__main__``)."""
