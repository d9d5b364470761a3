"""The command line: ``python -m sbsync.client sync|status|conflicts|reset|bench``.

Exit codes (for cron jobs): 0 done; 3 synced, but some local changes were not applied (see
``conflicts``); 4 the server refused the credentials or the token (or the user left the organization);
5 the server could not be reached or kept failing after every retry (try again later: nothing is lost);
6 the file belongs to another server, user or organization; 7 another process is syncing the same file
(nothing done); 1 any other error; 2 bad arguments.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Callable
from typing import Any

from sbsync.client.errors import ClientError, ReplicaMismatch
from sbsync.client.replica import Replica
from sbsync.client.transport import RetryPolicy

EXIT_CONFLICTS = 3


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        result: int = args.run(args)
    except ClientError as exc:
        print(f"sbsync.client: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("sbsync.client: interrupted; the next sync resumes where this one stopped.", file=sys.stderr)
        return 130
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sbsync.client", description="A local replica of an sbsync server."
    )
    commands = parser.add_subparsers(required=True, metavar="command")

    sync = commands.add_parser("sync", help="push local changes, pull the server's to the end")
    _replica_args(sync, server=True)
    sync.add_argument("--batch-size", type=int, default=500, help="rows per pull page (default 500)")
    sync.add_argument("--push-batch-size", type=int, default=500, help="records per push (default 500)")
    sync.add_argument(
        "--async-over", type=int, metavar="N", help="push through async jobs when more than N changes wait"
    )
    sync.add_argument("--quiet", action="store_true", help="no progress bar")
    sync.add_argument("--json", action="store_true", help="print the report as JSON")
    sync.set_defaults(run=_sync)

    status = commands.add_parser("status", help="what the local file holds")
    _replica_args(status, server=False)
    status.add_argument("--json", action="store_true")
    status.set_defaults(run=_status)

    conflicts = commands.add_parser("conflicts", help="local changes the server did not apply")
    _replica_args(conflicts, server=False)
    conflicts.add_argument("--json", action="store_true")
    conflicts.add_argument("--clear", action="store_true", help="forget them once listed")
    conflicts.set_defaults(run=_conflicts)

    reset = commands.add_parser("reset", help="delete the local file (refused while changes are unsent)")
    _replica_args(reset, server=False)
    reset.add_argument("--force", action="store_true", help="also when local changes are unsent")
    reset.set_defaults(run=_reset)

    bench = commands.add_parser("bench", help="initial sync of a server's rows into a new replica")
    _replica_args(bench, server=True)
    bench.add_argument("--batch-size", type=int, default=1000)
    bench.set_defaults(run=_bench)
    return parser


def _replica_args(parser: argparse.ArgumentParser, *, server: bool) -> None:
    parser.add_argument("--db", required=True, help="the replica's SQLite file")
    if server:
        parser.add_argument("--url", help="the API's root, e.g. https://host/api/sync/ (stored on first use)")
        parser.add_argument("--username", help="log in as (stored on first use)")
        parser.add_argument("--organization", help="the organization's slug, when the user has several")
        parser.add_argument(
            "--password-env", default="SBSYNC_PASSWORD", help="environment variable holding the password"
        )
        parser.add_argument(
            "--token-env", default="SBSYNC_TOKEN", help="environment variable holding a token"
        )
        parser.add_argument(
            "--retries",
            type=int,
            default=8,
            help="tries of each request before giving up (default 8, about a minute)",
        )
        parser.add_argument(
            "--timeout", type=float, default=60.0, help="seconds to wait for an answer (default 60)"
        )


def _open(args: argparse.Namespace, **options: Any) -> Replica:
    password = os.environ.get(args.password_env)
    token = os.environ.get(args.token_env)
    if args.username and not password and not token and sys.stdin.isatty():
        password = getpass.getpass(f"Password of {args.username}: ")
    return Replica(
        args.db,
        url=args.url,
        username=args.username,
        password=password,
        token=token,
        organization=args.organization,
        retry=RetryPolicy(attempts=max(1, args.retries)),
        timeout=args.timeout,
        **options,
    )


def _sync(args: argparse.Namespace) -> int:
    with _Progress(disabled=args.quiet or not sys.stderr.isatty()) as progress:
        replica = _open(
            args,
            batch_size=args.batch_size,
            push_batch_size=args.push_batch_size,
            async_push_over=args.async_over,
            progress=progress,
        )
        with replica:
            report = replica.sync()
    if args.json:
        print(json.dumps(report.as_dict()))
    else:
        print(
            f"pushed {report.pushed}, pulled {report.pulled}, deleted {report.deleted}, "
            f"conflicts {report.conflicts} in {report.duration:.1f} s"
            + "".join(
                f"; {name} {', '.join(items)}"
                for name, items in (("resynced", report.resynced), ("dropped", report.dropped))
                if items
            )
        )
    return EXIT_CONFLICTS if report.conflicts else 0


def _existing(path: str) -> Replica:
    if not os.path.exists(path):
        raise ReplicaMismatch(f"{path} does not exist: run sync first.")
    return Replica(path)


def _status(args: argparse.Namespace) -> int:
    with _existing(args.db) as replica:
        state = replica.status()
    if args.json:
        print(json.dumps(state))
        return 0
    print(
        f"{state['username']} @ {state['url']} ({state['organization']}), last sync {state['last_sync'] or 'never'}"
    )
    for label, info in state["models"].items():
        rows = "push only" if info["rows"] is None else f"{info['rows']} rows"
        print(
            f"  {label}: {rows}{'' if info['synced'] or info['rows'] is None else ', not fully pulled yet'}"
        )
    print(
        f"unsent changes {state['pending']}, batches in flight {state['batches_in_flight']}, conflicts {state['conflicts']}"
    )
    return 0


def _conflicts(args: argparse.Namespace) -> int:
    with _existing(args.db) as replica:
        items = replica.conflicts()
        if args.json:
            print(json.dumps(items))
        for item in [] if args.json else items:
            reason = (
                json.dumps(item["errors"]) if item["errors"] else f"server version {item['server_version']}"
            )
            print(
                f"#{item['id']} {item['at']} {item['model']} {item['pk']}: {item['kind']} ({reason}); "
                f"resolved: {item['resolution']}; local {json.dumps(item['local'])}"
            )
        if args.clear:
            replica.clear_conflicts([item["id"] for item in items])
    return 0


def _reset(args: argparse.Namespace) -> int:
    if os.path.exists(args.db):
        with Replica(args.db) as replica:
            pending = replica.pending()
        if pending and not args.force:
            print(
                f"sbsync.client: {pending} local changes are unsent; sync first, or reset --force.",
                file=sys.stderr,
            )
            return 1
        for suffix in ("", "-wal", "-shm", ".lock"):
            if os.path.exists(args.db + suffix):
                os.remove(args.db + suffix)
    print(f"{args.db} removed.")
    return 0


def _bench(args: argparse.Namespace) -> int:
    from sbsync.client.bench import run

    return run(args, _open)


class _Progress:
    """A tqdm bar per phase (push, pull) on standard error, when it is a terminal."""

    def __init__(self, *, disabled: bool):
        self.disabled = disabled
        self.bars: dict[str, Any] = {}

    def __call__(self, phase: str, count: int) -> None:
        if self.disabled:
            return
        if phase not in self.bars:
            from tqdm import tqdm

            self.bars[phase] = tqdm(desc=phase, unit=" rec", file=sys.stderr, dynamic_ncols=True)
        self.bars[phase].update(count)

    def __enter__(self) -> Callable[[str, int], None]:
        return self

    def __exit__(self, *exc: object) -> None:
        for bar in self.bars.values():
            bar.close()
