-- Tables of the other features (users, tokens, dashboards, alerts), present from the start.

CREATE TABLE users (
    id bigserial PRIMARY KEY,
    username text UNIQUE NOT NULL,
    password_hash text NOT NULL,
    role text NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
    created_at bigint NOT NULL,
    disabled boolean NOT NULL DEFAULT false
);

CREATE TABLE ingest_tokens (
    id bigserial PRIMARY KEY,
    name text UNIQUE NOT NULL,
    token_hash text UNIQUE NOT NULL,
    created_at bigint NOT NULL,
    revoked_at bigint
);

CREATE TABLE revoked_tokens (
    jti text PRIMARY KEY,
    expires_at bigint NOT NULL
);

CREATE TABLE dashboards (
    id text PRIMARY KEY,
    owner text,
    title text NOT NULL,
    body jsonb NOT NULL,
    updated_at bigint NOT NULL
);

CREATE TABLE alert_rules (
    id text PRIMARY KEY,
    body jsonb NOT NULL,
    updated_at bigint NOT NULL
);

CREATE TABLE alert_events (
    id bigserial PRIMARY KEY,
    rule_id text NOT NULL,
    state text NOT NULL,
    value double precision,
    ts bigint NOT NULL,
    UNIQUE (rule_id, ts, state)
);
CREATE INDEX alert_events_ts_idx ON alert_events (ts);
