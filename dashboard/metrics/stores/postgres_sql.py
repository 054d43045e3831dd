"""The PostgreSQL store's SQL text and binary formats (pure: no psycopg, no connection).

The statements the store runs, the names of its daily raw partitions and rollup tables, the
retention cut-offs per tier, and the binary COPY payload of a write and the ``bytea`` records a
query returns (``int8send``/``float8send``), encoded and decoded with numpy.

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

from dashboard.metrics.steps import DAY, RAW, ROLLUPS, STEPS, Step

TIERS: tuple[str, ...] = tuple(s.name for s in STEPS)
PARTITION_WIDTH = DAY
INT64_MIN = -(2**63)
# Advisory lock class ids: partition creation ("dbpt") and retention ("dbrt").
PARTITION_LOCK = 0x64627074
RETENTION_LOCK = 0x64627274
_PARTITION_RE = re.compile(r"^points_p(\d{8})$")
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
_ROLLUP_ROW = np.dtype(
    [
        ("bucket", ">i8"),
        ("min", ">f8"),
        ("max", ">f8"),
        ("sum", ">f8"),
        ("count", ">i8"),
        ("last", ">f8"),
    ]
)


# --- names and cut-offs -----------------------------------------------------------------


def partition_name(day_start_ms: int) -> str:
    """The raw partition of the UTC day starting at ``day_start_ms``: ``points_pYYYYMMDD``."""
    day = datetime.fromtimestamp(day_start_ms // 1000, UTC)
    return f"points_p{day:%Y%m%d}"


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


def retention_cutoffs(now_ms: int) -> dict[str, int]:
    """Per tier, the first kept unit start: a bucket (or a raw day) ending before the tier's
    retention (``start + width <= now - retention``) is dropped; everything from here is kept."""
    out = {}
    for step in STEPS:
        width = PARTITION_WIDTH if step == RAW else step.width_ms
        out[step.name] = (now_ms - step.retention_ms) // width * width
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


def decode_rollup(data: bytes | None) -> dict[str, np.ndarray]:
    """Rollup columns (bucket, min, max, sum, count, last) from concatenated binary records."""
    rows = np.frombuffer(data or b"", dtype=_ROLLUP_ROW)
    out = {name: rows[name].astype(np.float64) for name in ("min", "max", "sum", "last")}
    out["bucket"] = rows["bucket"].astype(np.int64)
    out["count"] = rows["count"].astype(np.int64)
    return out


def rollup_table(step: Step) -> str:
    """The table holding one rollup step."""
    return f"rollup_{step.name}"


_UPSERT = (
    "ON CONFLICT (series_id, bucket) DO UPDATE SET"
    " min = least(r.min, excluded.min), max = greatest(r.max, excluded.max),"
    " sum = r.sum + excluded.sum, count = r.count + excluded.count,"
    " last = CASE WHEN excluded.last_ts > r.last_ts THEN excluded.last ELSE r.last END,"
    " last_ts = greatest(r.last_ts, excluded.last_ts)"
)
_ROLLUP_COLUMNS = "(series_id, bucket, min, max, sum, count, last, last_ts)"


def rollup_ctes() -> str:
    """The write's upserts, one CTE per rollup table: the finest step takes the per-bucket
    rows of ``m1`` as they are, each coarser step regroups them into its own buckets."""
    first, *coarser = ROLLUPS
    ctes = [
        f"""r_{first.name} AS (
    INSERT INTO {rollup_table(first)} AS r {_ROLLUP_COLUMNS}
    SELECT series_id, bucket, mn, mx, sm, cnt, lst, lst_ts FROM m1, h
    WHERE bucket >= h.h_{first.name} ORDER BY series_id, bucket
    {_UPSERT}
)"""  # nosec B608 # constants only
    ]
    for step in coarser:
        w = step.width_ms
        ctes.append(
            f"""r_{step.name} AS (
    INSERT INTO {rollup_table(step)} AS r {_ROLLUP_COLUMNS}
    SELECT series_id, bucket - bucket %% {w}, min(mn), max(mx), sum(sm), sum(cnt)::bigint,
           (array_agg(lst ORDER BY lst_ts DESC))[1], max(lst_ts)
    FROM m1, h WHERE bucket >= h.h_{step.name}
    GROUP BY 1, 2 ORDER BY 1, 2
    {_UPSERT}
)"""  # nosec B608 # constants only
        )
    return ",\n".join(ctes)


def horizons_cte() -> str:
    """The ``h`` CTE: one column ``h_<tier>`` per tier, its horizon (else the smallest int64)."""
    columns = ",\n           ".join(
        f"coalesce(max(horizon) FILTER (WHERE tier = '{t}'), {INT64_MIN}) AS h_{t}" for t in TIERS
    )
    return f"h AS (\n    SELECT {columns}\n    FROM retention_horizon\n)"  # nosec B608 # constants only


def write_sql() -> str:
    """The statement that inserts the new staged rows into points and folds them into rollups."""
    rollups = rollup_ctes()
    w1 = ROLLUPS[0].width_ms
    return f"""
