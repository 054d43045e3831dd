"""What the ecosystem's agents send: Prometheus remote write, OTLP/HTTP metrics, InfluxDB line
protocol. Thin routes over the pure decoders and ``accept`` (token, parse, publish), each
rate-limited per token and size-limited like the JSON ingest; 2xx only once durable."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import RequestEntityTooLarge

from dashboard.auth.guard import token_auth
from dashboard.auth.limits import ingest_limit
from dashboard.extensions import current_runtime, limiter
from dashboard.metrics.model import Batch, Limits, ValidationError
from ingest import accept, line_protocol, otlp, remote_write, remote_write_v2
from ingest.http import _refusal

bp = Blueprint("receivers", __name__)


def request_token() -> str:
    """The ingest token of a request: ``Bearer`` or InfluxDB's ``Token`` scheme, HTTP Basic's
    password, or the ``p`` query parameter (InfluxDB 1.x clients)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() in ("bearer", "token"):
        return token.strip()
    if request.authorization is not None and request.authorization.password:
        return request.authorization.password
    return request.args.get("p", "")


def receiver_key() -> str:
    """A digest of the request's token: the key of the per-token ingest limit."""
    token = request_token()
    return "token:" + hashlib.sha256(token.encode()).hexdigest()[:16] if token else "token:-"


def max_bytes() -> int:
    """The largest body taken, compressed or not (``DASHBOARD_MAX_BODY_BYTES``)."""
    return int(current_app.config["MAX_CONTENT_LENGTH"] or 8 * 1024 * 1024)


def body_bytes(source: str) -> bytes:
    """The raw request body; a counted 413 (as ``Refused``) above the size limit."""
    try:
        return request.get_data(cache=False)
    except RequestEntityTooLarge:
        current_runtime().metrics.ingest_rejected.labels(source, "too_large").inc()
        raise accept.Refused(413, "payload too large", f"at most {max_bytes()} bytes") from None


def refuse_unsupported(source: str, message: str, detail: str) -> accept.Refused:
    """A counted 415 for a body in a form the receiver does not read."""
    current_runtime().metrics.ingest_rejected.labels(source, "content_type").inc()
    return accept.Refused(415, message, detail)


def take(source: str, parser: Callable[..., Batch], body: Any, message: str) -> tuple[Batch, int]:
    """Parse and publish a body: the batch and the count accepted (``Refused`` else)."""
    rt = current_runtime()
    batch = accept.parse(node=rt, body=body, source=source, parser=parser, message=message)
    return batch, accept.publish(node=rt, batch=batch, source=source)


def count_dropped(source: str, reason: str, n: int) -> None:
    """Count samples left out of an accepted request (non-finite values, string fields)."""
    if n:
        current_runtime().metrics.ingest_rejected.labels(source, reason).inc(n)


# --- Prometheus remote write 1.0 and 2.0 --------------------------------------------------------

MAX_FAMILIES = 100_000


def family_units() -> dict[str, str]:
    """The units this node has seen in remote write metadata, by metric family."""
    return current_app.extensions.setdefault("remote_write_units", {})


def remember_units(known: dict[str, str], sent: dict[str, str]) -> None:
    """Keep the units of a request's metadata for the series of later requests (bounded)."""
    if sent:
        if len(known) + len(sent) > MAX_FAMILIES:
            known.clear()
        known.update(sent)


def remote_write_version(source: str) -> int:
    """1 or 2, from the request's Content-Type; a counted 415 for another encoding or proto."""
    encoding = request.headers.get("Content-Encoding", "snappy").lower()
    proto = request.mimetype_params.get("proto", "prometheus.WriteRequest")
    if encoding == "snappy" and proto in ("prometheus.WriteRequest", remote_write_v2.PROTO):
        return 2 if proto == remote_write_v2.PROTO else 1
    raise refuse_unsupported(
        source,
        "unsupported remote write request",
        f"send snappy-compressed prometheus.WriteRequest (1.0) or {remote_write_v2.PROTO} (2.0)",
    )


def written(response: ResponseReturnValue, samples: int) -> ResponseReturnValue:
    """A remote write answer with the 2.0 ``X-Prometheus-Remote-Write-*-Written`` headers."""
    out = current_app.make_response(response)
    out.headers["X-Prometheus-Remote-Write-Samples-Written"] = str(samples)
    out.headers["X-Prometheus-Remote-Write-Histograms-Written"] = "0"
    out.headers["X-Prometheus-Remote-Write-Exemplars-Written"] = "0"
    return out


@bp.post("/api/v1/write")
@token_auth
@limiter.limit(ingest_limit, key_func=receiver_key)
def prometheus_write() -> ResponseReturnValue:
    """Accept a remote write 1.0 or 2.0 request (snappy protobuf); 204 once durable."""
    rt = current_runtime()
    source = "remote_write"
    accepted = 0
    try:
        accept.authorize(node=rt, token=request_token(), source=source)
        version = remote_write_version(source)
        data = body_bytes(source)
        known = family_units()
        decoded: list[remote_write.Decoded] = []

        def parser(body: bytes, *, now_ms: int, limits: Limits) -> Batch:
            """Decode the body, noting the samples dropped and the units sent."""
            if version == 2:
                found = remote_write_v2.decode(
                    body, now_ms=now_ms, limits=limits, max_bytes=max_bytes()
                )
            else:
                found = remote_write.decode(
                    body, now_ms=now_ms, limits=limits, max_bytes=max_bytes(), known_units=known
                )
            decoded.append(found)
            return found.batch

        accepted = take(source, parser, data, "invalid remote write request")[1]
        count_dropped(source, "dropped_non_finite", decoded[0].dropped_non_finite)
        remember_units(known, decoded[0].units)
    except accept.Refused as refused:
        return written(_refusal(refused), 0)
    return written(Response(status=204), accepted)


