"""The alert engine on crafted sequences of points, and rule validation (pure)."""

from __future__ import annotations

import pytest

from dashboard.alerts.engine import Engine, slack_payload, validate_rule, webhook_host_allowed
from dashboard.metrics.model import SeriesKey, ValidationError

KEY = SeriesKey.of("svc.errors", {"region": "eu"})
OTHER = SeriesKey.of("svc.errors", {"region": "us"})


def rule(**over):
    """A valid rule body with overrides."""
    body = {
        "id": "r1",
        "name": "Errors high",
        "series": {"name": "svc.errors", "labels": {}},
        "condition": "above",
        "threshold": 10,
        "for_s": 0,
        "severity": "critical",
    }
    return validate_rule({**body, **over})


def run(engine: Engine, points, key=KEY):
    """Feed (ts_s, value) points; the (state, ts_s) transitions."""
    out = []
    for ts, value in points:
        out += [(e.state, e.ts // 1000) for e in engine.observe(key, ts * 1000, value)]
    return out


def test_fires_at_once_without_for_and_resolves_when_back():
    """for_s = 0: the first breach fires; the first value back resolves."""
    engine = Engine()
    engine.set_rules([rule()])
    assert run(engine, [(1, 5), (2, 11), (3, 12), (4, 9), (5, 11)]) == [
        ("firing", 2),
        ("resolved", 4),
        ("firing", 5),
    ]


def test_pending_until_the_breach_lasts_for_s():
    """A breach shorter than for_s stays pending and falls back silently."""
    engine = Engine()
    engine.set_rules([rule(for_s=3)])
    assert run(engine, [(1, 11), (2, 11), (3, 5), (4, 11), (5, 11), (6, 11), (7, 11)]) == [
        ("pending", 1),
        ("pending", 4),
        ("firing", 7),
    ]


def test_no_flapping_inside_the_hysteresis_band():
    """Values between resolve_threshold and threshold keep a firing alert firing."""
    engine = Engine()
    engine.set_rules([rule(threshold=10, resolve_threshold=8)])
    values = [(1, 11), (2, 9.9), (3, 10.1), (4, 9), (5, 8.5), (6, 7.9)]
    assert run(engine, values) == [("firing", 1), ("resolved", 6)]


def test_below_and_outside_conditions():
    """below fires under the threshold; outside fires out of the band and resolves inside."""
    engine = Engine()
    engine.set_rules([rule(condition="below", threshold=1, resolve_threshold=2)])
    assert run(engine, [(1, 3), (2, 0.5), (3, 1.5), (4, 2)]) == [("firing", 2), ("resolved", 4)]
    engine.set_rules([rule(condition="outside", threshold=[0, 10], resolve_threshold=[1, 9])])
    assert run(engine, [(10, 5), (11, -1), (12, 0.5), (13, 5), (14, 11)]) == [
        ("firing", 11),
        ("resolved", 13),
        ("firing", 14),
    ]


def test_each_series_is_tracked_apart_and_labels_select():
    """Two series of one rule have their own states; a label selector picks one."""
    engine = Engine()
    engine.set_rules([rule()])
    assert run(engine, [(1, 11)], KEY) == [("firing", 1)]
    assert run(engine, [(1, 5)], OTHER) == []
    engine.set_rules([rule(series={"name": "svc.errors", "labels": {"region": "us"}})])
    assert run(engine, [(2, 50)], KEY) == []
    assert run(engine, [(2, 50)], OTHER) == [("firing", 2)]


def test_nodata_fires_after_silence_and_resolves_on_the_next_point():
    """nodata: pending then firing when silent past threshold + for_s; a point resolves it."""
    engine = Engine()
    engine.set_rules([rule(condition="nodata", threshold=5, for_s=2)])
    run(engine, [(100, 1)])
    assert engine.tick(104_000) == []
    events = [(e.state, e.ts // 1000) for e in engine.tick(106_000)]
    assert events == [("pending", 105)]
    events = [(e.state, e.ts // 1000) for e in engine.tick(107_500)]
    assert events == [("firing", 107)]
    assert engine.tick(120_000) == []  # still firing: no repeat
    assert run(engine, [(121, 1)]) == [("resolved", 121)]


def test_two_engines_on_the_same_points_make_the_same_events():
    """Engines are deterministic: that is what lets a unique key keep one event each."""
    points = [(t, 12 if 5 <= t < 9 else 1) for t in range(12)]
    a, b = Engine(), Engine()
    for e in (a, b):
        e.set_rules([rule(for_s=2)])
    assert run(a, points) == run(b, points) == [("pending", 5), ("firing", 7), ("resolved", 9)]


def test_disabled_rules_and_late_points_do_nothing():
    """A disabled rule is ignored; a point older than the pair's last one is skipped."""
    engine = Engine()
    engine.set_rules([rule(enabled=False)])
    assert run(engine, [(1, 100)]) == []
    engine.set_rules([rule()])
    assert run(engine, [(5, 1), (4, 100)]) == []


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"id": "bad id!"}, "id"),
        ({"condition": "sideways"}, "condition"),
        ({"threshold": "ten"}, "threshold"),
        ({"threshold": float("nan")}, "threshold"),
        ({"resolve_threshold": 12}, "resolve_threshold"),
        ({"condition": "outside", "threshold": [5, 1]}, "threshold"),
        (
            {"condition": "outside", "threshold": [0, 10], "resolve_threshold": [-1, 5]},
            "resolve_threshold",
        ),
        ({"condition": "nodata", "threshold": 0}, "threshold"),
        ({"for_s": -1}, "for_s"),
        ({"severity": "meh"}, "severity"),
        ({"series": {"name": "bad name!"}}, "series.name"),
        ({"webhook": "ftp://x"}, "webhook"),
        ({"enabled": "yes"}, "enabled"),
    ],
)
def test_bad_rules_name_the_field(over, field):
    """Validation names the first bad field."""
    with pytest.raises(ValidationError) as err:
        rule(**over)
    assert err.value.field == field


def test_webhook_addresses_inside_the_network_are_refused_unless_allowed():
    """Loopback, private and link-local targets are refused; public ones pass."""
    url = "http://hooks.example/x"
    for address in ("127.0.0.1", "10.1.2.3", "192.168.0.5", "169.254.169.254", "::1"):
        assert webhook_host_allowed(url, [address], allow_private=False)
        assert webhook_host_allowed(url, [address], allow_private=True) is None
    assert webhook_host_allowed(url, ["93.184.216.34"], allow_private=False) is None


def test_slack_payload_has_text_and_the_event():
    """The webhook body is Slack-compatible: a text line plus the event."""
    engine = Engine()
    engine.set_rules([rule()])
    (event,) = engine.observe(KEY, 1000, 11)
    body = slack_payload(event)
    assert "CRITICAL" in body["text"] and "firing" in body["text"]
    assert body["event"]["series"] == str(KEY)
