"""Runs of the workload against the bare baseline and sbsync, alternating, and their medians.

Each round runs every target once, in alternating order (bare first in even rounds, sbsync first in odd
ones), each time with fresh organizations, so neither side always runs on a warmer machine. A figure of a
target is the median of its rounds; a ratio is the median of the rounds' ratios sbsync / baseline.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass

from sbsync.benchmark.servers import ServerSampler
from sbsync.benchmark.workload import Account, ApiClient, Outcome, Phase, Workload, run_phases

BARE = "bare"
SBSYNC = "sbsync"


@dataclass
class Target:
    name: str
    url: str
    label: str
    sampler: ServerSampler
    account: Callable[[], Account]
    seed: Callable[[Account, int], dict[str, str]] | None
    """Writes rows directly for ``--seed-direct``; ``None``: through untimed pushes."""


@dataclass
class Figures:
    """Medians over the rounds of one phase of one target."""

    rate: float
    cpu_per_thousand: float | None
    statements_per_request: float | None
    peak_mb: float | None


def run_target(target: Target, *, clients: int, records: int, batch: int, seed_direct: bool) -> Outcome:
    """One round of one target: ``clients`` clients, each in a fresh organization of its own."""
    workloads: list[Workload] = []
    try:
        for _ in range(clients):
            account = target.account()
            seeded = target.seed(account, records) if seed_direct and target.seed else None
            client = ApiClient(target.url, account.organization)
            client.login(account.username, account.password)
            # What a new client does first: its first pull enters the organization in the change index.
            client.expect("POST", "pull/", {"models": {target.label: None}, "batch_size": 1})
            workload = Workload(client, label=target.label, records=records, batch=batch, seeded=seeded)
            if seed_direct and seeded is None:
                workload.seed_through_push()
            workloads.append(workload)
        return run_phases(workloads, target.sampler)
    finally:
        for workload in workloads:
            workload.client.close()


def run_rounds(
    targets: list[Target],
    *,
    rounds: int,
    clients: int,
    records: int,
    batch: int,
    seed_direct: bool,
    progress: Callable[[int, Target, Outcome], None] | None = None,
) -> dict[str, list[Outcome]]:
    outcomes: dict[str, list[Outcome]] = {target.name: [] for target in targets}
    for number in range(rounds):
        for target in targets if number % 2 == 0 else targets[::-1]:
            outcome = run_target(
                target, clients=clients, records=records, batch=batch, seed_direct=seed_direct
            )
            outcomes[target.name].append(outcome)
            if progress:
                progress(number, target, outcome)
    return outcomes


def _median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def figures(outcomes: list[Outcome], phase: str) -> Figures | None:
    phases: list[Phase] = [p for p in (o.phase(phase) for o in outcomes) if p is not None]
    if not phases:
        return None
    return Figures(
        rate=statistics.median(p.rate for p in phases),
        cpu_per_thousand=_median([p.cpu_per_thousand for p in phases]),
        statements_per_request=_median([p.statements_per_request for p in phases]),
        peak_mb=_median([p.peak_mb for p in phases]),
    )


def ratio(ours: float | None, theirs: float | None) -> float | None:
    if ours is None or not theirs:
        return None
    return ours / theirs


def paired_ratio(
    ours: list[Outcome], theirs: list[Outcome], phase: str, metric: Callable[[Phase], float | None]
) -> float | None:
    """The median over the rounds of each round's ratio of ``metric``: the two runs of a round are back to
    back, so they share the machine's load, which a ratio of medians over all rounds would not."""
    ratios = []
    for mine, other in zip(ours, theirs, strict=True):
        a, b = mine.phase(phase), other.phase(phase)
        if a is not None and b is not None:
            ratios.append(ratio(metric(a), metric(b)))
    return _median(ratios)