# --- OTLP/HTTP metrics ----------------------------------------------------------------------

JSON_TYPES = ("application/json",)
PROTOBUF_TYPES = ("application/x-protobuf", "application/protobuf", "application/octet-stream")


def delta_totals() -> otlp.DeltaTotals:
    """This node's running totals of delta series."""
    return current_app.extensions.setdefault("otlp_delta_totals", otlp.DeltaTotals())


def otlp_body(source: str) -> tuple[bytes, bool]:
    """The (decompressed) body and whether it is JSON; a counted 415 for other forms."""
    mimetype = request.mimetype
    if mimetype not in JSON_TYPES + PROTOBUF_TYPES:
        raise refuse_unsupported(
            source, "unsupported media type", "send application/x-protobuf or application/json"
        )
    encoding = request.headers.get("Content-Encoding", "identity").lower()
    if encoding not in ("gzip", "identity"):
        raise refuse_unsupported(source, "unsupported content encoding", "send gzip or identity")
    data = body_bytes(source)
    return data, mimetype in JSON_TYPES


@bp.post("/api/v1/otlp/v1/metrics")
@token_auth
@limiter.limit(ingest_limit, key_func=receiver_key)
def otlp_metrics() -> ResponseReturnValue:
    """Accept an OTLP/HTTP metrics export; 200 once durable, with OTLP's partial success."""
    rt = current_runtime()
    source = "otlp"
    decoded: list[otlp.Decoded] = []
    try:
        accept.authorize(node=rt, token=request_token(), source=source)
        data, as_json = otlp_body(source)

        def parser(body: bytes, *, now_ms: int, limits: Limits) -> Batch:
            """Decompress and decode the export."""
            if request.headers.get("Content-Encoding", "").lower() == "gzip":
                body = otlp.gunzip(body, max_bytes=max_bytes())
            promote = tuple(rt.settings.otlp_promote_attributes)
            if as_json:
                got = otlp.json_batch(body, now_ms=now_ms, limits=limits, promote=promote)
            else:
                message = otlp.parse_protobuf(body)
                got = otlp.request_batch(message, now_ms=now_ms, limits=limits, promote=promote)
            decoded.append(got)
            if not decoded[0].batch.series and decoded[0].rejected:
                raise ValidationError("body", decoded[0].error)
            return decoded[0].batch

        totals = delta_totals()
        with totals.lock:
            batch = accept.parse(
                node=rt, body=data, source=source, parser=parser, message="invalid OTLP export"
            )
            pending = totals.accumulate(batch, decoded[0].delta)
            accept.publish(node=rt, batch=batch, source=source)
            totals.commit(pending)
        count_dropped(source, "rejected_points", decoded[0].rejected)
    except accept.Refused as refused:
        return _refusal(refused)
    body, content_type = otlp.response(decoded[0], as_json=as_json)
    return Response(body, status=200, content_type=content_type)


# --- InfluxDB line protocol -----------------------------------------------------------------


def influx_body(source: str) -> tuple[bytes, bool]:
    """The body and whether it is gzip; a counted 415 for another encoding."""
    encoding = request.headers.get("Content-Encoding", "identity").lower()
    if encoding not in ("gzip", "identity"):
        raise refuse_unsupported(source, "unsupported content encoding", "send gzip or identity")
    return body_bytes(source), encoding == "gzip"


@bp.post("/api/v2/write")
@bp.post("/write")
@token_auth
@limiter.limit(ingest_limit, key_func=receiver_key)
def influx_write() -> ResponseReturnValue:
    """Accept InfluxDB line protocol (v2 and v1 write APIs); 204 once durable."""
    rt = current_runtime()
    source = "influx"
    strings: list[int] = []
    try:
        accept.authorize(node=rt, token=request_token(), source=source)
        data, gzipped = influx_body(source)

        def parser(body: bytes, *, now_ms: int, limits: Limits) -> Batch:
            """Decompress and decode the lines, noting the string fields left out."""
            if gzipped:
                body = otlp.gunzip(body, max_bytes=max_bytes())
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ValidationError("body", f"not UTF-8: {exc}") from None
            precision = request.args.get("precision")
            decoded = line_protocol.decode(text, now_ms=now_ms, limits=limits, precision=precision)
            strings.append(decoded.string_fields)
            return decoded.batch

        take(source, parser, data, "invalid line protocol")
        count_dropped(source, "string_field", strings[0])
    except accept.Refused as refused:
        return _refusal(refused)
    headers = {"X-String-Fields-Refused": str(strings[0])} if strings[0] else {}
    return Response(status=204, headers=headers)
