"""``python -m sbsync.client bench``: the initial sync of a server's rows into a new replica file, with
records per second and the client's peak memory (resident set size, which stays flat whatever the row
count: a pull page is applied and dropped before the next is asked for)."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from typing import Any

from sbsync.client.replica import Replica


def peak_rss_mb() -> float | None:
    """This process's peak resident set size so far (Linux and macOS), in MB."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def run(args: argparse.Namespace, open_replica: Callable[..., Replica]) -> int:
    if os.path.exists(args.db):
        print(f"sbsync.client: {args.db} exists; the benchmark needs a new file.", file=sys.stderr)
        return 1
    before = peak_rss_mb()
    started = time.monotonic()
    with open_replica(args, batch_size=args.batch_size) as replica:
        report = replica.sync()
        rows = {label: replica.count(label) for label, info in replica.models().items() if info.pull}
    seconds = time.monotonic() - started
    peak = peak_rss_mb()
    total = sum(rows.values())
    figures: dict[str, Any] = {
        "rows": total,
        "seconds": round(seconds, 2),
        "records_per_second": round(report.pulled / seconds) if seconds else None,
        "peak_memory_mb": {"before": _round(before), "peak": _round(peak)},
        "file_mb": round(os.path.getsize(args.db) / 1e6, 1),
    }
    print(
        f"initial sync: {total} rows ({', '.join(f'{k} {v}' for k, v in rows.items())}) in {seconds:.1f} s, "
        f"{figures['records_per_second']} rec/s, batch {args.batch_size}; client peak memory "
        f"{_round(before)} -> {_round(peak)} MB; file {figures['file_mb']} MB"
    )
    return 0


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