WITH {horizons_cte()},
ins AS (
    INSERT INTO points (series_id, ts, value)
    SELECT st.series_id, st.ts, st.value FROM pg_temp.staging st, h WHERE st.ts >= h.h_raw
    ON CONFLICT DO NOTHING
    RETURNING series_id, ts, value
),
m1 AS MATERIALIZED (
    SELECT series_id, ts - ts %% {w1} AS bucket, min(value) AS mn, max(value) AS mx,
           sum(value) AS sm, count(*) AS cnt,
           (array_agg(value ORDER BY ts DESC))[1] AS lst, max(ts) AS lst_ts
    FROM ins GROUP BY 1, 2
),
{rollups},
span AS (SELECT series_id, min(ts) AS f, max(ts) AS l FROM ins GROUP BY 1),
upd AS (
    UPDATE series s SET first_ts = least(s.first_ts, span.f),
        last_ts = greatest(s.last_ts, span.l),
        unit = CASE WHEN u.unit <> '' THEN u.unit ELSE s.unit END
    FROM unnest(%(ids)s::integer[], %(units)s::text[]) AS u(id, unit)
    LEFT JOIN span ON span.series_id = u.id
    WHERE s.id = u.id AND (span.f IS NOT NULL OR (u.unit <> '' AND u.unit <> s.unit))
)
SELECT count(*) FROM ins
"""  # nosec B608 # constants only


WRITE_SQL = write_sql()


# --- replacing points ---------------------------------------------------------------------
# When staged rows were already stored, REPLACE_SQL gives the points whose value differs the
# new one (equal ones are neither written nor locked) and locks the rollup rows of their
# buckets, so no writer folds into them until this one commits; REFOLD_FINE_SQL recomputes the
# touched 1m and 5m buckets from raw (raw days are kept whole), REFOLD_COARSE_SQL the 1h and 1d
# ones from the 5m rows (kept 7 days). Lookups are LATERAL: an index probe per row, always.

_FINE, _COARSE = ROLLUPS[:2], ROLLUPS[2:]
_REPLACE = (
    "ON CONFLICT (series_id, bucket) DO UPDATE SET"
    " min = excluded.min, max = excluded.max, sum = excluded.sum, count = excluded.count,"
    " last = excluded.last, last_ts = excluded.last_ts"
)
_FOLD = (
    "min(mn), max(mx), sum(sm), sum(cnt)::bigint, (array_agg(lst ORDER BY lst_ts DESC))[1],"
    " max(lst_ts)"
)
_TOUCHED = """t AS (
    SELECT DISTINCT sid AS series_id, b AS bucket
    FROM unnest(%(sids)s::integer[], %(buckets)s::bigint[]) AS u(sid, b)
)"""


def _tier_buckets(step: Step) -> str:
    """The touched buckets of ``step``, from the touched 1m buckets ``t``."""
    w = step.width_ms
    return f"SELECT DISTINCT series_id, bucket - bucket %% {w} AS bucket FROM t"  # nosec B608 # constants only


def replace_sql() -> str:
    """Replace changed points, lock their buckets' rollups; the touched 1m buckets (or NULLs)."""
    w1 = ROLLUPS[0].width_ms
    locks = ",\n".join(
        f"""lock_{step.name} AS (
    SELECT l.* FROM ({_tier_buckets(step)} ORDER BY 1, 2) x CROSS JOIN LATERAL (
        SELECT 1 FROM {rollup_table(step)} r
        WHERE r.series_id = x.series_id AND r.bucket = x.bucket FOR UPDATE
    ) l
)"""  # nosec B608 # constants only
        for step in ROLLUPS
    )
    counts = " + ".join(
        f"(SELECT count(*) FROM lock_{step.name})"  # nosec B608 # constants only
        for step in ROLLUPS
    )
    return f"""
WITH {horizons_cte()},
chg AS (
    SELECT st.series_id, st.ts, st.value FROM pg_temp.staging st, h CROSS JOIN LATERAL (
        SELECT o.value FROM points o WHERE o.series_id = st.series_id AND o.ts = st.ts
        AND o.ts BETWEEN %(lo)s AND %(hi)s LIMIT 1
    ) o
    WHERE st.ts >= h.h_raw AND o.value IS DISTINCT FROM st.value
),
upd AS (
    INSERT INTO points AS p (series_id, ts, value)
    SELECT series_id, ts, value FROM chg ORDER BY series_id, ts
    ON CONFLICT (series_id, ts) DO UPDATE SET value = excluded.value
    WHERE p.value IS DISTINCT FROM excluded.value
    RETURNING p.series_id, p.ts
),
t AS (SELECT DISTINCT series_id, ts - ts %% {w1} AS bucket FROM upd),
{locks}
SELECT array_agg(series_id ORDER BY series_id, bucket),
       array_agg(bucket ORDER BY series_id, bucket), {counts}
FROM t
"""  # nosec B608 # constants only


