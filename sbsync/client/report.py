"""What one ``Replica.sync()`` did."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class SyncReport:
    """``pushed``: local changes the server acknowledged; ``pulled``/``deleted``: rows and tombstones
    applied; ``conflicts``: local changes the server did not apply (conflicts, rejected, forbidden and
    dropped records), each now in the conflicts table; ``resynced``: models pulled again from the start
    (410, changed fields); ``dropped``/``added``: models the role lost or gained."""

    pushed: int = 0
    pulled: int = 0
    deleted: int = 0
    conflicts: int = 0
    resynced: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    duration: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "pushed": self.pushed,
            "pulled": self.pulled,
            "deleted": self.deleted,
            "conflicts": self.conflicts,
            "resynced": self.resynced,
            "dropped": self.dropped,
            "added": self.added,
            "duration": round(self.duration, 3),
        }
