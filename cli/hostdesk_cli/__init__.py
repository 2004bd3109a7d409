"""``hostdesk``: the operator's command line."""
