"""sbsync: keep records of any Django model in sync between a server and its API clients."""

from __future__ import annotations

__version__ = "0.1.0"
PROTOCOL_VERSION = "1"
