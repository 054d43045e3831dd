"""The variables editor's form read into a variable, and a dashboard's variables changed by it
(dashboard/boards/variables.py: form_variable, put_variable, drop_variable, definition_text),
and what the form's layout shows (layouts/variables_form.py)."""

from __future__ import annotations

import pytest

from dashboard.boards.variables import (
    MAX_VARIABLES,
    definition_text,
    drop_variable,
    form_variable,
    put_variable,
    split_options,
)
from dashboard.metrics.model import ValidationError
from layouts.variables_form import form_for, preview_text

ROUTE = {"name": "route", "type": "query", "query": "label_values(demo.requests, route)"}


def test_a_custom_variable_from_comma_separated_values():
    """Trimmed, empty ones and repeats dropped; the flags as ticked."""
    var = form_variable(
        name=" env ", kind="custom", definition="prod, staging,, prod ,", multi=True
    )
    assert var == {
        "name": "env",
        "type": "custom",
        "options": ["prod", "staging"],
        "multi": True,
        "include_all": False,
    }


def test_a_query_variable_keeps_its_label_values_query():
    """The query as written (trimmed)."""
    var = form_variable(
        name="route", kind="query", definition=" label_values(demo.requests, route) "
    )
    assert var["query"] == "label_values(demo.requests, route)"
    assert "options" not in var


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"name": "2env", "kind": "custom", "definition": "a"}, "variable.name", "identifier"),
        ({"name": "", "kind": "custom", "definition": "a"}, "variable.name", "identifier"),
        ({"name": "__x", "kind": "custom", "definition": "a"}, "variable.name", "identifier"),
        ({"name": "env", "kind": "custom", "definition": " , "}, "variable.options", "one"),
        ({"name": "w", "kind": "interval", "definition": "5m, soon"}, "variable.options", "soon"),
        ({"name": "r", "kind": "query", "definition": "demo.requests"}, "variable.query", "label"),
        ({"name": "r", "kind": "list", "definition": "a"}, "variable.type", "one of"),
    ],
)
def test_a_bad_form_is_refused_naming_its_field(fields, field, words):
    """The validator's own error, with the field the form shows it under."""
    with pytest.raises(ValidationError) as caught:
        form_variable(**fields)
    assert caught.value.field == field
    assert words in caught.value.message


def test_an_interval_variable_offers_no_multi_or_all():
    """As the validator has it: one interval at a time."""
    var = form_variable(
        name="w", kind="interval", definition="1m, 5m", multi=True, include_all=True
    )
    assert (var["multi"], var["include_all"], var["options"]) == (False, False, ["1m", "5m"])


def test_put_adds_last_replaces_in_place_and_refuses_a_taken_name():
    """A new one goes last; an edited one keeps its place even renamed; a clash is refused."""
    env = form_variable(name="env", kind="custom", definition="prod")
    both = put_variable([ROUTE], env)
    assert [v["name"] for v in both] == ["route", "env"]
    renamed = put_variable(
        [*both, {"name": "z", "type": "custom", "options": ["1"]}],
        {
            **env,
            "name": "stage",
        },
        replacing="env",
    )
    assert [v["name"] for v in renamed] == ["route", "stage", "z"]
    with pytest.raises(ValidationError, match="another variable is named 'route'"):
        put_variable(both, {**env, "name": "route"}, replacing="env")
    with pytest.raises(ValidationError, match="another variable"):
        put_variable(both, {**env})  # a new one with a taken name
    assert both == [ROUTE, env]  # the list handed in is not changed


def test_put_refuses_one_variable_too_many():
    """At most MAX_VARIABLES; replacing one at the limit is fine."""
    many = [{"name": f"v{i}", "type": "custom", "options": ["a"]} for i in range(MAX_VARIABLES)]
    with pytest.raises(ValidationError, match="at most"):
        put_variable(many, {"name": "extra", "type": "custom", "options": ["a"]})
    assert len(put_variable(many, {**many[0], "options": ["b"]}, replacing="v0")) == MAX_VARIABLES


def test_drop_removes_by_name_only():
    """The others stay, in order; an unknown name changes nothing."""
    env = {"name": "env", "type": "custom", "options": ["a"]}
    assert drop_variable([ROUTE, env], "route") == [env]
    assert drop_variable([ROUTE, env], "nope") == [ROUTE, env]


def test_the_definition_field_and_the_form_round_trip():
    """What Edit puts in the form reads back into the same variable."""
    env = form_variable(name="env", kind="custom", definition="prod, staging", include_all=True)
    assert definition_text(env) == "prod, staging"
    assert definition_text(ROUTE) == ROUTE["query"]
    heading, name, kind, text, multi, include_all, button, editing = form_for(env)
    assert (heading, button, editing) == ("Edit $env", "Save variable", "env")
    assert (multi, include_all) == ("false", "true")  # the toggles' aria-pressed
    again = form_variable(
        name=name,
        kind=kind,
        definition=text,
        multi=multi == "true",
        include_all=include_all == "true",
    )
    assert again == env
    assert form_for(None)[1:6] == ("", "query", "", "false", "false")
    assert split_options(None) == []


def test_the_preview_counts_and_cuts_long_lists():
    """The count, then the first ones; none said plainly."""
    assert preview_text(["prod", "staging"]) == "Gives 2 options: prod, staging"
    assert preview_text(["a"]) == "Gives 1 option: a"
    assert preview_text([str(i) for i in range(20)], limit=3) == "Gives 20 options: 0, 1, 2, …"
    assert preview_text([]).startswith("Gives no options")
