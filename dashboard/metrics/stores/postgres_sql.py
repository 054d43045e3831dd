"""The PostgreSQL store's SQL text and binary formats (pure: no psycopg, no connection).

The statements the store runs, the names of its daily partitions (the head ``points_p*`` and the
raw chunks ``chunks_p*``), the retention cut-offs per tier, and the binary COPY payload of a
write and the ``bytea`` records a read returns (``int8send``/``float8send``), encoded and
decoded with numpy.

The statements are f-strings of this module's constants only (table names, tier names, step
widths, ``INT64_MIN``): no input ever reaches their text, values travel as parameters or in
the COPY payload. Bandit's B608 (SQL built from strings) is accepted on each one, marked
``# nosec B608 # constants only``.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np

from dashboard.metrics.steps import DAY, RAW, STEPS, Step

TIERS: tuple[str, ...] = tuple(s.name for s in STEPS)
PARTITION_WIDTH = DAY
INT64_MIN = -(2**63)
# Advisory lock class ids: partition creation ("dbpt") and retention ("dbrt").
PARTITION_LOCK = 0x64627074
RETENTION_LOCK = 0x64627274
_PARTITION_RE = re.compile(r"^(?:points|chunks)_p(\d{8})$")
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)
_COPY_TRAILER = struct.pack("!h", -1)
_COPY_ROW = np.dtype(
    [
        ("n", ">i2"),
        ("l_sid", ">i4"),
        ("sid", ">i4"),
        ("l_ts", ">i4"),
        ("ts", ">i8"),
        ("l_value", ">i4"),
        ("value", ">f8"),
    ]
)
_RAW_ROW = np.dtype([("ts", ">i8"), ("value", ">f8")])

# --- names and cut-offs -----------------------------------------------------------------


def partition_name(day_start_ms: int, table: str = "points") -> str:
    """The partition of ``table`` (``points``, the head, or ``chunks``) for the UTC day starting
    at ``day_start_ms``: ``points_pYYYYMMDD``."""
    day = datetime.fromtimestamp(day_start_ms // 1000, UTC)
    return f"{table}_p{day:%Y%m%d}"


def partition_day(name: str) -> int | None:
    """The first millisecond of a raw partition, from its name (None for other tables)."""
    match = _PARTITION_RE.match(name)
    if not match:
        return None
    day = datetime.strptime(match.group(1), "%Y%m%d").replace(tzinfo=UTC)
    return int(day.timestamp()) * 1000


def days_of(ts: np.ndarray) -> list[int]:
    """The distinct day starts (Unix ms) that the timestamps fall into, ascending."""
    if ts.size == 0:
        return []
    return [int(d) * PARTITION_WIDTH for d in np.unique(ts // PARTITION_WIDTH)]


def days_around(now_ms: int, before: int = 1, after: int = 2) -> list[int]:
    """Day starts from ``before`` days before today to ``after`` days after it."""
    today = now_ms // PARTITION_WIDTH * PARTITION_WIDTH
    return [today + i * PARTITION_WIDTH for i in range(-before, after + 1)]


def retention_cutoffs(now_ms: int, raw_retention_ms: int = RAW.retention_ms) -> dict[str, int]:
    """Per tier, the first kept unit start: a bucket (or a raw day) ending before the tier's
    retention (``start + width <= now - retention``) is dropped; everything from here is kept.
    Raw points are kept ``raw_retention_ms`` (a setting; one day by default)."""
    out = {}
    for step in STEPS:
        width = PARTITION_WIDTH if step == RAW else step.width_ms
        keep = raw_retention_ms if step == RAW else step.retention_ms
        out[step.name] = (now_ms - keep) // width * width
    return out


def stage_columns(
    parts: Sequence[tuple[int, np.ndarray, np.ndarray]],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(series_id, ts, value)`` columns sorted by series and time, the last value given per
    timestamp (later parts after earlier ones, later points of a part after earlier ones)."""
    if not parts:
        empty = np.empty(0, dtype=np.int64)
        return empty.astype(np.int32), empty, np.empty(0)
    sid = np.concatenate([np.full(ts.size, s, dtype=np.int32) for s, ts, _ in parts])
    ts = np.concatenate([np.asarray(ts, dtype=np.int64) for _, ts, _ in parts])
    value = np.concatenate([np.asarray(v, dtype=np.float64) for _, _, v in parts])
    order = np.lexsort((ts, sid))  # stable: equal (sid, ts) stay in the order given
    sid, ts, value = sid[order], ts[order], value[order]
    if ts.size > 1:
        keep = np.ones(ts.size, dtype=bool)
        keep[:-1] = (ts[1:] != ts[:-1]) | (sid[1:] != sid[:-1])
        sid, ts, value = sid[keep], ts[keep], value[keep]
    return sid, ts, value


