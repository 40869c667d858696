"""The in-memory copy of ``recent`` answers like the table it mirrors."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from gateway.metrics.store.recent import RecentIndex

puts = st.tuples(st.integers(1, 3), st.integers(0, 200), st.floats(allow_nan=False))
steps = st.lists(st.one_of(puts, st.integers(0, 200)), max_size=80)


@given(steps)
def test_rows_match_a_plain_table_after_any_puts_and_cuts(ops: list[object]) -> None:
    index = RecentIndex()
    table: dict[tuple[int, int], float] = {}  # (series, ts) -> value, like the primary key
    for op in ops:
        if isinstance(op, tuple):
            series_id, ts, value = op
            index.put(series_id, ts, value)
            table[(series_id, ts)] = value
        else:  # a compaction moved everything before `op` out
            assert isinstance(op, int)
            index.drop_before(op)
            table = {k: v for k, v in table.items() if k[1] >= op}
    for series_id in (1, 2, 3, 4):
        for start, end in ((0, 200), (50, 120), (120, 50)):
            want = sorted(
                (ts, v) for (s, ts), v in table.items() if s == series_id and start <= ts <= end
            )
            assert index.rows(series_id, start, end) == want
    index.forget([1])
    assert index.rows(1, 0, 200) == []
