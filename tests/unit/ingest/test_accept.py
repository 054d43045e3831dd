"""Taking a batch in: every source gets the same checks, answers and counters."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from dashboard.auth.users import TokenGrant
from dashboard.clock import now_ms
from dashboard.metrics.cardinality import SeriesLimit
from dashboard.metrics.metadata import MetricMetadata
from dashboard.metrics.model import Batch, Limits, ValidationError
from dashboard.telemetry import Metrics
from ingest import accept
from ingest.bus import BusBusy, BusUnavailable


@dataclass
class FakeBus:
    """A bus that takes every batch, or fails with ``error``."""

    kind: str = "fake"
    error: Exception | None = None
    taken: list[Batch] = field(default_factory=list)

    def publish(self, batch: Batch) -> int:
        """Take the batch, or raise."""
        if self.error is not None:
            raise self.error
        self.taken.append(batch)
        return sum(len(s.ts) for s in batch.series)

    def ping(self) -> bool:
        """Always reachable."""
        return True

    def subscribe(self, consumer: object) -> None:
        """No consumers here."""


@dataclass
class FakeNode:
    """A node with one valid ingest token, ``good``, and one read token, ``reader``."""

    bus: FakeBus = field(default_factory=FakeBus)
    metrics: Metrics = field(default_factory=Metrics)
    limits: Limits = field(default_factory=lambda: Limits(max_points=10))
    series_limit: SeriesLimit = field(default_factory=lambda: SeriesLimit(2))
    recorded: list[list[MetricMetadata]] = field(default_factory=list)

    def record_metadata(self, entries: list[MetricMetadata]) -> None:
        """Keep what a taken batch said of its families."""
        self.recorded.append(entries)

    def token_grant(self, token: str) -> TokenGrant | None:
        """``good`` is the ingest token named ``env-0``, ``reader`` a read token."""
        grants = {"good": TokenGrant("env-0", "ingest"), "reader": TokenGrant("grafana", "read")}
        return grants.get(token)


def count(node: FakeNode, name: str, *labels: str) -> float:
    """A counter's value for its labels."""
    return getattr(node.metrics, name).labels(*labels)._value.get()


def body(points: int = 2) -> dict:
    """A JSON batch of ``points`` points of one series."""
    now = now_ms()
    return {"metrics": [{"name": "a.b", "points": [[now - i, float(i)] for i in range(points)]}]}


def test_a_valid_batch_is_published_and_counted() -> None:
    """Token, batch and bus all fine: the count accepted, and the counters move."""
    node = FakeNode()
    assert accept.authorize(node=node, token="good", source="http") == "env-0"
    batch = accept.parse(node=node, body=body(3), source="http")
    assert accept.publish(node=node, batch=batch, source="http") == 3
    assert node.bus.taken == [batch]
    assert count(node, "ingest_points", "http") == 3
    assert count(node, "ingest_batches", "http") == 1


@pytest.mark.parametrize("token", [None, "", "bad"])
def test_a_missing_or_unknown_token_is_a_counted_401(token: str | None) -> None:
    """No valid token: 401, counted as ``auth``."""
    node = FakeNode()
    with pytest.raises(accept.Refused) as refused:
        accept.authorize(node=node, token=token, source="socket")
    assert (refused.value.status, refused.value.message, refused.value.retry) == (
        401,
        "unauthorized",
        False,
    )
    assert count(node, "ingest_rejected", "socket", "auth") == 1


def test_a_read_token_is_a_counted_403() -> None:
    """A valid token whose scope is ``read`` may not ingest: 403 (not 401), counted as auth."""
    node = FakeNode()
    with pytest.raises(accept.Refused) as refused:
        accept.authorize(node=node, token="reader", source="http")
    assert (refused.value.status, refused.value.message) == (403, "forbidden")
    assert "read token cannot ingest" in refused.value.detail
    assert count(node, "ingest_rejected", "http", "auth") == 1


