"""The outbound side: the event store on PostgreSQL, the deadlines table, stored events told as public events."""
