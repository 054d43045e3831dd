"""Taking a batch in, the same way for every source (HTTP JSON, Prometheus text, Socket.IO):
check the token and the batch, hand it to the bus, count what was taken and why the rest was
refused. The HTTP routes and the Socket.IO namespace only translate ``Refused`` for their
callers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from dashboard.auth.users import TokenGrant
from dashboard.clock import now_ms
from dashboard.metrics.cardinality import SeriesLimit, SeriesLimitExceeded
from dashboard.metrics.metadata import MetricMetadata
from dashboard.metrics.model import Batch, Limits, ValidationError, validate_batch
from dashboard.telemetry import Metrics
from ingest.bus import Bus, BusBusy, BusUnavailable

TOKEN_HINT = "send an ingest token as 'Authorization: Bearer <token>'"  # nosec B105 # help text
READ_TOKEN_HINT = "a read token cannot ingest: " + TOKEN_HINT
Parser = Callable[..., Batch]  # (body, *, now_ms, limits) -> Batch, or ValidationError


class Node(Protocol):
    """What ingest needs of a node (``dashboard.runtime.Runtime`` is one)."""

    bus: Bus
    metrics: Metrics
    limits: Limits
    series_limit: SeriesLimit

    def record_metadata(self, entries: list[MetricMetadata]) -> None:
        """Store what a batch said of its metric families (type, help, unit)."""
        ...

    def token_grant(self, token: str) -> TokenGrant | None:
        """The name and scope of a valid bearer token (``ingest`` or ``read``)."""
        ...


class Refused(Exception):
    """A batch not taken: the status and error to answer, and whether to retry in a second."""

    def __init__(self, status: int, message: str, detail: Any, *, retry: bool = False) -> None:
        """A refusal in the API's error shape."""
        super().__init__(message)
        self.status = status
        self.message = message
        self.detail = detail
        self.retry = retry


def authorize(*, node: Node, token: str | None, source: str) -> str:
    """The name of ``token`` when it is a valid ingest token; a counted 403 for a read token
    (its scope forbids ingest), a counted 401 for anything else."""
    grant = node.token_grant(token) if token else None
    if grant is None or grant.scope != "ingest":
        node.metrics.ingest_rejected.labels(source, "auth").inc()
        if grant is not None:
            raise Refused(403, "forbidden", READ_TOKEN_HINT)
        raise Refused(401, "unauthorized", TOKEN_HINT)
    return grant.name


def parse(
    *,
    node: Node,
    body: Any,
    source: str,
    parser: Parser = validate_batch,
    message: str = "invalid batch",
) -> Batch:
    """The batch ``parser`` reads from ``body`` within the node's limits; a counted 400 if
    it is invalid (``message`` says what the body should have been)."""
    try:
        return parser(body, now_ms=now_ms(), limits=node.limits)
    except ValidationError as exc:
        node.metrics.ingest_rejected.labels(source, "invalid").inc()
        raise Refused(400, message, {"field": exc.field, "message": exc.message}) from None


def publish(*, node: Node, batch: Batch, source: str) -> int:
    """Hand a checked batch to the bus and count it; a counted 400 when it would create more
    series than the node allows, a counted 429 or 503 (retry in a second) when the bus cannot
    take it."""
    rejected = node.metrics.ingest_rejected
    try:
        node.series_limit.admit(batch)
    except SeriesLimitExceeded as exc:
        rejected.labels(source, "series_limit").inc()
        detail = {"limit": exc.limit, "series": str(exc.key), "new_series": exc.new}
        raise Refused(400, f"too many series: {exc}", detail) from None
    try:
        accepted = node.bus.publish(batch)
    except BusBusy as exc:
        rejected.labels(source, "busy").inc()
        raise Refused(429, "ingest is behind", str(exc), retry=True) from None
    except BusUnavailable as exc:
        rejected.labels(source, "unavailable").inc()
        raise Refused(503, "storage unavailable", str(exc), retry=True) from None
    node.metrics.ingest_points.labels(source).inc(accepted)
    node.metrics.ingest_batches.labels(source).inc()
    if batch.metadata:  # the receiving node stores it; it does not travel on the bus
        node.record_metadata(batch.metadata)
    return accepted
