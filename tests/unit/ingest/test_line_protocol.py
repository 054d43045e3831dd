"""InfluxDB line protocol to batches: fields, tags, escapes, precision, refusals (no server)."""

from __future__ import annotations

import pytest

from dashboard.metrics.model import Limits, ValidationError
from ingest import line_protocol as lp

NOW = 1_800_000_000_000


def points(text: str, **kwargs) -> dict[str, list[list[float]]]:
    """Series text -> [[ts, value]] of a body."""
    decoded = lp.decode(text, now_ms=NOW, **kwargs)
    return {
        str(s.key): [[int(t), float(v)] for t, v in zip(s.ts, s.values, strict=True)]
        for s in decoded.batch.series
    }


def test_fields_become_series_and_tags_labels():
    """Floats, integers, unsigned and booleans; nanosecond timestamps; no timestamp is now."""
    ns = NOW * 1_000_000
    text = (
        f"cpu,host=a,cpu=cpu0 usage_user=1.5,n=3i,u=4u,up=t,down=FALSE {ns}\n"
        "# a comment\n\n"
        "mem,host=a used=10\n"
    )
    assert points(text) == {
        'cpu_usage_user{cpu="cpu0",host="a"}': [[NOW, 1.5]],
        'cpu_n{cpu="cpu0",host="a"}': [[NOW, 3.0]],
        'cpu_u{cpu="cpu0",host="a"}': [[NOW, 4.0]],
        'cpu_up{cpu="cpu0",host="a"}': [[NOW, 1.0]],
        'cpu_down{cpu="cpu0",host="a"}': [[NOW, 0.0]],
        'mem_used{host="a"}': [[NOW, 10.0]],
    }


def test_escapes_quotes_and_names_made_valid():
    """Escaped spaces, commas and equals; strings with spaces are skipped and counted."""
    text = f'disk\\ io,path=/var\\,x,mode=a\\=b read-bytes=5,msg="a b, c=\\"d\\"",w=1 {NOW // 1000}'
    decoded = lp.decode(text, now_ms=NOW, precision="s")
    got = {str(s.key): s.values.tolist() for s in decoded.batch.series}
    assert got == {
        'disk_io_read_bytes{mode="a=b",path="/var,x"}': [5.0],
        'disk_io_w{mode="a=b",path="/var,x"}': [1.0],
    }
    assert decoded.string_fields == 1
    assert decoded.batch.series[0].ts.tolist() == [NOW // 1000 * 1000]


@pytest.mark.parametrize(
    ("precision", "stamp"),
    [("ns", NOW * 10**6), ("us", NOW * 1000), ("ms", NOW), ("s", NOW // 1000), ("u", NOW * 1000)],
)
def test_precisions(precision, stamp):
    """Each precision reads its unit."""
    got = points(f"m v=1 {stamp}", precision=precision)
    assert got == {"m_v": [[stamp * lp.PRECISIONS[precision] // 1_000_000, 1.0]]}


def test_a_series_over_several_lines_is_one_series():
    """The same measurement and tags at several times: one series, sorted."""
    assert points(f"m,a=1 v=2 {NOW}\nm,a=1 v=1 {NOW - 5}", precision="ms") == {
        'm_v{a="1"}': [[NOW - 5, 1.0], [NOW, 2.0]]
    }


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("m", "line 1"),
        ("m v=1\nm", "line 2"),
        ("m v=abc", "line 1"),
        ("m v=", "line 1"),
        ("m,t v=1", "line 1"),
        ('m v="open', "line 1"),
        ("m v=1 12x", "line 1"),
        ("m v=1 1", "m_v timestamp"),
        ("m v=1e999", "m_v value"),
        ("m v=99999999999999999999i", "line 1"),
        ("m v=nan", "line 1"),
        ("m v=1 2 3", "line 1"),
    ],
)
def test_a_bad_line_refuses_the_body_naming_it(text, field):
    """The whole body is refused; the error names the line or the series."""
    with pytest.raises(ValidationError) as caught:
        lp.decode(text, now_ms=NOW, precision="ms")
    assert caught.value.field == field


def test_limits_and_precision():
    """The point limit applies; an unknown precision is refused."""
    with pytest.raises(ValidationError, match="exceeds 2 points"):
        lp.decode("m a=1,b=2,c=3", now_ms=NOW, limits=Limits(max_points=2))
    with pytest.raises(ValidationError) as caught:
        lp.decode("m a=1", now_ms=NOW, precision="weeks")
    assert caught.value.field == "precision"
