"""Dashboard variables: definitions, the values a page picks, and their interpolation, hostile
values included (dashboard/boards/variables.py)."""

from __future__ import annotations

import re

import pytest

from dashboard.boards.models import default_dashboard, validate_dashboard
from dashboard.boards.variables import (
    ALL,
    Picked,
    VariableError,
    changed,
    expand_labels,
    free_values,
    interpolate_dashboard,
    interpolate_expr,
    interpolate_text,
    parse_label_values,
    pick,
    promql_match,
    references,
    url_values,
    valid_variables,
    widget_references,
    wire_values,
)
from dashboard.boards.view import read_search, with_variables
from dashboard.metrics.model import ValidationError
from dashboard.query.parse import parse, selector_matchers


def one(name: str, value: str) -> Picked:
    """A variable with one value picked."""
    return Picked(name, (value,))


def matcher_values(expr: str) -> dict[str, tuple[str, str]]:
    """Each label matcher of ``expr`` as PromQL reads it: label -> (operator, value)."""
    out = {}
    for m in selector_matchers(parse(expr)):
        out[m.name] = (m.op, m.value)
    return out


def test_references_in_every_form_grafana_writes() -> None:
    text = 'x{a="$one", b="${two}", c="${three:regex}", d="[[four]]"} $five_5'
    assert references(text) == {"one", "two", "three", "four", "five_5"}


def test_a_single_value_is_written_as_it_is_in_an_equality_matcher() -> None:
    out = interpolate_expr('demo{route="$route"}', {"route": one("route", "/api/v1.x")})
    assert out == 'demo{route="/api/v1.x"}'


def test_a_single_value_is_regex_escaped_in_a_regex_matcher() -> None:
    out = interpolate_expr('demo{route=~"$route"}', {"route": one("route", "/a.b+c")})
    assert out == 'demo{route=~"/a\\\\.b\\\\+c"}'
    assert matcher_values(out)["route"][1] == "/a\\.b\\+c"  # the regex matches just /a.b+c


def test_multi_values_become_a_regex_alternation() -> None:
    picked = {"route": Picked("route", ("/a", "/b.c"))}
    out = interpolate_expr('sum(rate(demo{route=~"$route"}[5m]))', picked)
    assert matcher_values(out)["route"][1] == "(/a|/b\\.c)"


def test_all_is_dot_star_or_the_custom_all_value() -> None:
    everything = {"route": Picked("route", ("/a", "/b"), all=True)}
    assert matcher_values(interpolate_expr('x{r=~"$route"}', everything))["r"][1] == ".*"
    custom = {"route": Picked("route", ("/a", "/b"), all=True, all_value="/.+")}
    assert matcher_values(interpolate_expr('x{r=~"$route"}', custom))["r"][1] == "/.+"


@pytest.mark.parametrize(
    "hostile",
    [
        '"} or vector(1) or x{a="',
        '\\"} or vector(1) #',
        "a\\",
        "'} or up{'",
        "x\ny",
        ".*",
        "(a|b",
        "`",
    ],
)
def test_a_hostile_value_never_leaves_its_string(hostile: str) -> None:
    for quote in ('"', "'"):
        for op in ("=", "=~"):
            expr = f"sum(demo{{route{op}{quote}$route{quote}}})"
            out = interpolate_expr(expr, {"route": one("route", hostile)})
            matchers = matcher_values(out)  # still one selector with one matcher
            assert set(matchers) == {"route", "__name__"}
            _op, value = matchers["route"]
            if op == "=":
                assert value == hostile
            else:  # the regex matches exactly the hostile text, nothing else
                assert re.fullmatch(value, hostile)
                assert not re.fullmatch(value, hostile + "x")


def test_a_backtick_value_cannot_go_into_a_raw_string() -> None:
    with pytest.raises(VariableError):
        interpolate_expr("x{a=`$v`}", {"v": one("v", "a`b")})


