"""The PromQL a widget editor proposes for a metric, from its family's type (pure).

A counter only ever goes up, so its graph is a ramp: what one wants is its per-second rate. A
histogram's ``_bucket`` series are read as a quantile of the rate of their buckets. A gauge
(and anything of unknown type) is shown as it is: no proposal.
"""

from __future__ import annotations

import re

WINDOW = "5m"
QUANTILE = "0.95"
_IDENTIFIER_RE = re.compile(r"^[A-Za-z_:][A-Za-z0-9_:]*$")
# what Prometheus' lexer reads as a keyword, not a metric name, in a selector's place
_KEYWORDS = frozenset(
    {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
     "offset", "bool", "atan2", "inf", "nan", "start", "end", "sum", "avg", "count", "min",
     "max", "group", "stddev", "stdvar", "topk", "bottomk", "count_values", "quantile",
     "limitk", "limit_ratio"}
)  # fmt: skip


def selector(name: str, labels: dict[str, str] | None = None) -> str:
    """A PromQL selector of ``name`` (and ``labels``): ``name{...}``, or Prometheus 3's
    ``{"name", ...}`` when the name is no PromQL identifier (``api.latency_ms``)."""
    pairs = [f'{k}="{_quote(v)}"' for k, v in sorted((labels or {}).items())]
    if _IDENTIFIER_RE.match(name) and name.lower() not in _KEYWORDS:
        return f"{name}{{{','.join(pairs)}}}" if pairs else name
    return "{" + ",".join([f'"{_quote(name)}"', *pairs]) + "}"


def _quote(text: str) -> str:
    """A string's body between double quotes, escaped as PromQL reads it."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def suggest_expression(name: str, type: str) -> str | None:  # noqa: A002 - the field's name
    """The expression to propose for a series named ``name`` of a family of type ``type``:
    ``rate(NAME[5m])`` for a counter (and a histogram's or summary's ``_sum`` and ``_count``),
    the 95th percentile of a histogram's ``_bucket`` rate, None for anything else."""
    if type == "counter":
        return f"rate({selector(name)}[{WINDOW}])"
    if type == "histogram" and name.endswith("_bucket"):
        return f"histogram_quantile({QUANTILE}, sum by (le) (rate({selector(name)}[{WINDOW}])))"
    if type in ("histogram", "summary") and name.endswith(("_sum", "_count")):
        return f"rate({selector(name)}[{WINDOW}])"
    return None
