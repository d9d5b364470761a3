"""The performance page's figures: recorded samples bucketed over time (charts) and broken down per
operation and model. Percentiles are ``sbsync.monitoring.stats``'s, so they match the API's.

Records per second count only the records requests applied (``records_applied``: a partial push of 10
with 3 refused moved 7, a dry run none): a refused request (status ERROR: every record forbidden or
invalid, a 4xx pull) moved no records, so it is left out of throughput and counted apart as "refused". Timings include every request: a slow refusal is still a slow answer."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from sbsync.enums import LogStatus
from sbsync.models import PerformanceMetrics
from sbsync.monitoring.stats import TimingSummary, percentile, timing_summary
from sbsync.ui.charts import Chart, Series, line_chart

MAX_SAMPLES = 50_000
CSS = ("s1", "s2", "s3", "s4", "s5", "s6")


@dataclass(frozen=True)
class Sample:
    timestamp: datetime
    operation: str
    model: str
    batch: int
    applied: int
    seconds: float
    queries: int
    memory: float | None
    status: str

    @property
    def refused(self) -> bool:
        return self.status == LogStatus.ERROR


@dataclass(frozen=True)
class Breakdown:
    operation: str
    model: str
    timings: TimingSummary
    average_batch: float
    average_queries: float
    peak_memory: float | None
    records_per_second: float | None
    refused: int


def load_samples(metrics: QuerySet[PerformanceMetrics]) -> tuple[list[Sample], bool]:
    """The newest MAX_SAMPLES samples of ``metrics``, oldest first, and whether more were left out."""
    rows = list(
        metrics.order_by("-timestamp", "-id").values_list(
            "timestamp",
            "operation_type",
            "model_name",
            "batch_size",
            "records_applied",
            "processing_time",
            "query_count",
            "memory_usage",
            "status",
        )[: MAX_SAMPLES + 1]
    )
    capped = len(rows) > MAX_SAMPLES
    return [Sample(*row) for row in reversed(rows[:MAX_SAMPLES])], capped


def bucket_width(start: datetime, end: datetime) -> timedelta:
    return timedelta(hours=1) if end - start <= timedelta(days=2) else timedelta(days=1)


def bucket_of(moment: datetime, width: timedelta) -> datetime:
    local = timezone.localtime(moment).replace(minute=0, second=0, microsecond=0)
    return local.replace(hour=0) if width >= timedelta(days=1) else local


def _series(
    samples: Iterable[Sample],
    width: timedelta,
    reduce: Callable[[list[Sample]], float | None],
    *,
    name: str,
    css: str,
    dashed: bool = False,
) -> Series:
    buckets: dict[datetime, list[Sample]] = defaultdict(list)
    for sample in samples:
        buckets[bucket_of(sample.timestamp, width)].append(sample)
    points = [(moment, value) for moment in sorted(buckets) if (value := reduce(buckets[moment])) is not None]
    return Series(name=name, points=points, css=css, dashed=dashed)


def _p(fraction: float) -> Callable[[list[Sample]], float]:
    return lambda group: percentile(sorted(s.seconds for s in group), fraction)


def _throughput(group: list[Sample]) -> float | None:
    """Records applied per processing second of the requests that did work; None when every one was
    refused."""
    worked = [s for s in group if not s.refused]
    if not worked:
        return None
    seconds = sum(s.seconds for s in worked)
    return sum(s.applied for s in worked) / seconds if seconds > 0 else 0.0


def _average(attribute: str) -> Callable[[list[Sample]], float]:
    return lambda group: sum(getattr(s, attribute) for s in group) / len(group)


def _peak_memory(group: list[Sample]) -> float | None:
    return max((s.memory for s in group if s.memory is not None), default=None)


def build_charts(samples: list[Sample], start: datetime, end: datetime) -> list[Chart]:
    """Processing time (p50 solid, p95 dashed), records per second, batch size and queries per
    operation, and peak memory, each bucketed by hour (up to 2 days) or day."""
    width = bucket_width(start, end)
    by_op: dict[str, list[Sample]] = defaultdict(list)
    for sample in samples:
        by_op[sample.operation].append(sample)
    ops = sorted(by_op)
    css = {op: CSS[i % len(CSS)] for i, op in enumerate(ops)}
    start, end = bucket_of(start, width), bucket_of(end, width) + width

    def per_op(
        reduce: Callable[[list[Sample]], float | None], suffix: str = "", dashed: bool = False
    ) -> list[Series]:
        return [
            _series(by_op[op], width, reduce, name=f"{op}{suffix}", css=css[op], dashed=dashed) for op in ops
        ]

    return [
        line_chart(
            title="Processing time (p50 and p95)",
            unit="s",
            start=start,
            end=end,
            bucket=width,
            series=[*per_op(_p(0.50), " p50"), *per_op(_p(0.95), " p95", dashed=True)],
        ),
        line_chart(
            title="Records per second (refused requests left out)",
            unit="",
            start=start,
            end=end,
            bucket=width,
            series=per_op(_throughput),
        ),
        line_chart(
            title="Average batch size",
            unit="",
            start=start,
            end=end,
            bucket=width,
            series=per_op(_average("batch")),
        ),
        line_chart(
            title="Average queries per operation",
            unit="",
            start=start,
            end=end,
            bucket=width,
            series=per_op(_average("queries")),
        ),
        line_chart(
            title="Peak memory (MB)",
            unit="",
            start=start,
            end=end,
            bucket=width,
            series=[_series(samples, width, _peak_memory, name="all operations", css="s5")],
        ),
    ]


def breakdown(samples: list[Sample]) -> list[Breakdown]:
    """Per operation and model: timing percentiles, batch, queries, memory, throughput and refusals."""
    groups: dict[tuple[str, str], list[Sample]] = defaultdict(list)
    for sample in samples:
        groups[(sample.operation, sample.model)].append(sample)
    return [
        Breakdown(
            operation=op,
            model=model,
            timings=timing_summary([s.seconds for s in group]),
            average_batch=_average("batch")(group),
            average_queries=_average("queries")(group),
            peak_memory=_peak_memory(group),
            records_per_second=_throughput(group),
            refused=sum(s.refused for s in group),
        )
        for (op, model), group in sorted(groups.items())
    ]
