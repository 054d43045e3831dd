-- The app's own tables as the stores use them (0002 created an early draft of them).

ALTER TABLE alert_rules ADD COLUMN snoozed_until bigint NOT NULL DEFAULT 0;

ALTER TABLE alert_events ADD COLUMN rule_name text NOT NULL DEFAULT '';
ALTER TABLE alert_events ADD COLUMN series text NOT NULL DEFAULT '';
ALTER TABLE alert_events ADD COLUMN severity text NOT NULL DEFAULT 'warning';
ALTER TABLE alert_events ADD COLUMN acked_by text;
ALTER TABLE alert_events ADD COLUMN acked_at bigint;
ALTER TABLE alert_events DROP CONSTRAINT alert_events_rule_id_ts_state_key;
ALTER TABLE alert_events ADD CONSTRAINT alert_events_once UNIQUE (rule_id, series, state, ts);
