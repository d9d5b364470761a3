from __future__ import annotations

import pytest

from sbsync.monitoring.stats import metrics_summary, percentile
from tests.factories import make_metrics


@pytest.mark.parametrize(
    ("values", "fraction", "expected"),
    [
        ([1.0, 2.0], 0.5, 1.0),
        ([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 0.5, 3.0),
        ([1.0, 2.0, 3.0, 4.0], 0.5, 2.0),
        ([1.0, 2.0, 3.0], 0.5, 2.0),
        ([float(n) for n in range(1, 101)], 0.07, 7.0),
        ([float(n) for n in range(1, 21)], 0.95, 19.0),
        ([1.0, 2.0], 0.0, 1.0),
        ([1.0, 2.0], 1.0, 2.0),
        ([], 0.5, 0.0),
    ],
)
def test_percentile_is_the_value_at_the_nearest_rank(values, fraction, expected):
    assert percentile(values, fraction) == expected


@pytest.mark.parametrize("operations", [["PUSH"], ["PUSH", "PULL", "PUSH_ASYNC"]])
def test_metrics_summary_reads_the_samples_in_two_queries_whatever_the_operations(
    db, django_assert_num_queries, operations
):
    for op in operations:
        make_metrics(operation_type=op, processing_time=0.1, batch_size=4)
        make_metrics(operation_type=op, processing_time=0.3, batch_size=6)

    with django_assert_num_queries(2):
        summary = metrics_summary()

    assert {
        op: (s["count"], s["p50"], s["maximum"], s["average_batch_size"]) for op, s in summary.items()
    } == {op: (2, 0.1, 0.3, 5.0) for op in operations}
