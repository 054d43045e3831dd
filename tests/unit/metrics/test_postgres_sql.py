"""The PostgreSQL store's pure half: partition names, retention cut-offs, the COPY payload, the
decoding of query results, and the write statement's shape (no server)."""

from __future__ import annotations

import struct

import numpy as np

from dashboard.metrics.steps import DAY, HOUR, MINUTE, ROLLUPS, STEPS
from dashboard.metrics.stores.postgres_sql import (
    COPY_HEAD_SQL,
    DAY_HEAD_SQL,
    READ_SQL,
    TAKE_HEAD_SQL,
    TIERS,
    days_around,
    days_of,
    decode_raw,
    encode_copy,
    partition_day,
    partition_name,
    retention_cutoffs,
    stage_columns,
)

D = 1_700_006_400_000  # 2023-11-15 00:00 UTC


def test_partition_names_are_utc_days_and_parse_back() -> None:
    """``points_pYYYYMMDD`` names the UTC day and gives its first millisecond back."""
    assert partition_name(D) == "points_p20231115"
    assert partition_name(D, "chunks") == "chunks_p20231115"
    assert partition_day("chunks_p20231115") == D
    assert partition_day("points_p20231115") == D
    assert partition_day("points") is None and partition_day("rollup_1m") is None


def test_days_of_points_and_days_around_now() -> None:
    """The distinct days points fall into, ascending; and the partitions kept ahead of now."""
    ts = np.array([D + DAY + 5, D, D + HOUR, D + DAY - 1], dtype=np.int64)
    assert days_of(ts) == [D, D + DAY]
    assert days_of(np.empty(0, dtype=np.int64)) == []
    assert days_around(D + 3 * HOUR) == [D - DAY, D, D + DAY, D + 2 * DAY]


def test_retention_cutoffs_keep_whole_units_that_end_within_retention() -> None:
    """Raw is cut at a day, rollups at a bucket: whatever ends before ``now - retention`` goes."""
    now = D + 10 * DAY + 90 * MINUTE + 17
    cuts = retention_cutoffs(now)
    assert list(cuts) == list(TIERS) == [s.name for s in STEPS]
    assert cuts["raw"] == D + 9 * DAY  # the day holding now - 1 day, kept whole
    assert cuts["1m"] == D + 9 * DAY + 90 * MINUTE
    assert cuts["5m"] == D + 3 * DAY + 90 * MINUTE
    for step in ROLLUPS:
        assert cuts[step.name] % step.width_ms == 0
        assert cuts[step.name] <= now - step.retention_ms < cuts[step.name] + step.width_ms


def test_staged_rows_are_sorted_with_the_last_value_per_timestamp() -> None:
    """Staging keeps the last of duplicate points (as the stores do), sorted by series, time."""
    sid, ts, value = stage_columns(
        [
            (2, np.array([5, 1]), np.array([50.0, 10.0])),
            (1, np.array([3]), np.array([3.0])),
            (2, np.array([5]), np.array([99.0])),
        ]
    )
    assert sid.tolist() == [1, 2, 2] and ts.tolist() == [3, 1, 5] and value.tolist() == [3, 10, 99]
    payload = encode_copy(sid, ts, value)
    assert payload.startswith(b"PGCOPY\n\xff\r\n\x00") and payload.endswith(b"\xff\xff")
    assert len(payload) == 19 + 3 * (2 + 3 * 4 + 4 + 8 + 8) + 2
    assert decode_raw(None)[0].size == 0


def test_nothing_staged_gives_empty_typed_columns() -> None:
    """An empty batch stages three empty columns of the COPY types."""
    sid, ts, value = stage_columns([])
    assert sid.dtype == np.int32 and ts.dtype == np.int64 and value.dtype == np.float64
    assert sid.size == ts.size == value.size == 0


def test_the_copy_rows_carry_each_field_big_endian() -> None:
    """A COPY row is a field count, then length-prefixed int4, int8 and float8 fields."""
    payload = encode_copy(np.array([7], np.int32), np.array([D], np.int64), np.array([2.5]))
    row = payload[19:-2]
    assert struct.unpack("!hiiiqid", row) == (3, 4, 7, 8, D, 8, 2.5)


def test_query_records_decode_to_numpy_columns() -> None:
    """``int8send || float8send`` records decode to int64 and float64 columns."""
    raw = struct.pack("!qd", D, 1.5) + struct.pack("!qd", D + 1, -2.0)
    ts, value = decode_raw(raw)
    assert ts.tolist() == [D, D + 1] and value.tolist() == [1.5, -2.0] and ts.dtype == np.int64
    assert decode_raw(None)[0].size == 0


def test_the_head_is_appended_and_read_newest_last() -> None:
    """A write appends to the head by COPY; every statement that reads the head orders a
    timestamp's rows by ``seq`` (rows of earlier versions, without one, first), so the store
    keeps the last row of each timestamp: the newest value."""
    assert COPY_HEAD_SQL.startswith("COPY points (series_id, ts, value)")
    for statement in (READ_SQL, TAKE_HEAD_SQL, DAY_HEAD_SQL):
        assert "ORDER BY ts, seq NULLS FIRST" in " ".join(statement.split())
