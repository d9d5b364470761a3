from __future__ import annotations

import pytest

from sbsync.sync.stats import percentile


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
