"""Completion of a PromQL expression being typed (pure): metric names, functions, label names
and label values, each proposal the whole expression with its last token completed.

A metric name that is no PromQL identifier (``demo.active_users``) is proposed in Prometheus 3's
quoted form, ``{"demo.active_users"}``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

IDENT = re.compile(r"^[A-Za-z_:][A-Za-z0-9_:]*$")
_TAIL = re.compile(r"[A-Za-z_:][A-Za-z0-9_:.]*$")
_LABEL_TAIL = re.compile(r"[A-Za-z_][A-Za-z0-9_]*$")
_VALUE_TAIL = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)\s*"([^"]*)$')
_METRIC_BEFORE = re.compile(r"([A-Za-z_:][A-Za-z0-9_:]*)\s*$")
_QUOTED_NAME = re.compile(r'\s*"([^"]+)"\s*(?:,|$)')
FUNCTIONS = (
    "rate(",
    "irate(",
    "increase(",
    "delta(",
    "deriv(",
    "sum(",
    "avg(",
    "min(",
    "max(",
    "count(",
    "topk(",
    "bottomk(",
    "quantile(",
    "histogram_quantile(",
    "avg_over_time(",
    "max_over_time(",
    "min_over_time(",
    "sum_over_time(",
    "predict_linear(",
    "abs(",
    "clamp_min(",
    "clamp_max(",
    "label_replace(",
    "absent(",
)


def metric_ref(name: str) -> str:
    """How an expression names metric ``name``: as is, or quoted when it is no identifier."""
    return name if IDENT.match(name) else '{"' + name.replace('"', '\\"') + '"}'


def _metric_of(head: str, inside: str) -> str:
    """The metric of a selector being typed: ``name{...`` or ``{"name", ...``; "" for none."""
    found = _METRIC_BEFORE.search(head)
    if found:
        return found.group(1)
    quoted = _QUOTED_NAME.match(inside)
    return quoted.group(1) if quoted else ""


def completions(
    text: str,
    *,
    names: Iterable[str],
    labels: Mapping[str, Mapping[str, set[str]]],
    limit: int = 20,
) -> list[str]:
    """What ``text`` may become with its last token completed, best first.

    ``names`` are the known metric names; ``labels`` maps a metric name to its label names and
    their values. Inside braces the label names (then, after ``label="``, the values) of the
    braces' metric are proposed; elsewhere metric names and functions.
    """
    opened, closed = text.rfind("{"), text.rfind("}")
    if opened > closed:
        head, inside = text[:opened], text[opened + 1 :]
        known = labels.get(_metric_of(head, inside), {})
        value = _VALUE_TAIL.search(inside)
        if value:
            prefix = value.group(2)
            base = text[: len(text) - len(prefix)]
            found = sorted(v for v in known.get(value.group(1), ()) if v.startswith(prefix))
            return [f'{base}{v}"' for v in found[:limit]]
        tail = _LABEL_TAIL.search(inside)
        prefix = tail.group(0) if tail else ""
        if inside.rstrip().endswith(('"', "=")) and not tail:
            return []
        base = text[: len(text) - len(prefix)]
        return [f'{base}{k}="' for k in sorted(known) if k.startswith(prefix)][:limit]
    tail = _TAIL.search(text)
    prefix = tail.group(0) if tail else ""
    base = text[: len(text) - len(prefix)]
    metrics = sorted(n for n in names if n.startswith(prefix))
    funcs = [f for f in FUNCTIONS if prefix and f.startswith(prefix)]
    return [base + f for f in funcs] + [base + metric_ref(n) for n in metrics][:limit]