def test_outside_a_string_only_a_plain_token_is_written() -> None:
    assert interpolate_expr("rate(x[$iv])", {"iv": one("iv", "5m")}) == "rate(x[5m])"
    with pytest.raises(VariableError):
        interpolate_expr("sum($m)", {"m": one("m", "x) or vector(1")})
    with pytest.raises(VariableError):
        interpolate_expr("sum($m)", {"m": Picked("m", ("a", "b"))})


def test_unknown_references_comments_and_formats() -> None:
    picked = {"a": Picked("a", ("x", "y"))}
    assert interpolate_expr('q{l="$other"}', picked) == 'q{l="$other"}'
    assert interpolate_expr('q{l=~"$a"} # $a', picked) == 'q{l=~"(x|y)"} # $a'
    assert interpolate_expr('q{l=~"${a:pipe}"}', picked) == 'q{l=~"x|y"}'
    assert interpolate_expr('q{l="${a:csv}"}', picked) == 'q{l="x,y"}'
    assert interpolate_expr('q{l=~"[[a]]"}', picked) == 'q{l=~"(x|y)"}'
    with pytest.raises(VariableError):
        interpolate_expr('q{l="${a:nope}"}', picked)


def test_legends_and_titles_get_the_values_as_text() -> None:
    assert interpolate_text("Requests: $route", {"route": Picked("r", ("/a", "/b"))}) == (
        "Requests: /a + /b"
    )
    assert interpolate_text("$route", {"route": Picked("route", ("/a",), all=True)}) == "All"


def test_stored_series_labels_expand_per_value_and_all_drops_the_label() -> None:
    picked = {"route": Picked("route", ("/a", "/b")), "r": one("r", "eu")}
    assert expand_labels({"route": "$route", "region": "$r"}, picked) == [
        {"route": "/a", "region": "eu"},
        {"route": "/b", "region": "eu"},
    ]
    assert expand_labels({"route": "$route"}, {"route": Picked("route", ("/a",), True)}) == [{}]
    assert expand_labels({"route": "pre-$r"}, picked) == [{"route": "pre-eu"}]


def test_label_values_queries_and_selectors() -> None:
    assert parse_label_values("label_values(demo.requests, route)") == ("demo.requests", "route")
    assert parse_label_values('label_values(up{job="a,b"}, instance)') == (
        'up{job="a,b"}',
        "instance",
    )
    assert parse_label_values("label_values(route)") == ("", "route")
    with pytest.raises(ValueError):
        parse_label_values("query_result(up)")
    with pytest.raises(ValueError):
        parse_label_values("label_values(up, 1bad)")
    assert promql_match("demo.requests") == '{"demo.requests"}'
    assert promql_match('demo.requests{region="eu"}') == '{"demo.requests", region="eu"}'
    assert promql_match('up{job="x"}') == 'up{job="x"}'


def test_definitions_are_validated_with_the_field_named() -> None:
    clean = valid_variables(
        [
            {"name": "route", "type": "query", "query": "label_values(demo.requests, route)"},
            {"name": "env", "type": "custom", "query": "prod, staging", "includeAll": True},
            {"name": "iv", "type": "interval", "options": ["1m", "5m"], "multi": True},
            {"name": "svc", "type": "query", "selector": "up", "label": "job"},
        ]
    )
    assert clean[1] == {
        "name": "env",
        "type": "custom",
        "options": ["prod", "staging"],
        "multi": False,
        "include_all": True,
    }
    assert clean[2]["multi"] is False  # an interval is one value
    assert clean[3]["query"] == "label_values(up, job)"
    bad = [
        ([{"name": "1x", "type": "custom", "options": ["a"]}], "variables[0].name"),
        ([{"name": "a-b", "type": "custom", "options": ["a"]}], "variables[0].name"),
        ([{"name": "a", "type": "datasource"}], "variables[0].type"),
        ([{"name": "a", "type": "query", "query": "up"}], "variables[0].query"),
        ([{"name": "a", "type": "custom", "options": []}], "variables[0].options"),
        ([{"name": "a", "type": "interval", "options": ["soon"]}], "variables[0].options"),
        ([{"name": "a", "type": "custom", "options": ["x"], "multi": "yes"}], "variables[0].multi"),
        ([{"name": "a", "type": "custom", "options": ["x" * 201]}], "variables[0].options[0]"),
        (
            [{"name": "a", "type": "custom", "options": ["x"]}] * 2,
            "variables[1].name",
        ),
        ([{"name": f"v{i}", "type": "custom", "options": ["x"]} for i in range(21)], "variables"),
    ]
    for body, field in bad:
        with pytest.raises(ValidationError) as err:
            valid_variables(body)
        assert err.value.field == field, body


