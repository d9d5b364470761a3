"""sbsync's Python client: a local SQLite replica of what one user may see of one organization, kept in
sync through the public HTTP protocol (``sbsync/docs/protocol.md``) and usable offline. It imports
neither Django nor the server's code (an import-linter contract keeps it so); its dependencies are in the
``client`` extra (``pip install "sbsync[client]"``).

    from sbsync.client import Replica

    with Replica("replica.sqlite3", url="https://host/api/sync/", username="mary", password="…") as replica:
        replica.sync()
        replica.save("shop.Customer", {"name": "Ann"})
        replica.sync()
"""

from __future__ import annotations

from sbsync.client.conflicts import CLIENT, SERVER, Conflict, Resolution, client_wins, merge, server_wins
from sbsync.client.errors import (
    AuthenticationError,
    ClientError,
    LocalError,
    NetworkError,
    ProtocolError,
    ReplicaMismatch,
    SyncInProgress,
)
from sbsync.client.replica import Replica
from sbsync.client.report import SyncReport
from sbsync.client.transport import RetryPolicy

__all__ = [
    "CLIENT",
    "SERVER",
    "AuthenticationError",
    "ClientError",
    "Conflict",
    "LocalError",
    "NetworkError",
    "ProtocolError",
    "Replica",
    "ReplicaMismatch",
    "Resolution",
    "RetryPolicy",
    "SyncInProgress",
    "SyncReport",
    "client_wins",
    "merge",
    "server_wins",
]
