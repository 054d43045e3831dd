-- Token scopes: an ingest token sends points, a read token queries /prometheus/api/v1.
-- Tokens made before scopes existed stay ingest tokens.

ALTER TABLE ingest_tokens ADD COLUMN scope text NOT NULL DEFAULT 'ingest'
    CHECK (scope IN ('ingest', 'read'));