def test_a_dashboard_keeps_its_variables_and_checks_expressions_that_use_them() -> None:
    body = {
        "id": "v",
        "title": "V",
        "variables": [{"name": "iv", "type": "interval", "options": ["5m"]}],
        "widgets": [
            {
                "id": "w",
                "kind": "line",
                "title": "W",
                "series": [{"expr": 'rate(demo{route=~"$route"}[$iv])'}],
            }
        ],
    }
    saved = validate_dashboard(body)
    assert saved["variables"][0]["name"] == "iv"
    assert saved["widgets"][0]["series"][0]["expr"] == 'rate(demo{route=~"$route"}[$iv])'
    without = {**body, "variables": []}
    with pytest.raises(ValidationError):  # [$iv] parses only with the variable defined
        validate_dashboard(without)


def test_a_page_picks_url_values_that_are_options_else_current_else_the_default() -> None:
    var = {"name": "r", "multi": True, "include_all": True, "current": ["/b"]}
    options = ["/a", "/b", "/c"]
    assert pick(var, options, ["/a", "/nope", "/c"]).values == ("/a", "/c")
    assert pick(var, options, ["/nope"]).values == ("/b",)
    assert pick(var, options, [ALL]).all
    assert pick({**var, "current": None}, options, None).all
    single = {"name": "r"}
    assert pick(single, options, ["/c", "/a"]).values == ("/c",)
    assert pick(single, options, [ALL]).values == ("/a",)  # no All on offer


def test_the_url_carries_the_values_grafana_style() -> None:
    search = with_variables("?dashboard=d&var-r=old&range=1h", {"r": ["/a", "/b"]})
    assert search == "?dashboard=d&range=1h&var-r=%2Fa&var-r=%2Fb"
    assert read_search(search).variables == {"r": ["/a", "/b"]}
    assert url_values([("var-bad-name", "x"), ("var-ok", "x\n"), ("var-ok", "y")]) == {"ok": ["y"]}


def test_the_live_feed_reads_back_what_the_page_picked() -> None:
    variables = [
        {"name": "r", "type": "query", "multi": True, "include_all": True},
        {"name": "e", "type": "custom", "options": ["prod", "dev"]},
    ]
    picked = {"r": Picked("r", ("/a", "/b"), all=True), "e": one("e", "dev")}
    assert free_values(wire_values(picked), variables) == picked
    defaults = free_values(None, variables)
    assert defaults["r"].all and defaults["e"].values == ("prod",)
    assert "zzz" not in free_values({"zzz": ["x"]}, variables)


def test_widgets_using_a_changed_variable_are_known() -> None:
    dash = default_dashboard()
    old = {"route": Picked("route", ("/a",))}
    new = {"route": Picked("route", ("/b",))}
    names = changed(old, new)
    assert names == {"route"}
    using = [w["id"] for w in dash["widgets"] if widget_references(w) & names]
    assert using == ["line-requests"]
    drawn = interpolate_dashboard(dash, new)
    requests = next(w for w in drawn["widgets"] if w["id"] == "line-requests")
    assert requests["series"] == [{"name": "demo.requests", "labels": {"route": "/b"}}]
    assert requests["title"] == "Requests per second: /b"
