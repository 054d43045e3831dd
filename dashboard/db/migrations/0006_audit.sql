-- The audit trail: who created, changed or deleted users, tokens, dashboards and alert rules,
-- and who exported what, with the time and the source address (dashboard/db/audit.py).
-- Rows are only ever added: no route changes or deletes one.

CREATE TABLE audit_events (
    id bigserial PRIMARY KEY,
    ts_ms bigint NOT NULL,
    actor text NOT NULL,
    action text NOT NULL,
    target_kind text NOT NULL,
    target_id text NOT NULL,
    detail jsonb NOT NULL,
    source_ip text NOT NULL
);
CREATE INDEX audit_events_actor ON audit_events (actor, id);
CREATE INDEX audit_events_kind ON audit_events (target_kind, id);
