"""The new-rule form's values become a rule's JSON form (the service validates it)."""

from __future__ import annotations

import pytest

from callbacks.alerts import (
    NEW_RULE_FIELDS,
    NewRuleForm,
    number_or_band,
    parse_labels,
    rule_body,
    rule_id_from_name,
)
from dashboard.alerts.engine import validate_rule


def test_labels_are_k_v_pairs_separated_by_commas():
    """Spaces around keys and values go; a part without ``=`` makes the whole text invalid."""
    assert parse_labels(None) == {} and parse_labels("") == {}
    assert parse_labels(" region = eu,env=prod,") == {"region": "eu", "env": "prod"}
    assert parse_labels("region=eu,prod") is None
    assert parse_labels(" ") is None


@pytest.mark.parametrize(
    ("text", "value"),
    [(None, None), ("  ", None), ("0.05", 0.05), ("1, 5", [1.0, 5.0]), ("high", "high")],
)
def test_a_threshold_is_a_number_a_band_or_text_left_for_validation(text, value):
    """Numbers and bands parse; anything else is passed on for the validator to name."""
    assert number_or_band(text) == value


def test_a_rule_id_is_made_from_its_name():
    """Letters, digits and ``._-`` stay, the rest become ``-``, trimmed; 'rule' when empty."""
    assert rule_id_from_name("High error rate!") == "High-error-rate"
    assert rule_id_from_name("svc.errors_5xx") == "svc.errors_5xx"
    assert rule_id_from_name("***") == "rule" and rule_id_from_name(None) == "rule"
    assert rule_id_from_name("x" * 80) == "x" * 64


def test_the_form_makes_a_valid_rule():
    """A filled form is a rule the engine accepts; the resolve threshold only when given."""
    form = NewRuleForm(
        name="High error rate",
        series=" svc.error_rate ",
        labels="region=eu",
        condition="above",
        threshold="0.05",
        resolve="",
        for_s=None,
        severity="critical",
    )
    body = rule_body(form, labels={"region": "eu"})
    assert "resolve_threshold" not in body and body["for_s"] == 0
    rule = validate_rule(body)
    assert (rule.id, rule.series_name, rule.threshold) == (
        "High-error-rate",
        "svc.error_rate",
        0.05,
    )
    assert dict(rule.series_labels) == {"region": "eu"}
    band = form._replace(condition="outside", threshold="1,5", resolve="2,4")
    assert validate_rule(rule_body(band, labels={})).resolve_threshold == (2.0, 4.0)


def test_the_form_fields_follow_the_callback_states():
    """One input id per field of NewRuleForm, in its order."""
    assert len(NEW_RULE_FIELDS) == len(NewRuleForm._fields) == len(set(NEW_RULE_FIELDS))
    assert NEW_RULE_FIELDS[NewRuleForm._fields.index("for_s")] == "alerts-new-for"
