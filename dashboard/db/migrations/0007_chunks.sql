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