def encode_copy(sid: np.ndarray, ts: np.ndarray, value: np.ndarray) -> bytes:
    """A binary COPY payload of ``(integer, bigint, double precision)`` rows."""
    rows = np.empty(ts.size, dtype=_COPY_ROW)
    rows["n"] = 3
    rows["l_sid"] = 4
    rows["sid"] = sid
    rows["l_ts"] = 8
    rows["ts"] = ts
    rows["l_value"] = 8
    rows["value"] = value
    return _COPY_HEADER + rows.tobytes() + _COPY_TRAILER


def decode_raw(data: bytes | None) -> tuple[np.ndarray, np.ndarray]:
    """``(ts, value)`` from the concatenated ``int8send(ts) || float8send(value)`` records."""
    rows = np.frombuffer(data or b"", dtype=_RAW_ROW)
    return rows["ts"].astype(np.int64), rows["value"].astype(np.float64)


def rollup_table(step: Step) -> str:
    """The table holding one rollup step."""
    return f"rollup_{step.name}"


COPY_HEAD_SQL = "COPY points (series_id, ts, value) FROM STDIN (FORMAT BINARY)"
RAW_HORIZON_SQL = f"""
SELECT coalesce(max(horizon) FILTER (WHERE tier = 'raw'), {INT64_MIN}) FROM retention_horizon
"""  # nosec B608 # constants only
# A write's spans that change a series' row: a new series, a point older than its first, a new
# unit (a newer point widens the span when it is sealed; LIST_SERIES_SQL adds the head's span).
SPANS_SQL = """
UPDATE series s SET first_ts = least(s.first_ts, u.f), last_ts = greatest(s.last_ts, u.l),
    unit = CASE WHEN u.unit <> '' THEN u.unit ELSE s.unit END
FROM unnest(%s::integer[], %s::bigint[], %s::bigint[], %s::text[]) AS u(id, f, l, unit)
WHERE s.id = u.id
"""

# A read: the series' raw chunks whose window overlaps the range (kind 0), its head points in the
# range (kind 1, one bytea of int8send(ts) || float8send(value) records), the rollup chunks of a
# tier (kind 2), the raw horizon (kind 3) and the step's (kind 4), in one statement, so in one
# snapshot: a seal that commits meanwhile moves points from the head into a chunk without a
# reader seeing both or none.
READ_SQL = f"""
SELECT 0 AS kind, start, data FROM chunks
WHERE series_id = %(sid)s AND start BETWEEN %(clo)s AND %(hi)s
UNION ALL
SELECT 1, 0, string_agg(int8send(ts) || float8send(value), ''::bytea
                        ORDER BY ts, seq NULLS FIRST) FROM points
WHERE series_id = %(sid)s AND ts BETWEEN %(lo)s AND %(hi)s
UNION ALL
SELECT 2, start, data FROM rollups
WHERE series_id = %(sid)s AND tier = %(tier)s AND start BETWEEN %(rlo)s AND %(rhi)s
UNION ALL
SELECT 3, coalesce(max(horizon) FILTER (WHERE tier = 'raw'), {INT64_MIN}), NULL
FROM retention_horizon
UNION ALL
SELECT 4, coalesce(max(horizon) FILTER (WHERE tier = %(step)s), {INT64_MIN}), NULL
FROM retention_horizon
ORDER BY 1, 2
"""  # nosec B608 # constants only

# --- sealing --------------------------------------------------------------------------------

SEAL_LOCK = 0x64627365  # "dbse": one sealer at a time per schema
# The ids of series (after a given id) with head points, a batch at a time.
SEAL_SERIES_SQL = (
    "SELECT s.id FROM series s WHERE s.id > %s"
    " AND EXISTS (SELECT 1 FROM points p WHERE p.series_id = s.id) ORDER BY s.id LIMIT %s"
)
# Take the head of some series: delete its rows, one bytea of (ts, value) records a series.
TAKE_HEAD_SQL = """
WITH d AS (DELETE FROM points WHERE series_id = ANY(%b::integer[])
           RETURNING series_id, ts, value, seq)
SELECT series_id, string_agg(int8send(ts) || float8send(value), ''::bytea
                             ORDER BY ts, seq NULLS FIRST)
FROM d GROUP BY series_id ORDER BY series_id
"""
CHUNKS_AT_SQL = (
    "SELECT c.series_id, c.start, c.data FROM chunks c"
    " JOIN unnest(%b::integer[], %b::bigint[]) AS w(sid, start)"
    " ON c.series_id = w.sid AND c.start = w.start"
)
UPSERT_CHUNKS_SQL = (
    "INSERT INTO chunks (series_id, start, count, data)"
    " SELECT * FROM unnest(%b::integer[], %b::bigint[], %b::integer[], %b::bytea[])"
    " ON CONFLICT (series_id, start) DO UPDATE SET count = excluded.count, data = excluded.data"
)
# Retention: a raw day's chunks and unsealed head, a series at a time, to seal its rollups.
DAY_CHUNKS_SQL = "SELECT series_id, start, data FROM {} ORDER BY series_id, start"
DAY_HEAD_SQL = (
    "SELECT series_id, string_agg(int8send(ts) || float8send(value), ''::bytea"
    " ORDER BY ts, seq NULLS FIRST) FROM {} GROUP BY series_id"
)
ROLLUPS_AT_SQL = (
    "SELECT r.series_id, r.start, r.data FROM rollups r"
    " JOIN unnest(%s::integer[], %s::bigint[]) AS w(sid, start)"
    " ON r.series_id = w.sid AND r.start = w.start WHERE r.tier = %s"
)
UPSERT_ROLLUPS_SQL = (
    "INSERT INTO rollups (series_id, tier, start, data)"
    " SELECT sid, %s, start, data FROM unnest(%s::integer[], %s::bigint[], %b::bytea[])"
    " AS u(sid, start, data)"
    " ON CONFLICT (series_id, tier, start) DO UPDATE SET data = excluded.data"
)
DELETE_ROLLUPS_SQL = "DELETE FROM rollups WHERE tier = %s AND start + %s <= %s"
# Before chunks: rollup tables of row-per-bucket, converted into rollup chunks by the upgrade.
OLD_ROLLUP_SQL = (
    "SELECT series_id, bucket, min, max, sum, count, last FROM {}"
    " WHERE bucket < %s ORDER BY series_id, bucket"
)


