"""The wire form of a batch on the Redis stream: JSON metadata plus raw numpy bytes (pure)."""

from __future__ import annotations

import json

import numpy as np

from dashboard.metrics.model import Batch, SeriesKey, SeriesPoints, parse_key

# key text -> key, for the series read back from the stream (a sender repeats its series)
_KEYS: dict[str, SeriesKey] = {}
_MAX_KEYS = 100_000


def encode_batch(batch: Batch) -> dict[str, bytes]:
    """Stream entry fields: ``m`` (keys, units, counts), ``t`` (int64 ms), ``v`` (float64)."""
    live = [s for s in batch.series if s.ts.size]
    meta = [[str(s.key), s.unit, s.ts.size] for s in live]
    ts = [s.ts.astype("<i8", copy=False) for s in live]
    vs = [s.values.astype("<f8", copy=False) for s in live]
    return {
        "m": json.dumps(meta, separators=(",", ":")).encode(),
        "t": np.concatenate(ts).tobytes() if ts else b"",
        "v": np.concatenate(vs).tobytes() if vs else b"",
    }


def decode_batch(fields: dict[bytes, bytes] | dict[str, bytes]) -> Batch:
    """The batch an entry holds (the inverse of ``encode_batch``)."""
    get = {k.decode() if isinstance(k, bytes) else k: v for k, v in fields.items()}
    meta = json.loads(get["m"])
    ts = np.frombuffer(get["t"], dtype="<i8")
    vs = np.frombuffer(get["v"], dtype="<f8")
    out: list[SeriesPoints] = []
    at = 0
    keys = _KEYS
    if len(keys) > _MAX_KEYS:
        keys.clear()
    for key_text, unit, n in meta:
        key = keys.get(key_text)
        if key is None:
            key = keys[key_text] = parse_key(key_text)
        out.append(SeriesPoints(key, ts[at : at + n], vs[at : at + n], unit))
        at += n
    return Batch(out)
