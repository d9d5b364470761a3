"""The bare baseline: what any sync server must do and nothing else (one upsert per push, one keyset
query per pull page, orjson, no authentication, no checks). Installed only by the benchmark's settings."""

from __future__ import annotations

LABEL = "bench_bare.BareRecord"
PREFIX = "bench-bare/"
"""Where the benchmark's URLconf serves the baseline."""
