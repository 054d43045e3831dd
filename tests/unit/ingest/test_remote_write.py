"""Remote write 1.0 bodies to batches: snappy, protobuf, names, units, refusals (no server)."""

from __future__ import annotations

import math
import struct

import cramjam
import pytest

from dashboard.metrics.model import Limits, SeriesKey, ValidationError
from ingest import remote_write as rw

NOW = 1_800_000_000_000
# the NaN Prometheus writes when a series goes away
STALE_NAN = struct.unpack("<d", (0x7FF0000000000002).to_bytes(8, "little"))[0]


def request(*series: tuple[dict[str, str], list[tuple[int, float]]], metadata=()) -> object:
    """A WriteRequest of (labels with __name__, [(ts, value)]) series."""
    req = rw.WriteRequest()
    for labels, samples in series:
        ts = req.timeseries.add()
        for name, value in sorted(labels.items()):
            ts.labels.add(name=name, value=value)
        for t, v in samples:
            ts.samples.add(timestamp=t, value=v)
    for family, unit in metadata:
        req.metadata.add(type=1, metric_family_name=family, help="h", unit=unit)
    return req


def decode(req: object, **kwargs) -> rw.Decoded:
    """Encode then decode a request as the route would."""
    return rw.decode(rw.encode(req), now_ms=NOW, max_bytes=10**7, **kwargs)


def test_each_sample_is_a_point_of_its_series():
    """__name__ is the name, the other labels stay, samples become sorted points."""
    req = request(
        ({"__name__": "node_load1", "job": "node"}, [(NOW - 2000, 1.5), (NOW - 1000, 2.5)]),
        ({"__name__": "up", "job": "node", "instance": "a:9100"}, [(NOW, 1.0)]),
    )
    decoded = decode(req)
    got = {s.key: (s.ts.tolist(), s.values.tolist()) for s in decoded.batch.series}
    assert got == {
        SeriesKey.of("node_load1", {"job": "node"}): ([NOW - 2000, NOW - 1000], [1.5, 2.5]),
        SeriesKey.of("up", {"job": "node", "instance": "a:9100"}): ([NOW], [1.0]),
    }
    assert decoded.dropped_non_finite == 0


def test_unsorted_and_repeated_series_merge_with_the_last_value_winning():
    """A series sent twice in one request is one series; a repeated timestamp keeps the last."""
    labels = {"__name__": "x", "a": "1"}
    decoded = decode(request((labels, [(NOW, 1.0), (NOW - 5, 2.0)]), (labels, [(NOW, 3.0)])))
    (series,) = decoded.batch.series
    assert series.ts.tolist() == [NOW - 5, NOW] and series.values.tolist() == [2.0, 3.0]


def test_staleness_markers_and_nan_are_dropped_and_counted():
    """Non-finite samples are left out; a series of only those adds nothing."""
    req = request(
        ({"__name__": "a"}, [(NOW - 1, 1.0), (NOW, STALE_NAN)]),
        ({"__name__": "b"}, [(NOW, math.inf)]),
    )
    decoded = decode(req)
    assert [(s.key.name, s.values.tolist()) for s in decoded.batch.series] == [("a", [1.0])]
    assert decoded.dropped_non_finite == 2


def test_metadata_gives_the_unit_of_its_family():
    """The unit of a family's metadata goes to its series, suffixes included."""
    req = request(
        ({"__name__": "req_seconds_total"}, [(NOW, 1.0)]),
        ({"__name__": "temp"}, [(NOW, 1.0)]),
        metadata=[("req_seconds", "seconds")],
    )
    units = {s.key.name: s.unit for s in decode(req).batch.series}
    assert units == {"req_seconds_total": "seconds", "temp": ""}


@pytest.mark.parametrize(
    ("labels", "samples", "field"),
    [
        ({"job": "x"}, [(NOW, 1.0)], '{job="x"} name'),
        ({"__name__": "bad name"}, [(NOW, 1.0)], "bad name name"),
        ({"__name__": "x", "bad-key": "v"}, [(NOW, 1.0)], 'x{bad-key="v"} labels.bad-key'),
        ({"__name__": "x"}, [(NOW - 2 * 86_400_000, 1.0)], "x timestamp"),
        ({"__name__": "x", "a": "\x00"}, [(NOW, 1.0)], 'x{a="\x00"} labels.a'),
    ],
)
def test_a_bad_series_refuses_the_request_naming_it(labels, samples, field):
    """The whole request is refused, and the error names the series and field."""
    req = request(({"__name__": "fine"}, [(NOW, 1.0)]), (labels, samples))
    with pytest.raises(ValidationError) as caught:
        decode(req)
    assert caught.value.field == field


def test_limits_apply():
    """The point and label limits of the node apply."""
    limits = Limits(max_points=3, max_labels=2)
    with pytest.raises(ValidationError, match="exceeds 3 points"):
        decode(request(({"__name__": "x"}, [(NOW - i, 1.0) for i in range(4)])), limits=limits)
    many = {"__name__": "x", "a": "1", "b": "2", "c": "3"}
    with pytest.raises(ValidationError, match="more than 2 labels"):
        decode(request((many, [(NOW, 1.0)])), limits=limits)


def test_native_histograms_and_repeated_labels_are_refused():
    """What the model cannot hold is refused whole, with a reason."""
    req = request(({"__name__": "h"}, [(NOW, 1.0)]))
    req.timeseries[0].histograms.add(count_int=3)
    with pytest.raises(ValidationError, match="native histograms"):
        decode(req)
    req = request(({"__name__": "h"}, [(NOW, 1.0)]))
    req.timeseries[0].labels.add(name="__name__", value="again")
    with pytest.raises(ValidationError, match="repeats"):
        decode(req)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"\xff\xff\xff\xff\xff\xff",
        b"\x05abc",
        bytes(cramjam.snappy.compress_raw(b"\xff\xff\xff")),
        bytes(cramjam.snappy.compress_raw(b"\x0a\x05\x0a\x03")),
    ],
)
def test_malformed_bodies_are_validation_errors(body):
    """Not snappy, not protobuf, truncated: a ValidationError on the body, never a crash."""
    with pytest.raises(ValidationError) as caught:
        rw.decode(body, now_ms=NOW, max_bytes=10**6)
    assert caught.value.field == "body"


def test_a_body_decompressing_past_the_limit_is_refused_before_decompressing():
    """The snappy header's length is checked first."""
    body = rw.encode(request(({"__name__": "x" * 100}, [(NOW, 1.0)])))
    with pytest.raises(ValidationError, match="decompresses to"):
        rw.decode(body, now_ms=NOW, max_bytes=50)