def test_an_invalid_batch_is_a_counted_400_naming_the_field() -> None:
    """Over the node's limits (or malformed): 400 with the field at fault."""
    node = FakeNode()
    with pytest.raises(accept.Refused) as refused:
        accept.parse(node=node, body=body(11), source="http")
    assert refused.value.status == 400 and refused.value.message == "invalid batch"
    assert set(refused.value.detail) == {"field", "message"}
    assert count(node, "ingest_rejected", "http", "invalid") == 1


def test_a_parser_and_its_message_are_the_source_s_own() -> None:
    """The Prometheus route parses text and says "invalid exposition"."""
    node = FakeNode()

    def reject(_body: object, *, now_ms: int, limits: Limits) -> Batch:
        raise ValidationError("body", "not UTF-8")

    with pytest.raises(accept.Refused) as refused:
        accept.parse(
            node=node, body=b"\xff", source="prometheus", parser=reject, message="bad text"
        )
    assert refused.value.message == "bad text"
    assert refused.value.detail == {"field": "body", "message": "not UTF-8"}


@pytest.mark.parametrize(
    ("error", "status", "reason"),
    [(BusBusy("behind"), 429, "busy"), (BusUnavailable("down"), 503, "unavailable")],
)
def test_a_bus_that_cannot_take_it_asks_for_a_retry(error, status, reason) -> None:
    """Busy: 429; down: 503; both retry in a second, and nothing counts as accepted."""
    node = FakeNode(bus=FakeBus(error=error))
    batch = accept.parse(node=node, body=body(), source="http")
    with pytest.raises(accept.Refused) as refused:
        accept.publish(node=node, batch=batch, source="http")
    assert (refused.value.status, refused.value.retry, refused.value.detail) == (
        status,
        True,
        str(error),
    )
    assert count(node, "ingest_rejected", "http", reason) == 1
    assert count(node, "ingest_points", "http") == 0


def test_a_batch_creating_series_over_the_limit_is_refused_whole() -> None:
    """A new series past DASHBOARD_MAX_SERIES: a counted 400 naming the limit and the series;
    nothing reaches the bus, and series that exist keep flowing."""
    node = FakeNode()
    accept.publish(
        node=node, batch=accept.parse(node=node, body=body(), source="http"), source="http"
    )
    now = now_ms()
    two_new = {
        "metrics": [
            {"name": "a.b", "points": [[now, 1.0]]},
            {"name": "c.d", "labels": {"k": "1"}, "points": [[now, 1.0]]},
            {"name": "c.d", "labels": {"k": "2"}, "points": [[now, 1.0]]},
        ]
    }
    batch = accept.parse(node=node, body=two_new, source="http")
    with pytest.raises(accept.Refused) as refused:
        accept.publish(node=node, batch=batch, source="http")
    assert refused.value.status == 400
    assert not refused.value.retry
    assert refused.value.detail == {"limit": 2, "series": 'c.d{k="2"}', "new_series": 2}
    assert "too many series" in refused.value.message
    assert count(node, "ingest_rejected", "http", "series_limit") == 1
    assert len(node.bus.taken) == 1
    accept.publish(
        node=node, batch=accept.parse(node=node, body=body(), source="http"), source="http"
    )
    assert len(node.bus.taken) == 2


def test_a_taken_batch_s_metadata_is_recorded_and_a_refused_one_s_is_not():
    """The node stores the families' metadata of what the bus took, nothing of a refusal."""
    node = FakeNode()
    typed = body()
    typed["metrics"][0]["type"] = "counter"
    accept.publish(
        node=node, batch=accept.parse(node=node, body=typed, source="http"), source="http"
    )
    assert node.recorded == [[MetricMetadata("a.b", "counter")]]
    accept.publish(
        node=node, batch=accept.parse(node=node, body=body(), source="http"), source="http"
    )
    assert len(node.recorded) == 1
    node.bus.error = BusBusy("full")
    with pytest.raises(accept.Refused):
        accept.publish(
            node=node, batch=accept.parse(node=node, body=typed, source="http"), source="http"
        )
    assert len(node.recorded) == 1
