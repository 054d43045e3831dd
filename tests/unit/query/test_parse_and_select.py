"""Parse errors with positions, regex refusals, selectors, lookback, offset and @."""

from __future__ import annotations

import pytest

from dashboard.query.parse import MAX_OPERATORS, ParseError, nodes, parse
from dashboard.query.values import ExecutionError, QueryError
from tests.unit.query.helpers import instant, one, series

DATA = [
    series("up", [(0, 1), (60, 0)], job="api", instance="a:1"),
    series("up", [(0, 1), (60, 1)], job="db", instance="b:2"),
    series("demo.active_users", [(0, 5)], route="/api"),
]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ('foo{a="b"}}', "parse error at char 11: unexpected right brace"),
        ("sum(rate(x[5m])", "parse error at char 4: unclosed left parenthesis"),
        ("x{", "parse error at char 3: unexpected end of input"),
        ("x[5x]", "parse error at char 3: bad number or duration syntax"),
        ("nofunc(x)", "parse error at char 1: unknown function"),
        ("", "parse error at char 1: no expression"),
    ],
)
def test_parse_errors_name_the_problem_and_its_position(query, message):
    """Messages in Prometheus' words with the character position."""
    with pytest.raises(ParseError) as info:
        parse(query)
    assert str(info.value).startswith(message)


def test_hostile_expressions_are_refused():
    """Deep nesting, RE2-incompatible and backtracking-prone regexes."""
    with pytest.raises(ParseError, match="nested deeper"):
        parse("(" * 200 + "x" + ")" * 200)
    with pytest.raises(ParseError, match="RE2"):
        parse('x{a=~"[[:alpha:]]+"}')
    with pytest.raises(ParseError, match="illegal regex"):
        parse('x{a=~"(?=a)b"}')
    with pytest.raises(ParseError, match="nested repetition"):
        parse('x{a=~"(a+)+"}')


def test_matchers_are_anchored_and_absent_labels_are_empty():
    """=~ matches the whole value; != and !~ pick series without the label."""
    assert len(instant(DATA, 'up{job=~"ap"}', 60)) == 0
    assert len(instant(DATA, 'up{job=~"ap.*"}', 60)) == 1
    assert len(instant(DATA, 'up{job!~"api|db"}', 60)) == 0
    assert len(instant(DATA, 'up{zone!="x"}', 60)) == 2
    assert len(instant(DATA, '{__name__=~"up|demo.*"}', 60)) == 3


def test_quoted_utf8_metric_names():
    """Prometheus 3's quoted name inside the braces."""
    assert one(DATA, '{"demo.active_users", route="/api"}', 10) == 5


def test_lookback_is_five_minutes_left_open():
    """A sample is seen for 5 m after it, not at exactly t - 5m."""
    assert one(DATA, 'up{job="api"}', 359.999) == 0
    assert instant(DATA, 'up{job="api"}', 360) == {}


def test_long_operator_chains_are_refused_before_the_parser_sees_them():
    """promql-parser slows with the square of a chain and overflows its stack past some 5,000
    operators (the process dies): over MAX_OPERATORS is a parse error; strings do not count."""
    parse("up+" * MAX_OPERATORS + "up")
    parse('up{a="' + "-+*/" * 1_000 + '"}')
    for query in ("up+" * (MAX_OPERATORS + 1) + "up", "1+" * 8_000 + "1", "-" * 16_000 + "1"):
        with pytest.raises(ParseError, match="more than 256 operators"):
            parse(query)


def test_nodes_lists_every_node_parents_first():
    """The linear walk finds what promql_parser.walk finds."""
    expr = parse('sum by (a) (rate(x{a="b"}[5m] offset 1m)) + topk(2, -max_over_time(y[5m:1m]))')
    assert [type(n).__name__ for n in nodes(expr)] == [
        "BinaryExpr",
        "AggregateExpr",
        "Call",
        "MatrixSelector",
        "VectorSelector",
        "AggregateExpr",
        "NumberLiteral",
        "UnaryExpr",
        "Call",
        "SubqueryExpr",
        "VectorSelector",
    ]


def test_ranges_of_years_within_prometheus_bounds_parse():
    """Up to about 292 years a range or offset is fine, as in Prometheus."""
    for query in ("rate(up[290y])", "up offset 100y", "max_over_time(up[10y:1d])"):
        parse(query)


def test_offset_and_at():
    """offset looks back; @ pins the evaluation time."""
    assert one(DATA, 'up{job="api"} offset 1m', 60) == 1
    assert one(DATA, 'up{job="api"} @ 30', 100) == 1
    assert one(DATA, 'up{job="api"} @ 60', 0) == 0


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("up @ 1e15", "out of bounds"),
        ("rate(up[5m] @ 1e12)", "out of bounds"),
        ("up @ -1", "before 1970"),
        ("max_over_time(up[1m:15s] @ -1e15)", "before 1970"),
        ("rate(up[100000000y])", "range: duration out of range"),
        ("up offset 1000y", "offset: duration out of range"),
        ("max_over_time(up[5m:100000000y])", "step: duration out of range"),
        ("rate(up[5m] offset -100000000y)", "offset: duration out of range"),
    ],
)
def test_times_the_parser_cannot_hand_over_are_bad_data(query, message):
    """``@`` past year 9999 or before 1970, durations past Prometheus' 292 years: a
    QueryError (bad_data), never a crash."""
    with pytest.raises(QueryError, match=message) as info:
        instant(DATA, query, 60)
    assert info.value.kind == "bad_data"


def test_duplicate_label_sets_after_dropping_the_name_are_an_error():
    """rate over two metrics with the same labels collides, as in Prometheus."""
    data = [series("a", [(0, 1), (30, 2)], x="1"), series("b", [(0, 1), (30, 2)], x="1")]
    with pytest.raises(ExecutionError, match="same labelset"):
        instant(data, '-{__name__=~"a|b"}', 30)