def refold_fine_sql() -> str:
    """Recompute the touched 1m buckets and their 5m buckets from the raw points."""
    first, second = _FINE
    w1, w2 = first.width_ms, second.width_ms
    return f"""
WITH {horizons_cte()},
{_TOUCHED},
f AS MATERIALIZED (
    SELECT x.series_id, a.* FROM ({_tier_buckets(second)}) x CROSS JOIN LATERAL (
        SELECT p.ts - p.ts %% {w1} AS bucket, min(p.value) AS mn, max(p.value) AS mx,
               sum(p.value) AS sm, count(*) AS cnt,
               (array_agg(p.value ORDER BY p.ts DESC))[1] AS lst, max(p.ts) AS lst_ts
        FROM points p
        WHERE p.series_id = x.series_id AND p.ts >= x.bucket AND p.ts < x.bucket + {w2}
        GROUP BY 1
    ) a
),
r_{first.name} AS (
    INSERT INTO {rollup_table(first)} AS r {_ROLLUP_COLUMNS}
    SELECT f.series_id, f.bucket, mn, mx, sm, cnt, lst, lst_ts
    FROM f JOIN t ON t.series_id = f.series_id AND t.bucket = f.bucket, h
    WHERE f.bucket >= h.h_{first.name} ORDER BY 1, 2
    {_REPLACE}
),
r_{second.name} AS (
    INSERT INTO {rollup_table(second)} AS r {_ROLLUP_COLUMNS}
    SELECT series_id, bucket - bucket %% {w2}, {_FOLD}
    FROM f, h WHERE bucket >= h.h_{second.name}
    GROUP BY 1, 2 ORDER BY 1, 2
    {_REPLACE}
)
SELECT count(*) FROM f
"""  # nosec B608 # constants only


