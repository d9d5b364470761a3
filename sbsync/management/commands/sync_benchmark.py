"""``sync_benchmark``: records per second, server CPU and SQL statements of push and pull through the
HTTP API, against a bare baseline in the same run (sbsync/benchmark/ does the work)."""

from __future__ import annotations

import socket
from argparse import ArgumentParser
from contextlib import ExitStack
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.urls import reverse

from sbsync.benchmark.bare import LABEL as BARE_LABEL
from sbsync.benchmark.bare import PREFIX as BARE_PREFIX
from sbsync.benchmark.compare import BARE, SBSYNC, Figures, Target, figures, paired_ratio, run_rounds
from sbsync.benchmark.servers import ServerSampler, migrate_baseline, started_server
from sbsync.benchmark.workload import (
    ApiClient,
    BenchmarkError,
    Outcome,
    create_baseline_account,
    create_benchmark_account,
    run_workload,
    seed_rows,
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _number(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


class Command(BaseCommand):
    help = (
        "Run a push/pull workload of --records rows through the HTTP API and print, for create, update and "
        "pull-to-the-end, records per second, server CPU per 1,000 records, SQL statements per request and "
        "the server's peak memory, for sbsync and for a bare baseline server (one upsert per push, one keyset "
        "query per pull page) started alike on the same database; runs alternate, figures are medians of "
        "--rounds, and the ratios sbsync/baseline are printed. With --url it measures a running server "
        "instead (give --username, --password and --organization; --server-pid to sample it)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--records",
            type=int,
            default=10_000,
            help="rows to create, update and pull per client (default 10000)",
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
            help="write the rows before timing (ORM for sbsync, untimed pushes for the baseline); measure pull alone",
        )
        parser.add_argument("--rounds", type=int, default=3, help="alternating runs per server (default 3)")
        parser.add_argument(
            "--clients",
            type=int,
            default=1,
            help="concurrent clients, each in its own organization (default 1)",
        )
        parser.add_argument(
            "--workers", type=int, default=2, help="gunicorn sync worker processes per server (default 2)"
        )
        parser.add_argument(
            "--no-baseline", action="store_true", help="measure sbsync alone, without the bare server"
        )
        parser.add_argument(
            "--no-history",
            action="store_true",
            help="servers run with SIMPLE_HISTORY_ENABLED off: what recording history costs",
        )
        parser.add_argument(
            "--filtered",
            action="store_true",
            help="the benchmark group gets a data filter every row passes: what row filters cost",
        )
        parser.add_argument(
            "--port", type=int, help="port of the sbsync server the benchmark starts (default: a free one)"
        )
        parser.add_argument(
            "--baseline-port", type=int, help="port of the baseline server (default: a free one)"
        )
        parser.add_argument(
            "--url", help="API root of a running server, e.g. http://127.0.0.1:8000/api/sync/"
        )
        parser.add_argument("--username", help="with --url: the account to push and pull as")
        parser.add_argument("--password", help="with --url: its password")
        parser.add_argument("--organization", help="with --url: organization slug (X-Sync-Organization)")
        parser.add_argument(
            "--server-pid",
            type=int,
            help="with --url: process id of the server, to sample its memory and CPU",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        for name in ("records", "batch", "rounds", "clients", "workers"):
            if options[name] < 1:
                raise CommandError(f"--{name} must be at least 1.")
        try:
            if options["url"]:
                outcome, where = self.measure_running(options)
                self.report_running(options, outcome, where)
                failed = not outcome.count_ok
            else:
                failed = self.compare(options)
        except BenchmarkError as exc:
            raise CommandError(str(exc)) from None
        if failed:
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
        sampler = ServerSampler(options["server_pid"]) if options["server_pid"] else None
        try:
            client.login(options["username"], options["password"])
            if sampler:
                sampler.start()
            baseline = sampler.sample() if sampler else None
            outcome = run_workload(
                client,
                label=options["model"],
                records=options["records"],
                batch=options["batch"],
                sampler=sampler,
                seeded=seeded,
                exact=False,
            )
        finally:
            client.close()
            if sampler:
                sampler.stopped.set()
                sampler.join()
        if sampler:
            outcome.baseline_mb, outcome.peak_mb = baseline, sampler.peak
        return outcome, f"server at {options['url']}" + (
            "" if sampler else " (memory not sampled: no --server-pid)"
        )

    def compare(self, options: dict[str, Any]) -> bool:
        """Start the servers, run the rounds, print the figures; True when a count check failed."""
        label, workers = options["model"], options["workers"]
        baseline = not options["no_baseline"]
        if baseline:
            migrate_baseline()
        api = reverse("sbsync:pull").removesuffix("pull/")
        with ExitStack() as stack:
            targets = []
            for name, port, path, model in [
                (SBSYNC, options["port"], api, label),
                *([(BARE, options["baseline_port"], "/" + BARE_PREFIX, BARE_LABEL)] if baseline else []),
            ]:
                port = port or _free_port()
                server = stack.enter_context(started_server(port, workers, history=not options["no_history"]))
                sampler = ServerSampler(server.pid)
                sampler.start()
                stack.callback(sampler.join)
                stack.callback(sampler.stopped.set)
                targets.append(
                    Target(
                        name=name,
                        url=f"http://127.0.0.1:{port}{path}",
                        label=model,
                        sampler=sampler,
                        account=(lambda: create_benchmark_account(label, filtered=options["filtered"]))
                        if name == SBSYNC
                        else create_baseline_account,
                        seed=(lambda account, count: seed_rows(label, account.organization, count))
                        if name == SBSYNC
                        else None,
                    )
                )
            if baseline:
                targets.reverse()
            self.stdout.write(
                f"{options['records']:,} records per client of {label} (baseline: {BARE_LABEL}), batches of "
                f"{options['batch']}, {options['clients']} client(s), {options['rounds']} round(s); database: "
                f"{connection.vendor}; gunicorn, {workers} sync worker(s) per server; history "
                f"{'off' if options['no_history'] else 'on'}; row filter {'on' if options['filtered'] else 'off'}\n"
            )
            outcomes = run_rounds(
                targets,
                rounds=options["rounds"],
                clients=options["clients"],
                records=options["records"],
                batch=options["batch"],
                seed_direct=options["seed_direct"],
                progress=self.progress,
            )
        self.report(outcomes)
        return not all(o.count_ok for runs in outcomes.values() for o in runs)

    def progress(self, number: int, target: Target, outcome: Outcome) -> None:
        rates = ", ".join(f"{p.name} {p.rate:,.0f}/s" for p in outcome.phases)
        verdict = (
            "count OK"
            if outcome.count_ok
            else self.style.ERROR(
                f"count FAILED (pulled {outcome.pulled}, distinct {outcome.distinct}, expected {outcome.expected}, "
                f"missing {outcome.missing}, stale {outcome.stale})"
            )
        )
        self.stdout.write(f"round {number + 1} {target.name:<7} {rates}; {verdict}")

    def report(self, outcomes: dict[str, list[Outcome]]) -> None:
        write = self.stdout.write
        write(
            f"\n{'phase':<8}{'server':<8}{'records/s':>11}{'CPU s/1k rec':>14}{'statements/req':>16}{'peak MB':>9}"
        )
        names = [p.name for p in outcomes[SBSYNC][0].phases]
        for phase in names:
            found: dict[str, Figures | None] = {name: figures(runs, phase) for name, runs in outcomes.items()}
            for name in (BARE, SBSYNC):
                row = found.get(name)
                if row is None:
                    continue
                write(
                    f"{phase:<8}{name:<8}{row.rate:>11,.0f}{_number(row.cpu_per_thousand, '.3f'):>14}"
                    f"{_number(row.statements_per_request, '.1f'):>16}{_number(row.peak_mb, '.1f'):>9}"
                )
            if BARE in outcomes:
                ours, theirs = outcomes[SBSYNC], outcomes[BARE]
                rate = paired_ratio(ours, theirs, phase, lambda p: p.rate)
                cpu = paired_ratio(ours, theirs, phase, lambda p: p.cpu_per_thousand)
                statements = paired_ratio(ours, theirs, phase, lambda p: p.statements_per_request)
                write(
                    self.style.SUCCESS(
                        f"{phase:<8}{'ratio':<8}{_number(rate, '.2f'):>11}{_number(cpu, '.2f') + 'x':>14}"
                        f"{_number(statements, '.1f') + 'x':>16}"
                    )
                )
        write(
            "(figures: medians over the rounds; ratios: the median of each round's sbsync / baseline, for records/s "
            "higher is better, for CPU and statements lower is better; CPU: user + system time of the gunicorn "
            "processes; statements: those sent through a cursor, commits not counted)"
        )
        runs = [o for each in outcomes.values() for o in each]
        failed = [o for o in runs if not o.count_ok]
        verdict = self.style.SUCCESS("all exact") if not failed else self.style.ERROR(f"{len(failed)} FAILED")
        write(f"count check: {len(runs)} runs, {verdict}")
        throttled = sum(o.throttled_seconds for o in runs)
        if throttled:
            write(
                self.style.WARNING(f"throttled (429) for {throttled:.0f} s in total, included in the times")
            )

    def report_running(self, options: dict[str, Any], outcome: Outcome, where: str) -> None:
        write = self.stdout.write
        write(f"\n{options['records']:,} records of {options['model']}, batches of {options['batch']}")
        write(f"database: {connection.vendor}; {where}\n")
        write(
            f"{'phase':<8}{'records':>10}{'seconds':>10}{'records/s':>12}{'CPU s/1k rec':>14}{'server peak MB':>16}"
        )
        for phase in outcome.phases:
            write(
                f"{phase.name:<8}{phase.records:>10,}{phase.seconds:>10.2f}{phase.rate:>12,.0f}"
                f"{_number(phase.cpu_per_thousand, '.3f'):>14}{_number(phase.peak_mb, '.1f'):>16}"
            )
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
