"""Alert rules and events in the app's database; one row per transition, by a unique key."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from dashboard.alerts.engine import Event, Rule, validate_rule
from dashboard.db.appdb import AppDB, as_app_db
from dashboard.db.audit import AuditLog
from dashboard.secretbox import SecretBox, is_sealed

SCHEMA = """
CREATE TABLE IF NOT EXISTS alert_rules (
    id TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    snoozed_until INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS alert_events (
    id INTEGER PRIMARY KEY,
    rule_id TEXT NOT NULL,
    rule_name TEXT NOT NULL DEFAULT '',
    series TEXT NOT NULL,
    state TEXT NOT NULL,
    value REAL,
    ts INTEGER NOT NULL,
    severity TEXT NOT NULL,
    acked_by TEXT,
    acked_at INTEGER,
    UNIQUE (rule_id, series, state, ts)
);
CREATE INDEX IF NOT EXISTS alert_events_ts ON alert_events (ts);
"""


class AlertStore:
    """Rules (as validated JSON) and events; an event is stored once whoever reports it.

    A rule's webhook is a credential: with a ``box`` (the app always gives one) it is stored
    encrypted, and a plain one stored before is read as it is and sealed when the store opens
    (and on any later write). Without a box (tests, tools) webhooks are stored as given.
    """

    def __init__(
        self, db: AppDB | str | Path, *, owns_db: bool | None = None, box: SecretBox | None = None
    ) -> None:
        """Open (and create) the tables; seal any plain webhook stored before."""
        # a store closes the database it opened from a path, or was handed to keep
        self._owns_db = isinstance(db, str | Path) if owns_db is None else owns_db
        self._db = as_app_db(db)
        self._box = box
        self._db.create_tables(SCHEMA)
        self.audit = AuditLog(self._db)  # the services record each change here
        if box is not None:
            self.seal_plain_webhooks()

    def _rule(self, body: str) -> Rule:
        """A stored rule, its webhook decrypted."""
        doc = json.loads(body)
        stored = doc.get("webhook") or ""
        if isinstance(stored, str) and stored:
            if self._box is not None:
                doc["webhook"] = self._box.open(stored)
            elif is_sealed(stored):
                doc["webhook"] = ""  # sealed, and this store has no key to open it
        return validate_rule(doc)

    def _seal(self, plain: str) -> str:
        """A webhook as it is stored."""
        return self._box.seal(plain) if self._box is not None else plain

    def seal_plain_webhooks(self) -> int:
        """Encrypt the webhooks stored in plain text (before encryption); how many."""
        rows = self._db.execute("SELECT id, CAST(body AS TEXT) FROM alert_rules").rows
        sealed = 0
        for rule_id, body in rows:
            stored = json.loads(body).get("webhook") or ""
            if isinstance(stored, str) and stored and not is_sealed(stored):
                rule = self._rule(body)
                # only if unchanged meanwhile: a newer write by another node is already sealed
                self._db.execute(
                    "UPDATE alert_rules SET body = ? WHERE id = ? AND body = ?",
                    (json.dumps(rule.to_record(self._seal)), rule_id, body),
                )
                sealed += 1
        return sealed

    def rules(self) -> list[Rule]:
        """Every rule."""
        rows = self._db.execute("SELECT CAST(body AS TEXT) FROM alert_rules ORDER BY id").rows
        return [self._rule(body) for (body,) in rows]

    def get_rule(self, rule_id: str) -> Rule | None:
        """A rule by id."""
        row = self._db.execute(
            "SELECT CAST(body AS TEXT) FROM alert_rules WHERE id = ?", (rule_id,)
        ).fetchone()
        return self._rule(row[0]) if row else None

    def put_rule(self, rule: Rule) -> bool:
        """Create or replace a rule; True when it was new."""
        existed = self._db.execute("SELECT 1 FROM alert_rules WHERE id = ?", (rule.id,)).rows
        self._db.execute(
            "INSERT INTO alert_rules (id, body, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET body = excluded.body,"
            " updated_at = excluded.updated_at",
            (rule.id, json.dumps(rule.to_record(self._seal)), int(time.time() * 1000)),
        )
        return not existed

    def delete_rule(self, rule_id: str) -> bool:
        """Delete a rule; False when there was none."""
        return self._db.execute("DELETE FROM alert_rules WHERE id = ?", (rule_id,)).rowcount > 0

    def snooze(self, rule_id: str, until_ms: int) -> bool:
        """Silence a rule's notifications until ``until_ms``; False when there is no such rule."""
        return (
            self._db.execute(
                "UPDATE alert_rules SET snoozed_until = ? WHERE id = ?", (until_ms, rule_id)
            ).rowcount
            > 0
        )

    def snoozed_until(self, rule_id: str) -> int:
        """Until when a rule is snoozed (0: not)."""
        row = self._db.execute(
            "SELECT snoozed_until FROM alert_rules WHERE id = ?", (rule_id,)
        ).fetchone()
        return int(row[0]) if row else 0

    def record(self, event: Event) -> int | None:
        """Store an event; its id when this call stored it, None when it was already there."""
        row = self._db.execute(
            "INSERT INTO alert_events (rule_id, rule_name, series, state, value, ts, severity)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id",
            (
                event.rule_id,
                event.rule_name,
                event.series,
                event.state,
                event.value,
                event.ts,
                event.severity,
            ),
        ).fetchone()
        return int(row[0]) if row else None

    def events(self, *, limit: int = 100, since_ts: int = 0) -> list[dict[str, Any]]:
        """The newest events first."""
        rows = self._db.execute(
            "SELECT id, rule_id, rule_name, series, state, value, ts, severity, acked_by,"
            " acked_at FROM alert_events WHERE ts >= ? ORDER BY ts DESC, id DESC LIMIT ?",
            (since_ts, limit),
        ).rows
        keys = (
            "id",
            "rule_id",
            "rule",
            "series",
            "state",
            "value",
            "ts",
            "severity",
            "acked_by",
            "acked_at",
        )
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def firing(self) -> list[dict[str, Any]]:
        """(rule, series) pairs whose latest event is ``firing``."""
        rows = self._db.execute(
            "SELECT e.rule_id, e.series, e.ts, e.severity FROM alert_events e"
            " JOIN (SELECT rule_id, series, max(ts) AS ts FROM alert_events"
            "       WHERE state IN ('firing', 'resolved') GROUP BY rule_id, series) m"
            " ON e.rule_id = m.rule_id AND e.series = m.series AND e.ts = m.ts"
            " WHERE e.state = 'firing'"
        ).rows
        return [{"rule_id": r, "series": s, "ts": t, "severity": v} for r, s, t, v in rows]

    def ack(self, event_id: int, username: str) -> bool:
        """Acknowledge an event; False when there is no such event."""
        return (
            self._db.execute(
                "UPDATE alert_events SET acked_by = ?, acked_at = ? WHERE id = ?",
                (username, int(time.time() * 1000), event_id),
            ).rowcount
            > 0
        )

    def close(self) -> None:
        """Close the database when this store opened it."""
        if self._owns_db:
            self._db.close()