def refold_coarse_sql() -> str:
    """Recompute the touched 1h and 1d buckets from the 5m rows (as REFOLD_FINE_SQL left them)."""
    source = rollup_table(_FINE[-1])
    ctes = [horizons_cte(), _TOUCHED]
    for step in _COARSE:
        w = step.width_ms
        ctes.append(
            f"""r_{step.name} AS (
    INSERT INTO {rollup_table(step)} AS r {_ROLLUP_COLUMNS}
    SELECT x.series_id, x.bucket, a.* FROM ({_tier_buckets(step)}) x CROSS JOIN LATERAL (
        SELECT min(s.min), max(s.max), sum(s.sum), sum(s.count)::bigint,
               (array_agg(s.last ORDER BY s.last_ts DESC))[1], max(s.last_ts)
        FROM {source} s
        WHERE s.series_id = x.series_id AND s.bucket >= x.bucket AND s.bucket < x.bucket + {w}
        HAVING count(*) > 0
    ) a, h
    WHERE x.bucket >= h.h_{step.name} ORDER BY 1, 2
    {_REPLACE}
)"""  # nosec B608 # constants only
        )
    return "\nWITH " + ",\n".join(ctes) + "\nSELECT count(*) FROM t\n"  # nosec B608 # constants only


REPLACE_SQL = replace_sql()
REFOLD_FINE_SQL = refold_fine_sql()
REFOLD_COARSE_SQL = refold_coarse_sql()
RAW_SQL = """
SELECT string_agg(int8send(ts) || float8send(value), ''::bytea) FROM (
    SELECT ts, value FROM points WHERE series_id = %s AND ts BETWEEN %s AND %s ORDER BY ts
) p
"""
ROLLUP_SQL = """
SELECT string_agg(int8send(bucket) || float8send(min) || float8send(max) || float8send(sum)
                  || int8send(count) || float8send(last), ''::bytea) FROM (
    SELECT * FROM {table} WHERE series_id = %s AND bucket BETWEEN %s AND %s ORDER BY bucket
) r
"""


# --- the other statements -----------------------------------------------------------------

STAGING_DDL = (
    "CREATE TEMP TABLE IF NOT EXISTS staging"
    " (series_id integer, ts bigint, value double precision) ON COMMIT DELETE ROWS"
)
COPY_STAGING_SQL = "COPY pg_temp.staging (series_id, ts, value) FROM STDIN (FORMAT BINARY)"
INSERT_SERIES_SQL = (
    "INSERT INTO series (key, name, labels, unit)"
    " SELECT k, n, l::jsonb, u FROM unnest(%s::text[], %s::text[], %s::text[],"
    " %s::text[]) AS t(k, n, l, u) ORDER BY k ON CONFLICT (key) DO NOTHING"
)
SERIES_IDS_SQL = "SELECT key, id FROM series WHERE key = ANY(%s)"
SERIES_ID_SQL = "SELECT id FROM series WHERE key = %s"
LIST_SERIES_SQL = (
    "SELECT name, labels, unit, first_ts, last_ts FROM series WHERE last_ts IS NOT NULL"
)
PARTITIONS_SQL = (
    "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
    " WHERE i.inhparent = 'points'::regclass"
)
# ``{}`` placeholders are identifiers and literals, composed by the store with psycopg.sql.
CREATE_PARTITION_SQL = "CREATE TABLE {} PARTITION OF points FOR VALUES FROM ({}) TO ({})"
XACT_LOCK_SQL = "SELECT pg_advisory_xact_lock(%s, hashtext(current_schema()))"
TRY_LOCK_SQL = "SELECT pg_try_advisory_lock(%s, hashtext(current_schema()))"
UNLOCK_SQL = "SELECT pg_advisory_unlock(%s, hashtext(current_schema()))"
HORIZON_SQL = "SELECT horizon FROM retention_horizon WHERE tier = %s"
SET_HORIZON_SQL = (
    "INSERT INTO retention_horizon (tier, horizon) VALUES (%s, %s)"
    " ON CONFLICT (tier) DO UPDATE"
    " SET horizon = greatest(retention_horizon.horizon, excluded.horizon)"
)
DELETE_ROLLUPS_SQL = "DELETE FROM {} WHERE bucket < %s"
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
