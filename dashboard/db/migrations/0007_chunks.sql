-- History in compressed chunks (see dashboard/metrics/chunked.py). ``points`` stays as the head:
-- recent points as rows, sealed into ``chunks`` within a minute. A raw chunk holds one series'
-- points of one hour; its partitions follow the head's (one a UTC day, created by the store,
-- ``chunks_pYYYYMMDD``), so retention drops a day of both at once. ``rollups`` holds the 5m, 1h
-- and 1d buckets of days whose raw points retention dropped. The row-per-bucket rollup tables
-- of earlier versions are converted into rollup chunks and dropped by the store at its start.

CREATE TABLE chunks (
    series_id integer NOT NULL,
    start bigint NOT NULL,
    count integer NOT NULL,
    data bytea NOT NULL,
    PRIMARY KEY (series_id, start)
) PARTITION BY RANGE (start);

CREATE TABLE rollups (
    series_id integer NOT NULL,
    tier text NOT NULL,
    start bigint NOT NULL,
    data bytea NOT NULL,
    PRIMARY KEY (series_id, tier, start)
);
ALTER TABLE rollups ALTER COLUMN data SET STORAGE EXTERNAL;

-- The head is append-only: a write COPYs its rows in (no unique check, no conflict handling);
-- a point written again is a second row, the newer by ``seq`` winning when the head is read or
-- sealed. Rows of earlier versions have no ``seq`` and count as older than any new one.
CREATE SEQUENCE points_seq CACHE 1000;
ALTER TABLE points DROP CONSTRAINT points_pkey;
ALTER TABLE points ADD COLUMN seq bigint;
ALTER TABLE points ALTER COLUMN seq SET DEFAULT nextval('points_seq');
CREATE INDEX points_series_ts_idx ON points (series_id, ts);
