"""What the client raises. Each error says what happened and what the caller can do; the command line
maps each class to an exit code (``sbsync/client/cli.py``)."""

from __future__ import annotations

from typing import Any


class ClientError(Exception):
    """Base class of every error of ``sbsync.client``."""

    exit_code = 1

    def __init__(self, message: str, *, status: int | None = None, body: dict[str, Any] | None = None):
        super().__init__(message)
        self.status = status
        self.body = body or {}

    @property
    def code(self) -> str | None:
        """The protocol's error code (``error`` of the answer), when the server sent one."""
        value = self.body.get("error")
        return value if isinstance(value, str) else None


class AuthenticationError(ClientError):
    """The server refused the credentials or the token, and the replica cannot log in again by itself
    (no password given), or the user is not a member of the organization. Nothing was lost: the outbox is
    kept for the next sync."""

    exit_code = 4


class NetworkError(ClientError):
    """The server could not be reached or kept failing (connection errors, timeouts, 5xx, 429) after every
    retry. Nothing was lost: a batch in flight is replayed with the same ``batch_id`` by the next sync."""

    exit_code = 5


class ProtocolError(ClientError):
    """The server answered something the protocol does not allow here (a bug on one side, or not an
    sbsync server). The sync stops; the local file stays consistent."""

    exit_code = 1


class ReplicaMismatch(ClientError):
    """The local file belongs to another server, user or organization, or is not a replica file."""

    exit_code = 6


class SyncInProgress(ClientError):
    """Another process is syncing the same file: nothing was done; run again later."""

    exit_code = 7


class LocalError(ClientError):
    """A local call was refused: an unknown model, a model the role may not push, a missing key."""

    exit_code = 1


def unexpected_answer(path: str, status: int, body: dict[str, Any]) -> ClientError:
    """The error for an answer the client has no rule for: 403 ``not_a_member`` is an authentication
    problem (the user left the organization), anything else a protocol error."""
    detail = body.get("detail") if isinstance(body.get("detail"), str) else ""
    if status == 403 and body.get("error") == "not_a_member":
        return AuthenticationError(f"{path}: {detail}", status=status, body=body)
    return ProtocolError(
        f"{path} answered {status} {body.get('error', '')}: {detail}", status=status, body=body
    )
