"""Alert rules and their evaluation as points arrive (pure).

A rule watches the series its selector picks. Each (rule, series) pair moves through
``ok -> pending -> firing -> resolved (-> ok)``: a breach starts ``pending``; a breach that lasts
``for_s`` seconds fires; a firing alert resolves only when the value is back past
``resolve_threshold`` (hysteresis, so a value hovering on the threshold does not flap). ``nodata``
breaches when a series has sent nothing for ``threshold`` seconds. Every transition is an event
whose identity is (rule, series, state, ts), so two engines that see the same points produce the
same events and a unique constraint keeps one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from dashboard.metrics.model import LABEL_KEY_RE, NAME_RE, SeriesKey, ValidationError
from dashboard.outbound_policy import ELLIPSIS, Policy, Refused, check_addresses, mask_url
from dashboard.query.parse import parse
from dashboard.query.values import QueryError

CONDITIONS = ("above", "below", "outside", "nodata", "present")
MAX_EXPR_LEN = 2_000
SEVERITIES = ("info", "warning", "error", "critical")
RULE_ID_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


@dataclass(frozen=True)
class Rule:
    """A validated alert rule."""

    id: str
    name: str
    series_name: str
    series_labels: tuple[tuple[str, str], ...]
    condition: str
    threshold: float | tuple[float, float]
    resolve_threshold: float | tuple[float, float]
    for_s: float
    severity: str
    enabled: bool = True
    webhook: str = field(default="", repr=False)  # a credential: in no repr, log or answer
    expr: str = ""  # a PromQL expression evaluated on a schedule instead of a stored series

    def selects(self, key: SeriesKey) -> bool:
        """True when the rule watches the stored series ``key`` (never for an expression)."""
        return not self.expr and key.matches(self.series_name, dict(self.series_labels))

    def breached(self, value: float) -> bool:
        """True when ``value`` is on the wrong side of the threshold (``present``: any value,
        as a Prometheus rule fires for every series its expression gives)."""
        if self.condition == "present":
            return True
        t = self.threshold
        if self.condition == "above":
            return value > t  # type: ignore[operator]
        if self.condition == "below":
            return value < t  # type: ignore[operator]
        lo, hi = t  # type: ignore[misc]
        return value < lo or value > hi

    def recovered(self, value: float) -> bool:
        """True when ``value`` is back past the resolve threshold (``present``: only when the
        series leaves the expression's result)."""
        if self.condition == "present":
            return False
        r = self.resolve_threshold
        if self.condition == "above":
            return value <= r  # type: ignore[operator]
        if self.condition == "below":
            return value >= r  # type: ignore[operator]
        lo, hi = r  # type: ignore[misc]
        return lo <= value <= hi

    def to_json(self) -> dict[str, Any]:
        """The API form: the webhook (a credential) only masked, with ``webhook_set``."""
        return self.to_record(mask_url) | {"webhook_set": bool(self.webhook)}

    def to_record(self, seal: Callable[[str], str]) -> dict[str, Any]:
        """The JSON form with the webhook as ``seal`` makes it (the store encrypts it)."""

        def plain(v: float | tuple[float, float]) -> Any:
            return list(v) if isinstance(v, tuple) else v

        out: dict[str, Any] = {"expr": self.expr} if self.expr else {}
        return out | {
            "id": self.id,
            "name": self.name,
            "series": (
                None
                if self.expr
                else {"name": self.series_name, "labels": dict(self.series_labels)}
            ),
            "condition": self.condition,
            "threshold": plain(self.threshold),
            "resolve_threshold": plain(self.resolve_threshold),
            "for_s": self.for_s,
            "severity": self.severity,
            "enabled": self.enabled,
            "webhook": seal(self.webhook) if self.webhook else "",
        }


def _number(value: Any, where: str) -> float:
    """A finite number, or ValidationError."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValidationError(where, "must be a finite number")
    return float(value)


def _band(value: Any, where: str) -> tuple[float, float]:
    """A ``[low, high]`` pair with low < high."""
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise ValidationError(where, "must be [low, high] for the outside condition")
    lo, hi = _number(value[0], f"{where}[0]"), _number(value[1], f"{where}[1]")
    if lo >= hi:
        raise ValidationError(where, "low must be below high")
    return lo, hi


def validate_rule(body: Any, *, rule_id: str | None = None) -> Rule:
    """A Rule from its JSON form, or ValidationError naming the first bad field."""
    if not isinstance(body, Mapping):
        raise ValidationError("body", "must be a JSON object")
    rid = rule_id or body.get("id")
    if not isinstance(rid, str) or not RULE_ID_RE.match(rid):
        raise ValidationError("id", "1 to 64 letters, digits, '.', '_' or '-'")
    name = body.get("name", rid)
    if not isinstance(name, str) or not 0 < len(name) <= 120 or not name.isprintable():
        raise ValidationError("name", "1 to 120 printable characters")
    expr = _rule_expr(body.get("expr"))
    series_name, labels = ("", {}) if expr else _rule_series(body.get("series"))
    condition = body.get("condition", "present" if expr else None)
    if condition not in CONDITIONS:
        raise ValidationError("condition", f"one of {', '.join(CONDITIONS)}")
    if expr and condition == "nodata":
        raise ValidationError("condition", "an expression rule uses absent() for no data")
    if condition == "present" and not expr:
        raise ValidationError("condition", "present needs an expression (expr)")
    threshold, resolve_t = (0.0, 0.0) if condition == "present" else _thresholds(condition, body)
    for_s = _number(body.get("for_s", 0), "for_s")
    if not 0 <= for_s <= 86_400:
        raise ValidationError("for_s", "between 0 and 86400 seconds")
    severity = body.get("severity", "warning")
    if severity not in SEVERITIES:
        raise ValidationError("severity", f"one of {', '.join(SEVERITIES)}")
    enabled = body.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ValidationError("enabled", "true or false")
    webhook = body.get("webhook") or ""
    if not isinstance(webhook, str) or len(webhook) > 500:
        raise ValidationError("webhook", "a URL of at most 500 characters")
    if webhook and urlsplit(webhook).scheme not in ("http", "https"):
        raise ValidationError("webhook", "must be an http or https URL")
    if ELLIPSIS in webhook:
        raise ValidationError(
            "webhook", "this is the masked form: send the whole URL, or leave the field out"
        )
    return Rule(
        rid,
        name,
        series_name,
        tuple(sorted(labels.items())),
        condition,
        threshold,
        resolve_t,
        for_s,
        severity,
        enabled,
        webhook,
        expr,
    )


def _rule_expr(expr: Any) -> str:
    """A rule's PromQL expression ("" for none), or ValidationError with the parser's words."""
    if expr is None or expr == "":
        return ""
    if not isinstance(expr, str) or len(expr) > MAX_EXPR_LEN:
        raise ValidationError("expr", f"a PromQL expression of at most {MAX_EXPR_LEN} characters")
    try:
        parse(expr)
    except QueryError as exc:
        raise ValidationError("expr", str(exc)) from None
    return expr.strip()


def _rule_series(series: Any) -> tuple[str, Mapping[str, str]]:
    """The watched series' name and labels, or ValidationError."""
    if not isinstance(series, Mapping) or not isinstance(series.get("name"), str):
        raise ValidationError("series", 'must be {"name": ..., "labels": {...}}')
    if not NAME_RE.match(series["name"]) or len(series["name"]) > 200:
        raise ValidationError("series.name", "not a metric name")
    labels = series.get("labels") or {}
    if not isinstance(labels, Mapping) or len(labels) > 16:
        raise ValidationError("series.labels", "at most 16 string labels")
    for k, v in labels.items():
        if not isinstance(k, str) or not LABEL_KEY_RE.match(k) or not isinstance(v, str):
            raise ValidationError(f"series.labels.{str(k)[:40]}", "identifier keys, string values")
    return series["name"], labels


def _thresholds(condition: str, body: Mapping[str, Any]) -> tuple[Any, Any]:
    """The firing and resolving thresholds of a condition (bands for ``outside``)."""
    resolve = body.get("resolve_threshold")
    if condition == "outside":
        band = _band(body.get("threshold"), "threshold")
        resolve_band = band if resolve is None else _band(resolve, "resolve_threshold")
        if resolve_band[0] < band[0] or resolve_band[1] > band[1]:
            raise ValidationError("resolve_threshold", "must lie inside the threshold band")
        return band, resolve_band
    threshold = _number(body.get("threshold"), "threshold")
    resolve_t = threshold if resolve is None else _number(resolve, "resolve_threshold")
    if condition == "above" and resolve_t > threshold:
        raise ValidationError("resolve_threshold", "must not be above the threshold")
    if condition == "below" and resolve_t < threshold:
        raise ValidationError("resolve_threshold", "must not be below the threshold")
    if condition == "nodata" and threshold <= 0:
        raise ValidationError("threshold", "seconds without data, above 0")
    return threshold, resolve_t


@dataclass(frozen=True)
class Event:
    """A transition of one (rule, series) pair."""

    rule_id: str
    series: str
    state: str
    value: float | None
    ts: int
    severity: str
    rule_name: str = ""

    def to_json(self) -> dict[str, Any]:
        """The API and socket form."""
        return {
            "rule_id": self.rule_id,
            "rule": self.rule_name,
            "series": self.series,
            "state": self.state,
            "value": self.value,
            "ts": self.ts,
            "severity": self.severity,
        }


@dataclass
class PairState:
    """Where one (rule, series) pair is."""

    state: str = "ok"
    since: int = 0
    last_seen: int = 0


@dataclass
class Engine:
    """Evaluates every enabled rule against arriving points; returns the events."""

    rules: dict[str, Rule] = field(default_factory=dict)
    states: dict[tuple[str, str], PairState] = field(default_factory=dict)

    def set_rules(self, rules: list[Rule]) -> None:
        """Replace the rules; pairs of removed or changed rules start over."""
        new = {r.id: r for r in rules}
        for rid, key in list(self.states):
            if new.get(rid) != self.rules.get(rid):
                del self.states[(rid, key)]
        self.rules = new

    def observe(self, key: SeriesKey, ts: int, value: float) -> list[Event]:
        """Feed one point (in time order per series); the transitions it causes."""
        events: list[Event] = []
        text = str(key)
        for rule in self.rules.values():
            if not rule.enabled or not rule.selects(key):
                continue
            pair = self.states.setdefault((rule.id, text), PairState())
            if ts < pair.last_seen:
                continue  # late point: the pair has moved on
            pair.last_seen = ts
            if rule.condition == "nodata":
                if pair.state == "firing":
                    events.append(self._move(rule, text, pair, "resolved", value, ts))
                    pair.state = "ok"
                elif pair.state == "pending":
                    pair.state = "ok"
                continue
            events.extend(self._step(rule, text, pair, ts, value))
        return events

    def evaluated(self, rule_id: str, found: Mapping[str, float], ts: int) -> list[Event]:
        """Feed an expression rule's result at ``ts`` (series text -> value); the transitions.

        A series that leaves the result resolves (a firing one) or starts over, as Prometheus
        does with the alerts of a rule whose expression no longer gives them.
        """
        rule = self.rules.get(rule_id)
        if rule is None or not rule.enabled or not rule.expr:
            return []
        events: list[Event] = []
        for text, value in found.items():
            pair = self.states.setdefault((rule.id, text), PairState())
            if ts < pair.last_seen:
                continue
            pair.last_seen = ts
            events.extend(self._step(rule, text, pair, ts, value))
        for rid, text in [k for k in self.states if k[0] == rule.id and k[1] not in found]:
            pair = self.states.pop((rid, text))
            if pair.state == "firing":
                events.append(self._move(rule, text, pair, "resolved", None, ts))
        return events

    def tick(self, now_ms: int) -> list[Event]:
        """Check ``nodata`` rules against the clock; the transitions due."""
        events: list[Event] = []
        for (rid, text), pair in list(self.states.items()):
            rule = self.rules.get(rid)
            if rule is None or not rule.enabled or rule.condition != "nodata":
                continue
            silent_ms = now_ms - pair.last_seen
            limit = float(rule.threshold) * 1000  # type: ignore[arg-type]
            if silent_ms <= limit or pair.state == "firing":
                continue
            started = pair.last_seen + int(limit)
            if pair.state == "ok":
                pair.state, pair.since = "pending", started
                events.append(self._event(rule, text, "pending", None, started))
            if now_ms - pair.since >= rule.for_s * 1000:
                fired = pair.since + int(rule.for_s * 1000)
                events.append(self._move(rule, text, pair, "firing", None, fired))
        return events

    def watch(self, key: SeriesKey, now_ms: int) -> None:
        """Start watching a series for ``nodata`` even before its first point here."""
        for rule in self.rules.values():
            if rule.enabled and rule.condition == "nodata" and rule.selects(key):
                self.states.setdefault((rule.id, str(key)), PairState(last_seen=now_ms))

    def _step(self, rule: Rule, text: str, pair: PairState, ts: int, value: float) -> list[Event]:
        """The threshold conditions' transitions for one point."""
        out: list[Event] = []
        if pair.state == "firing":
            if rule.recovered(value):
                out.append(self._move(rule, text, pair, "resolved", value, ts))
                pair.state = "ok"
            return out
        if not rule.breached(value):
            pair.state = "ok"
            return out
        if pair.state == "ok":
            pair.state, pair.since = "pending", ts
            if rule.for_s > 0:
                out.append(self._event(rule, text, "pending", value, ts))
        if ts - pair.since >= rule.for_s * 1000:
            out.append(self._move(rule, text, pair, "firing", value, ts))
        return out

    def _move(
        self, rule: Rule, text: str, pair: PairState, state: str, value: float | None, ts: int
    ) -> Event:
        """Change a pair's state and describe it."""
        pair.state = state
        return self._event(rule, text, state, value, ts)

    @staticmethod
    def _event(rule: Rule, text: str, state: str, value: float | None, ts: int) -> Event:
        """An event of ``rule`` on series ``text``."""
        return Event(rule.id, text, state, value, ts, rule.severity, rule.name)

    def firing(self) -> int:
        """How many pairs are firing."""
        return sum(1 for p in self.states.values() if p.state == "firing")


def webhook_host_allowed(url: str, resolved: list[str], allow_private: bool) -> str | None:
    """None when ``url`` may be called, else why not (loopback, link-local, private...).

    The Notifier applies the same rule through ``dashboard.outbound`` (which also pins the
    address it connects to); this is the check on its own.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "not an http(s) URL"
    try:
        check_addresses(parts.hostname, resolved, Policy(allow_private=allow_private))
    except Refused as exc:
        return str(exc)
    return None


def slack_payload(event: Event) -> dict[str, Any]:
    """A Slack-compatible message for an event."""
    icon = {"firing": ":rotating_light:", "resolved": ":white_check_mark:"}.get(event.state, "")
    value = "no data" if event.value is None else f"{event.value:g}"
    text = (
        f"{icon} [{event.severity.upper()}] {event.rule_name or event.rule_id} is {event.state}"
        f" on {event.series} (value {value})"
    ).strip()
    return {"text": text, "event": event.to_json()}
