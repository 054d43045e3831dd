-- Metric metadata per metric family, as Prometheus keeps it: type, help and unit.

CREATE TABLE metric_metadata (
    name text PRIMARY KEY,
    type text NOT NULL DEFAULT 'unknown'
        CHECK (type IN ('counter', 'gauge', 'histogram', 'summary', 'unknown')),
    help text NOT NULL DEFAULT '',
    unit text NOT NULL DEFAULT '',
    updated_ms bigint NOT NULL
);
