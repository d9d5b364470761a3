"""``sync_benchmark``: records per second of push and pull through the HTTP API, and the server's peak
memory (sbsync/benchmark.py does the work)."""

from __future__ import annotations

import socket
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.urls import reverse

from sbsync.benchmark import (
    ApiClient,
    BenchmarkError,
    MemorySampler,
    Outcome,
    create_benchmark_account,
    run_workload,
    seed_rows,
    started_server,
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Command(BaseCommand):
    help = (
        "Run a push/pull workload of --records rows through the HTTP API and print records per second for "
        "create, update and pull-to-the-end, the count check, and the server's peak memory. By default it "
        "starts its own gunicorn (one worker) on this project's database with a fresh benchmark organization; "
        "with --url it measures a running server (give --username, --password and --organization; "
        "--server-pid to sample its memory)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--records", type=int, default=10_000, help="rows to create, update and pull (default 10000)"
        )
        parser.add_argument(
            "--batch", type=int, default=500, help="records per push and pull batch_size (default 500)"
        )
        parser.add_argument(
            "--model", default="shop.Customer", help="tenant model to write (default shop.Customer)"
        )
        parser.add_argument(
            "--seed-direct",
            action="store_true",
            help="write the rows with the ORM instead of pushing them; measure pull alone",
        )
        parser.add_argument(
            "--port", type=int, help="port of the server the benchmark starts (default: a free one)"
        )
        parser.add_argument(
            "--url", help="API root of a running server, e.g. http://127.0.0.1:8000/api/sync/"
        )
        parser.add_argument("--username", help="with --url: the account to push and pull as")
        parser.add_argument("--password", help="with --url: its password")
        parser.add_argument("--organization", help="with --url: organization slug (X-Sync-Organization)")
        parser.add_argument(
            "--server-pid", type=int, help="with --url: process id of the server, to sample its memory"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        records, batch = options["records"], options["batch"]
        if records < 1 or batch < 1:
            raise CommandError("--records and --batch must be at least 1.")
        try:
            if options["url"]:
                outcome, where = self.measure_running(options)
            else:
                outcome, where = self.measure_own_server(options)
        except BenchmarkError as exc:
            raise CommandError(str(exc)) from None
        self.report(options, outcome, where)
        if not outcome.count_ok:
            raise CommandError("The count check failed.")

    def measure_running(self, options: dict[str, Any]) -> tuple[Outcome, str]:
        if not (options["username"] and options["password"]):
            raise CommandError("--url needs --username and --password.")
        if options["seed_direct"] and not options["organization"]:
            raise CommandError(
                "--seed-direct with --url needs --organization (rows go into this project's database)."
            )
        seeded = (
            seed_rows(options["model"], options["organization"], options["records"])
            if options["seed_direct"]
            else None
        )
        client = ApiClient(options["url"], options["organization"])
        try:
            client.login(options["username"], options["password"])
            sampler = MemorySampler(options["server_pid"]) if options["server_pid"] else None
            outcome = self.run(client, sampler, options, seeded, exact=False)
        finally:
            client.close()
        return outcome, f"server at {options['url']}" + (
            "" if sampler else " (memory not sampled: no --server-pid)"
        )

    def measure_own_server(self, options: dict[str, Any]) -> tuple[Outcome, str]:
        account = create_benchmark_account(options["model"])
        self.stdout.write(
            f"Benchmark organization {account.organization} (user {account.username}); it stays in the database."
        )
        seeded = (
            seed_rows(options["model"], account.organization, options["records"])
            if options["seed_direct"]
            else None
        )
        port = options["port"] or _free_port()
        with started_server(port) as server:
            client = ApiClient(
                f"http://127.0.0.1:{port}{reverse('sbsync:pull').removesuffix('pull/')}", account.organization
            )
            try:
                client.login(account.username, account.password)
                if seeded is None:
                    # What a new client does first: its first pull enters the empty organization in the change index.
                    client.expect("POST", "pull/", {"models": {options["model"]: None}, "batch_size": 1})
                outcome = self.run(client, MemorySampler(server.pid), options, seeded, exact=True)
            finally:
                client.close()
        return outcome, f"gunicorn started by the benchmark (1 worker, pid {server.pid})"

    def run(
        self,
        client: ApiClient,
        sampler: MemorySampler | None,
        options: dict[str, Any],
        seeded: dict[str, str] | None,
        *,
        exact: bool,
    ) -> Outcome:
        def workload() -> Outcome:
            return run_workload(
                client,
                label=options["model"],
                records=options["records"],
                batch=options["batch"],
                sampler=sampler,
                seeded=seeded,
                exact=exact,
            )

        if sampler is None:
            return workload()
        baseline = sampler.sample()
        sampler.start()
        try:
            outcome = workload()
        finally:
            sampler.stopped.set()
            sampler.join()
        outcome.baseline_mb, outcome.peak_mb = baseline, sampler.peak
        return outcome

    def report(self, options: dict[str, Any], outcome: Outcome, where: str) -> None:
        write = self.stdout.write
        write(f"\n{options['records']:,} records of {options['model']}, batches of {options['batch']}")
        write(f"database: {connection.vendor}; {where}\n")
        write(f"{'phase':<8}{'records':>10}{'seconds':>10}{'records/s':>12}{'server peak MB':>16}")
        for phase in outcome.phases:
            peak = f"{phase.peak_mb:.1f}" if phase.peak_mb is not None else "-"
            write(f"{phase.name:<8}{phase.records:>10,}{phase.seconds:>10.2f}{phase.rate:>12,.0f}{peak:>16}")
        if options["seed_direct"]:
            write("(create/update: rows written directly with the ORM, not timed)")
        write(
            f"(pull includes its first page, {outcome.first_page_seconds:.2f} s, which positions every change "
            "written since the last pull in the change index)"
        )
        verdict = self.style.SUCCESS("OK") if outcome.count_ok else self.style.ERROR("FAILED")
        write(
            f"\ncount check: pulled {outcome.pulled:,} rows ({outcome.distinct:,} distinct) for {outcome.expected:,} written; "
            f"missing {outcome.missing}, not in their latest state {outcome.stale}: {verdict}"
        )
        if outcome.baseline_mb is not None and outcome.peak_mb is not None:
            write(
                f"server memory: {outcome.baseline_mb:.1f} MB before the workload, peak {outcome.peak_mb:.1f} MB "
                f"(+{outcome.peak_mb - outcome.baseline_mb:.1f} MB)"
            )
        if outcome.throttled_seconds:
            write(
                self.style.WARNING(
                    f"throttled (429) for {outcome.throttled_seconds:.0f} s in total, included in the times"
                )
            )
