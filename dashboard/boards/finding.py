"""Finding dashboards: their tags, and the list narrowed by a search, a tag and the stars.

Pure: no web, cache or database library.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from dashboard.metrics.model import ValidationError

MAX_TAGS = 20
MAX_TAG_LEN = 40


def valid_tags(value: Any) -> list[str]:
    """A dashboard's tags: at most 20 printable strings of 1 to 40 characters, trimmed,
    lower-cased and without repeats (in their first order); ValidationError naming ``tags``."""
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_TAGS:
        raise ValidationError("tags", f"a list of at most {MAX_TAGS} tags")
    tags: list[str] = []
    for i, tag in enumerate(value):
        clean = tag.strip().lower() if isinstance(tag, str) else ""
        if not 0 < len(clean) <= MAX_TAG_LEN or not clean.isprintable():
            raise ValidationError(f"tags[{i}]", f"1 to {MAX_TAG_LEN} printable characters")
        if clean not in tags:
            tags.append(clean)
    return tags


def found(
    boards: Iterable[dict[str, Any]],
    *,
    search: str = "",
    tag: str = "",
    stars: set[str] | None = None,
    starred_only: bool = False,
) -> list[dict[str, Any]]:
    """The dashboards whose title (or id) holds every word of ``search`` (any case) and that
    carry ``tag`` when one is given (only those among ``stars`` with ``starred_only``); the
    starred ones first, then by title."""
    words = search.lower().split()
    wanted_tag = tag.strip().lower()
    starred = stars or set()
    out = []
    for board in boards:
        text = f"{board.get('title', '')} {board.get('id', '')}".lower()
        if any(word not in text for word in words):
            continue
        if wanted_tag and wanted_tag not in board.get("tags", []):
            continue
        if starred_only and board["id"] not in starred:
            continue
        out.append(board)
    return sorted(out, key=lambda b: (b["id"] not in starred, str(b.get("title", "")).lower()))


def all_tags(boards: Iterable[dict[str, Any]]) -> list[str]:
    """Every tag of the dashboards, sorted."""
    return sorted({tag for board in boards for tag in board.get("tags", [])})
