"""HostDesk intake: the HTTP front door that turns callers' requests into durable ticket commands.

It publishes each command to JetStream (de-duplicated by its command id) and answers once the tickets
service has committed it, or with 202 and a link to poll when that takes longer. It keeps no database.
"""
