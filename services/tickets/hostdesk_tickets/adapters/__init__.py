"""The outbound side: the event store on PostgreSQL, ticket numbers, the deadlines, stored events as public events."""