# --- the other statements -----------------------------------------------------------------

INSERT_SERIES_SQL = (
    "INSERT INTO series (key, name, labels, unit)"
    " SELECT k, n, l::jsonb, u FROM unnest(%s::text[], %s::text[], %s::text[],"
    " %s::text[]) AS t(k, n, l, u) ORDER BY k ON CONFLICT (key) DO NOTHING"
)
SERIES_IDS_SQL = "SELECT key, id, first_ts, unit FROM series WHERE key = ANY(%s)"
SERIES_ID_SQL = "SELECT id FROM series WHERE key = %s"
# Every series with points, its span widened by its head's points (not sealed yet).
LIST_SERIES_SQL = """
SELECT s.name, s.labels, s.unit, least(s.first_ts, h.f), greatest(s.last_ts, h.l)
FROM series s LEFT JOIN (
    SELECT series_id, min(ts) AS f, max(ts) AS l FROM points GROUP BY series_id
) h ON h.series_id = s.id
WHERE s.last_ts IS NOT NULL OR h.l IS NOT NULL
"""
# The seal widens the spans of the series it sealed.
WIDEN_SPANS_SQL = """
UPDATE series s SET first_ts = least(s.first_ts, u.f), last_ts = greatest(s.last_ts, u.l)
FROM unnest(%b::integer[], %b::bigint[], %b::bigint[]) AS u(id, f, l)
WHERE s.id = u.id AND (s.first_ts IS NULL OR u.f < s.first_ts OR u.l > s.last_ts)
"""
PARTITIONS_SQL = (
    "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
    " WHERE i.inhparent = %s::regclass"
)
# ``{}`` placeholders are identifiers and literals, composed by the store with psycopg.sql.
CREATE_PARTITION_SQL = "CREATE TABLE {} PARTITION OF {} FOR VALUES FROM ({}) TO ({})"
# chunks are compressed already: no pglz attempt, straight out of line when large
CHUNK_STORAGE_SQL = "ALTER TABLE {} ALTER COLUMN data SET STORAGE EXTERNAL"
XACT_LOCK_SQL = "SELECT pg_advisory_xact_lock(%s, hashtext(current_schema()))"
TRY_LOCK_SQL = "SELECT pg_try_advisory_lock(%s, hashtext(current_schema()))"
UNLOCK_SQL = "SELECT pg_advisory_unlock(%s, hashtext(current_schema()))"
HORIZON_SQL = "SELECT horizon FROM retention_horizon WHERE tier = %s"
SET_HORIZON_SQL = (
    "INSERT INTO retention_horizon (tier, horizon) VALUES (%s, %s)"
    " ON CONFLICT (tier) DO UPDATE"
    " SET horizon = greatest(retention_horizon.horizon, excluded.horizon)"
)
TRIM_FIRST_TS_SQL = "UPDATE series SET first_ts = %s WHERE first_ts < %s"
# A family's metadata: the latest non-empty value of each field wins.
UPSERT_METADATA_SQL = (
    "INSERT INTO metric_metadata (name, type, help, unit, updated_ms)"
    " SELECT n, t, h, u, %s FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[])"
    " AS m(n, t, h, u) ORDER BY n"
    " ON CONFLICT (name) DO UPDATE SET"
    " type = CASE WHEN excluded.type <> 'unknown' THEN excluded.type"
    " ELSE metric_metadata.type END,"
    " help = CASE WHEN excluded.help <> '' THEN excluded.help ELSE metric_metadata.help END,"
    " unit = CASE WHEN excluded.unit <> '' THEN excluded.unit ELSE metric_metadata.unit END,"
    " updated_ms = excluded.updated_ms"
)
METADATA_SQL = "SELECT name, type, help, unit FROM metric_metadata ORDER BY name"
