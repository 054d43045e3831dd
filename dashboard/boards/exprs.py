"""A widget's series given as a PromQL expression (pure).

A widget's ``series`` list holds stored series (``{"name", "labels"}``) and expressions
(``{"expr": "sum by (route) (rate(http_requests_total[5m]))", "legend": "{{route}}"}``). The
series an expression gives are named ``expr_<hash>`` with the result's labels, so everything that
draws, pushes or exports series by key (the charts' traces, the live feed's rooms, the CSV) treats
them like stored ones. An expression entry's ``labels`` keep only the result series that carry
them (a pie drill or the page's filter narrows an expression that way).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from dashboard.metrics.model import LABEL_KEY_RE, Selector, SeriesKey, ValidationError
from dashboard.query.parse import parse
from dashboard.query.values import QueryError

EXPR_PREFIX = "expr_"
MAX_EXPR_LEN = 2_000
MAX_LEGEND_LEN = 200
_LEGEND_VAR = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


def is_expr(entry: Mapping[str, Any]) -> bool:
    """True for an expression entry of a widget's series list."""
    return "expr" in entry


def expr_name(expr: str) -> str:
    """The name the series of ``expr`` go by (the same on every node and every page)."""
    # a name, not a security check: SHA-1 here only spreads expressions over short names
    digest = hashlib.sha1(expr.strip().encode(), usedforsecurity=False).hexdigest()
    return EXPR_PREFIX + digest[:12]


def result_key(expr: str, labels: Mapping[str, str]) -> SeriesKey | None:
    """The key of one series of ``expr``'s result (None for labels no key can hold)."""
    clean = {k: v for k, v in labels.items() if LABEL_KEY_RE.match(k) and v.isprintable()}
    if len(clean) != len(labels):
        return None
    return SeriesKey.of(expr_name(expr), clean)


def entry_selector(entry: Mapping[str, Any]) -> Selector:
    """The selector of an entry: its stored series, or every series of its expression."""
    name = expr_name(entry["expr"]) if is_expr(entry) else entry["name"]
    return Selector.of(name, entry.get("labels") or {})


def live_entries(series: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """A widget's series as the browser's live feed matches keys: ``{"name", "labels"}`` each."""
    out = []
    for entry in series:
        sel = entry_selector(entry)
        out.append({"name": sel.name, "labels": dict(sel.labels)})
    return out


def widget_exprs(widget: Mapping[str, Any]) -> list[str]:
    """The expressions a widget draws, in order."""
    return [e["expr"] for e in widget.get("series", []) if is_expr(e) and not e.get("error")]


def dashboard_exprs(dashboard: Mapping[str, Any]) -> list[str]:
    """Every expression of a dashboard's widgets, without repeats."""
    seen: dict[str, None] = {}
    for widget in dashboard.get("widgets", []):
        for expr in widget_exprs(widget):
            seen[expr] = None
    return list(seen)


def legend(template: str, labels: Mapping[str, str]) -> str:
    """A legend from Grafana's template (``{{route}} {{status}}``; a missing label is empty)."""
    return _LEGEND_VAR.sub(lambda m: labels.get(m.group(1), ""), template).strip()


def expr_error(expr: Any) -> str | None:
    """Why ``expr`` is no expression a widget can draw (the parser's words), or None."""
    if not isinstance(expr, str) or not expr.strip():
        return "an expression is needed"
    if len(expr) > MAX_EXPR_LEN:
        return f"at most {MAX_EXPR_LEN} characters"
    try:
        parse(expr)
    except QueryError as exc:
        return str(exc)
    return None


def valid_entry(
    entry: Mapping[str, Any], where: str, check: Callable[[str], str] | None = None
) -> dict[str, Any]:
    """An expression entry in its stored form, or ValidationError naming the problem
    (``check`` writes the dashboard's variables into the expression before it is parsed)."""
    expr = entry.get("expr")
    problem = expr_error(check(expr) if check is not None and isinstance(expr, str) else expr)
    if problem is not None:
        raise ValidationError(f"{where}.expr", problem)
    out: dict[str, Any] = {"expr": entry["expr"].strip()}
    text = entry.get("legend", "")
    if not isinstance(text, str) or len(text) > MAX_LEGEND_LEN or not text.isprintable():
        raise ValidationError(f"{where}.legend", f"at most {MAX_LEGEND_LEN} printable characters")
    if text:
        out["legend"] = text
    labels = entry.get("labels") or {}
    if not isinstance(labels, dict) or not all(
        isinstance(k, str) and LABEL_KEY_RE.match(k) and isinstance(v, str)
        for k, v in labels.items()
    ):
        raise ValidationError(f"{where}.labels", "identifier keys with string values")
    if labels:
        out["labels"] = dict(labels)
    return out


def legend_of(widget: Mapping[str, Any], key: SeriesKey) -> str | None:
    """The legend an expression entry's template gives the series ``key``, or None."""
    for entry in widget.get("series", []):
        if is_expr(entry) and entry.get("legend") and key.name == expr_name(entry["expr"]):
            return legend(entry["legend"], key.label_dict) or None
    return None
