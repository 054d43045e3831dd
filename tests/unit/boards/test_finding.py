"""Finding dashboards: tags validated, the list searched, by tag, starred first."""

from __future__ import annotations

import pytest

from dashboard.boards.finding import all_tags, found, valid_tags
from dashboard.metrics.model import ValidationError

BOARDS = [
    {"id": "default", "title": "SaaS overview", "tags": ["demo"]},
    {"id": "pay", "title": "Payments latency", "tags": ["prod", "payments"]},
    {"id": "hosts", "title": "Hosts", "tags": ["prod"]},
]


def test_tags_are_trimmed_lower_cased_and_kept_once():
    """Order is kept; repeats go."""
    assert valid_tags([" Prod", "prod", "EU"]) == ["prod", "eu"]
    assert valid_tags(None) == []


@pytest.mark.parametrize(
    ("tags", "field"),
    [("prod", "tags"), (["ok", ""], "tags[1]"), ([None], "tags[0]"), (["a\tb"], "tags[0]")],
)
def test_bad_tags_name_their_place(tags, field):
    """A non-list, an empty, non-string or unprintable tag is refused where it is."""
    with pytest.raises(ValidationError) as exc:
        valid_tags(tags)
    assert exc.value.field == field


def test_search_tag_and_stars():
    """Words of the title or id, any case; a tag; starred first, or starred only."""
    assert [b["id"] for b in found(BOARDS, search="LATENCY pay")] == ["pay"]
    assert [b["id"] for b in found(BOARDS, tag="prod")] == ["hosts", "pay"]
    assert [b["id"] for b in found(BOARDS, stars={"pay"})] == ["pay", "hosts", "default"]
    assert [b["id"] for b in found(BOARDS, stars={"pay"}, starred_only=True)] == ["pay"]
    assert found(BOARDS, search="nothing") == []
    assert all_tags(BOARDS) == ["demo", "payments", "prod"]
