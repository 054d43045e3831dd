"""What a time chart marks besides its series (pure): where an alert of one of its series
fired (a line at the moment, a shaded span until it resolved) and the notes people left on the
dashboard at a time (a labelled line on every time chart)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from dashboard.boards.units import plotly_text
from dashboard.metrics.model import ValidationError

MAX_NOTES = 200
MAX_NOTE_LEN = 200
FIRING = "rgba(239,68,68,0.12)"  # the shaded span
FIRING_LINE = "#ef4444"
NOTE_LINE = "#6366f1"


def alert_spans(events: Iterable[Mapping[str, Any]], now: int) -> dict[str, list[dict[str, Any]]]:
    """Firing spans by series text, from alert events (any order): each firing event opens a
    span that its rule's next ``resolved`` on that series closes (still firing: up to now)."""
    spans: dict[str, list[dict[str, Any]]] = {}
    open_at: dict[tuple[str, str], dict[str, Any]] = {}
    for e in sorted(events, key=lambda e: (int(e["ts"]), str(e.get("state")))):
        pair = (str(e.get("rule_id")), str(e["series"]))
        if e["state"] == "firing" and pair not in open_at:
            span = {"start": int(e["ts"]), "end": now, "rule": e.get("rule") or pair[0]}
            open_at[pair] = span
            spans.setdefault(pair[1], []).append(span)
        elif e["state"] == "resolved" and pair in open_at:
            open_at.pop(pair)["end"] = int(e["ts"])
    return spans


def chart_marks(
    series_texts: Iterable[str],
    spans: Mapping[str, list[dict[str, Any]]],
    notes: Iterable[Mapping[str, Any]],
    start: int,
    end: int,
) -> list[dict[str, Any]]:
    """The marks of a chart of these series over ``[start, end]``: its alerts' spans and the
    dashboard's notes that fall in the range."""
    marks: list[dict[str, Any]] = []
    for text in series_texts:
        for span in spans.get(text, []):
            if span["end"] >= start and span["start"] <= end:
                marks.append({"kind": "alert", **span, "series": text})
    for note in notes:
        if start <= int(note["ts"]) <= end:
            marks.append({"kind": "note", "start": int(note["ts"]), "text": note["text"]})
    return marks


def mark_shapes(marks: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Plotly shapes of marks: a shaded span and a line at each firing, a labelled line at each
    note (below the data, so hovering reads the series)."""
    shapes: list[dict[str, Any]] = []
    for m in marks:
        if m["kind"] == "alert":
            shapes.append(
                {
                    "type": "rect",
                    "xref": "x",
                    "yref": "paper",
                    "x0": m["start"],
                    "x1": max(m["end"], m["start"] + 1000),
                    "y0": 0,
                    "y1": 1,
                    "fillcolor": FIRING,
                    "line": {"width": 0},
                    "layer": "below",
                    "name": f"alert: {m['rule']}",
                }
            )
            shapes.append(_line(m["start"], FIRING_LINE, f"alert: {m['rule']}"))
        else:
            shapes.append(_line(m["start"], NOTE_LINE, f"note: {m['text']}", m["text"]))
    return shapes


def _line(at: int, color: str, name: str, label: str = "") -> dict[str, Any]:
    """A vertical line across the plot at ``at`` (with a label for a note)."""
    shape: dict[str, Any] = {
        "type": "line",
        "xref": "x",
        "yref": "paper",
        "x0": at,
        "x1": at,
        "y0": 0,
        "y1": 1,
        "line": {"color": color, "width": 1, "dash": "dot"},
        "layer": "below",
        "name": name,
    }
    if label:
        text = plotly_text(label)
        shape["label"] = {"text": text, "textposition": "start", "font": {"size": 10}}
    return shape


def valid_notes(notes: Any) -> list[dict[str, Any]]:
    """A dashboard's notes in their stored form (``[{ts, text, author}]``), or ValidationError."""
    if notes is None:
        return []
    if not isinstance(notes, list) or len(notes) > MAX_NOTES:
        raise ValidationError("annotations", f"a list of at most {MAX_NOTES} notes")
    out = []
    for i, note in enumerate(notes):
        where = f"annotations[{i}]"
        if not isinstance(note, dict):
            raise ValidationError(where, "must be {ts, text}")
        ts, text = note.get("ts"), note.get("text")
        if isinstance(ts, bool) or not isinstance(ts, int) or not 0 <= ts < 2**53:
            raise ValidationError(f"{where}.ts", "Unix milliseconds")
        if not isinstance(text, str) or not 0 < len(text) <= MAX_NOTE_LEN or not text.isprintable():
            raise ValidationError(f"{where}.text", f"1 to {MAX_NOTE_LEN} printable characters")
        author = note.get("author", "")
        if not isinstance(author, str) or len(author) > 64:
            raise ValidationError(f"{where}.author", "a user name")
        out.append({"ts": ts, "text": text, **({"author": author} if author else {})})
    return sorted(out, key=lambda n: n["ts"])
