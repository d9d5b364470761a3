"""The sync engine: plain functions over the ORM. Knows nothing of HTTP."""
