"""Clients for the providers' public APIs, used by the connection test (semantics.md §2).

Each provider module runs its checks with one API key and returns a `ProviderReport`; nothing
here touches the database. Keys are sent only in the Authorization header and never appear in a
message, a log line or an exception.
"""
