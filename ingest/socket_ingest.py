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

from ingest import accept

NAMESPACE = "/ingest"


class IngestNamespace(Namespace):
    """Token-authenticated producers; every event is validated like the HTTP route."""

    def __init__(self, node: accept.Node, allow: Callable[[str], bool]) -> None:
        """A namespace on one node; ``allow(token_name)`` applies the per-token rate limit."""
        super().__init__(NAMESPACE)
        self.node = node
        self.allow = allow
        self.producers: dict[str, str] = {}

    def on_connect(self, auth: Any = None) -> None:
        """Accept a producer holding a valid ingest token (never a user session)."""
        token = auth.get("token") if isinstance(auth, dict) else None
        try:
            name = accept.authorize(
                node=self.node, token=token if isinstance(token, str) else None, source="socket"
            )
        except accept.Refused:
            raise ConnectionRefusedError("unauthorized") from None
        self.producers[request.sid] = name  # type: ignore[attr-defined]

    def on_disconnect(self, reason: Any = None) -> None:
        """Forget the producer."""
        self.producers.pop(request.sid, None)  # type: ignore[attr-defined]

    def on_points(self, data: Any) -> dict[str, Any]:
        """Validate and publish a batch; the ack says how many points are durable."""
        rejected = self.node.metrics.ingest_rejected
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
            batch = accept.parse(node=self.node, body=data, source="socket")
            accepted = accept.publish(node=self.node, batch=batch, source="socket")
        except accept.Refused as refused:
            ack = {"error": refused.message, "detail": refused.detail}
            return {**ack, "retry_after": 1} if refused.retry else ack
        return {"accepted": accepted}
