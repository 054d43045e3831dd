"""Remote write 2.0 bodies to batches: symbols, references, units, refusals (no server)."""

from __future__ import annotations

import math

import cramjam
import pytest

from dashboard.metrics.model import SeriesKey, ValidationError
from ingest import remote_write_v2 as v2

NOW = 1_800_000_000_000


def request(*series: tuple[dict[str, str], list[tuple[int, float]], str]) -> object:
    """A v2 Request of (labels, samples, unit) series, its symbols interned."""
    req = v2.Request()
    symbols = [""]
    for labels, samples, unit in series:
        ts = req.timeseries.add()
        for key, value in sorted(labels.items()):
            for text in (key, value):
                if text not in symbols:
                    symbols.append(text)
                ts.labels_refs.append(symbols.index(text))
        if unit:
            if unit not in symbols:
                symbols.append(unit)
            ts.metadata.unit_ref = symbols.index(unit)
        for t, v in samples:
            ts.samples.add(timestamp=t, value=v)
    req.symbols.extend(symbols)
    return req


def decode(req: object) -> object:
    """Encode (snappy) and decode as the route does."""
    body = bytes(cramjam.snappy.compress_raw(req.SerializeToString()))
    return v2.decode(body, now_ms=NOW, max_bytes=10**6)


def test_symbols_make_labels_and_units():
    """References resolve to labels; unit_ref gives the series its unit; NaN is dropped."""
    req = request(
        ({"__name__": "http_seconds_total", "job": "api"}, [(NOW, 1.5), (NOW + 1, 2.0)], "seconds"),
        ({"__name__": "up", "job": "api"}, [(NOW, 1.0), (NOW + 1, math.nan)], ""),
    )
    decoded = decode(req)
    got = {s.key: (s.values.tolist(), s.unit) for s in decoded.batch.series}
    assert got == {
        SeriesKey.of("http_seconds_total", {"job": "api"}): ([1.5, 2.0], "seconds"),
        SeriesKey.of("up", {"job": "api"}): ([1.0], ""),
    }
    assert decoded.dropped_non_finite == 1


def test_bad_references_and_histograms_are_refused():
    """A reference outside symbols, an odd list, or a native histogram refuses the request."""
    req = request(({"__name__": "x"}, [(NOW, 1.0)], ""))
    req.timeseries[0].labels_refs.append(99)
    with pytest.raises(ValidationError, match="pairs of references"):
        decode(req)
    req = request(({"__name__": "x"}, [(NOW, 1.0)], ""))
    req.timeseries[0].metadata.unit_ref = 50
    with pytest.raises(ValidationError, match="unit_ref"):
        decode(req)
    req = request(({"__name__": "x"}, [(NOW, 1.0)], ""))
    req.timeseries[0].histograms.add(count_int=1)
    with pytest.raises(ValidationError, match="native histograms"):
        decode(req)
    with pytest.raises(ValidationError):
        v2.decode(b"\x03\xff\xff\xff", now_ms=NOW, max_bytes=100)
