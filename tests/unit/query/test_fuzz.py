"""Generated expressions and junk never crash the engine: a value or a QueryError."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard.query.engine import Engine
from dashboard.query.parse import ParseError, parse
from dashboard.query.values import QueryError
from tests.unit.query.helpers import MemQuerier, series

DATA = [
    series("x", [(t, t % 97) for t in range(0, 900, 15)], a="1", b="p"),
    series("x", [(t, t) for t in range(3, 900, 15)], a="2", b="q"),
    series("h", [(t, t) for t in range(0, 900, 15)], le="1"),
    series("h", [(t, 2 * t) for t in range(0, 900, 15)], le="+Inf"),
]
RANGE_FNS = ["rate", "irate", "increase", "delta", "deriv", "resets", "changes", "avg_over_time"]
AGGS = ["sum", "avg", "min", "max", "count", "stddev", "group"]
OPS = ["+", "-", "*", "/", "%", "^", "==", "!=", ">", "<", "and", "or", "unless"]

selectors = st.sampled_from(["x", 'x{a="1"}', 'x{b=~"p|q"}', "h", 'nothing{a!="z"}'])
ranges = st.sampled_from(["[1m]", "[5m]", "[2m:30s]", "[1m] offset 30s"])
scalars = st.sampled_from(["0", "1", "0.5", "-2", "time()", "scalar(x)"])


def _extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Expressions built around smaller ones."""
    return st.one_of(
        st.builds(lambda f, s, r: f"{f}({s}{r})", st.sampled_from(RANGE_FNS), selectors, ranges),
        st.builds(lambda a, e: f"{a}({e})", st.sampled_from(AGGS), inner),
        st.builds(lambda a, e: f"{a} by (a) ({e})", st.sampled_from(AGGS), inner),
        st.builds(lambda k, e: f"topk({k}, {e})", st.integers(-1, 3), inner),
        st.builds(lambda q, e: f"quantile({q}, {e})", scalars, inner),
        st.builds(lambda a, o, b: f"({a}) {o} ({b})", inner, st.sampled_from(OPS), inner),
        st.builds(lambda a, o, b: f"({a}) {o} on(a) ({b})", inner, st.sampled_from(OPS), inner),
        st.builds(lambda a, b: f"({a}) > bool ({b})", inner, scalars),
        st.builds(lambda e: f"abs({e})", inner),
        st.builds(lambda e: f"histogram_quantile(0.9, {e})", inner),
        st.builds(lambda e: f'count_values("v", {e})', inner),
        st.builds(lambda e: f'label_replace({e}, "c", "$1", "a", "(.*)")', inner),
        st.builds(lambda e: f"max_over_time(({e})[3m:1m])", inner),
    )


expressions = st.recursive(st.one_of(selectors, scalars), _extend, max_leaves=6)


def _run(text: str) -> None:
    """Parse and evaluate as instant and range queries; only QueryError may escape."""
    try:
        expr = parse(text)
    except ParseError:
        return
    for evaluate in (
        lambda: Engine(MemQuerier(DATA)).instant(expr, 800_000),
        lambda: Engine(MemQuerier(DATA)).range(expr, 100_000, 800_000, 45_000),
    ):
        try:
            evaluate()
        except QueryError:
            pass


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(expressions)
def test_generated_expressions_evaluate_or_refuse(text):
    """Valid-looking expressions give a value or a QueryError."""
    _run(text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet='xyz(){}[]"=~!,+-*/^ 015msbyonsumrate@:', max_size=40))
def test_junk_is_a_parse_error_or_a_value(text):
    """Arbitrary strings never raise anything but QueryError."""
    _run(text)
