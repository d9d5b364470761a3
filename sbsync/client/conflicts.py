"""Conflicts: a local change the server did not apply because the row changed on the server since the
version the change was based on. The replica asks ``on_conflict`` what to do; whatever it answers, the
conflict is kept in the ``sbsync_conflicts`` table for the application, with both versions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Conflict:
    """``local``: the fields this replica changed (or ``{"_deleted": True}``); ``base_version``: the version
    they were based on; ``server``: the server's current row (``None`` when the row is gone, or when the
    role lacks ``can_read`` and ``server_known`` is False); ``server_version``: its current ``_version``."""

    model: str
    pk: Any
    local: dict[str, Any]
    base_version: int | None
    server: dict[str, Any] | None
    server_version: int | None
    server_known: bool


@dataclass(frozen=True)
class Resolution:
    """``kind`` is ``server`` (drop the local change), ``client`` (push the local change again on top of
    the server's version) or ``merge`` (push ``fields`` on top of the server's version)."""

    kind: str
    fields: dict[str, Any] | None = None

    def describe(self) -> str:
        return self.kind


SERVER = Resolution("server")
CLIENT = Resolution("client")


def merge(fields: dict[str, Any]) -> Resolution:
    return Resolution("merge", dict(fields))


def server_wins(conflict: Conflict) -> Resolution:
    """The default: the server's row stays, the local change is kept in the conflicts table."""
    return SERVER


def client_wins(conflict: Conflict) -> Resolution:
    """The local change is pushed again with the server's current ``_version`` (last writer wins)."""
    return CLIENT
