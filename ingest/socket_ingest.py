"""The ``/ingest`` Socket.IO namespace: producers stream batches over one connection.

A producer connects with ``auth={"token": <ingest token>}`` and emits ``points`` with the same
body as ``POST /api/v1/ingest``; the ack is ``{"accepted": N}`` once the batch is durable, or
``{"error": ..., "detail": ...}``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import request
from flask_socketio import ConnectionRefusedError, Namespace

from dashboard.clock import now_ms
from dashboard.metrics.model import ValidationError, validate_batch
from dashboard.runtime import Runtime
from ingest.bus import BusBusy, BusUnavailable

NAMESPACE = "/ingest"


class IngestNamespace(Namespace):
    """Token-authenticated producers; every event is validated like the HTTP route."""

    def __init__(self, rt: Runtime, allow: Callable[[str], bool]) -> None:
        """A namespace on one node; ``allow(token_name)`` applies the per-token rate limit."""
        super().__init__(NAMESPACE)
        self.rt = rt
        self.allow = allow
        self.producers: dict[str, str] = {}

    def on_connect(self, auth: Any = None) -> None:
        """Accept a producer holding a valid ingest token (never a user session)."""
        token = auth.get("token") if isinstance(auth, dict) else None
        name = self.rt.ingest_token_name(token) if isinstance(token, str) and token else None
        if name is None:
            self.rt.metrics.ingest_rejected.labels("socket", "auth").inc()
            raise ConnectionRefusedError("unauthorized")
        self.producers[request.sid] = name  # type: ignore[attr-defined]

    def on_disconnect(self, reason: Any = None) -> None:
        """Forget the producer."""
        self.producers.pop(request.sid, None)  # type: ignore[attr-defined]

    def on_points(self, data: Any) -> dict[str, Any]:
        """Validate and publish a batch; the ack says how many points are durable."""
        rejected = self.rt.metrics.ingest_rejected
        name = self.producers.get(request.sid)  # type: ignore[attr-defined]
        if name is None:
            rejected.labels("socket", "auth").inc()
            return {"error": "unauthorized", "detail": "connect with auth={'token': ...}"}
        if not self.allow(name):
            rejected.labels("socket", "rate_limited").inc()
            return {
                "error": "rate limited",
                "detail": "too many batches; slow down",
                "retry_after": 1,
            }
        try:
            batch = validate_batch(data, now_ms=now_ms(), limits=self.rt.limits)
        except ValidationError as exc:
            rejected.labels("socket", "invalid").inc()
            return {
                "error": "invalid batch",
                "detail": {"field": exc.field, "message": exc.message},
            }
        try:
            accepted = self.rt.bus.publish(batch)
        except BusBusy as exc:
            rejected.labels("socket", "busy").inc()
            return {"error": "ingest is behind", "detail": str(exc), "retry_after": 1}
        except BusUnavailable as exc:
            rejected.labels("socket", "unavailable").inc()
            return {"error": "storage unavailable", "detail": str(exc), "retry_after": 1}
        self.rt.metrics.ingest_points.labels("socket").inc(accepted)
        self.rt.metrics.ingest_batches.labels("socket").inc()
        return {"accepted": accepted}
