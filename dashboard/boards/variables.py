"""Dashboard variables, as Grafana has them (pure): their definitions, the values a page picks
and the interpolation of ``$var``, ``${var}``, ``${var:format}`` and ``[[var]]`` into a widget's
expressions, stored-series labels, legends and titles.

A variable lists its options from a label's values (``"type": "query"``, with Grafana's
``label_values(demo.requests, route)``), from a fixed list (``custom``) or from durations
(``interval``). A page picks values for each one (from the URL's ``var-NAME`` parameters, else
the definition's ``current``, else the first option, or All when the variable offers it).

Variable values come from users, so the interpolation into PromQL knows where it writes: inside a
quoted string a value is escaped for that quote (backslash, the quote, line breaks); inside the
string of a regex matcher (``=~``, ``!~``), and for a multi-value or All variable, each value is
also regex-escaped and several are joined as ``(a|b)``, Grafana's regex format; All is ``.*`` or
the variable's own ``all_value``. Outside a string only a plain token (``5m``, ``http_requests``)
may be written: anything else there is refused (``VariableError``), never pasted into the query.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from itertools import product
from typing import Any

from dashboard.metrics.model import LABEL_KEY_RE, ValidationError
from dashboard.query.suggest import selector as promql_selector
from dashboard.query.values import QueryError

TYPES = ("query", "custom", "interval")
ALL = "$__all"  # the value that stands for All (in the URL too: ``var-route=$__all``)
URL_PREFIX = "var-"
MAX_VARIABLES = 20
MAX_OPTIONS = 200
MAX_CURRENT = 50
MAX_VALUE_LEN = 200
MAX_QUERY_LEN = 1_000
MAX_EXPANDED = 50  # series entries a stored series may expand to (a widget holds at most 50)
NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
DURATION_RE = re.compile(r"^[1-9][0-9]{0,5}(ms|s|m|h|d|w|y)$")
FORMATS = ("regex", "pipe", "csv", "raw", "text")
# $var, [[var]], ${var} and ${var:format}, as Grafana writes them
REFERENCE_RE = re.compile(
    r"\$([A-Za-z_][A-Za-z0-9_]*)|\[\[([A-Za-z_][A-Za-z0-9_]*)\]\]"
    r"|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([a-z]+))?\}"
)
_LABEL_VALUES_RE = re.compile(r"^\s*label_values\s*\((.*)\)\s*$", re.DOTALL)
_BARE_SELECTOR_RE = re.compile(r"^\s*([A-Za-z_:][A-Za-z0-9_:.]*)?\s*(\{.*\})?\s*$", re.DOTALL)
_PLAIN_TOKEN_RE = re.compile(r"^[A-Za-z0-9_:.]+$")
_REGEX_META = set("\\^$.|?*+()[]{}")


class VariableError(QueryError):
    """A variable's value that cannot be written where the query uses it."""


@dataclass(frozen=True)
class Picked:
    """The values a page picked for one variable (``all``: All, with every option in
    ``values``), and what interpolating them needs from the definition."""

    name: str
    values: tuple[str, ...]
    all: bool = False
    all_value: str | None = None  # what All is in a regex (``.*`` without one)


# --- definitions ---------------------------------------------------------------------------------


def _value(value: Any, where: str) -> str:
    """One option or value: 1 to MAX_VALUE_LEN printable characters."""
    if not isinstance(value, str) or not 0 < len(value) <= MAX_VALUE_LEN or not value.isprintable():
        raise ValidationError(where, f"1 to {MAX_VALUE_LEN} printable characters")
    return value


def _values(items: Any, where: str, limit: int) -> list[str]:
    """A list of values (Grafana's ``{"text", "value"}`` objects read as their value)."""
    if isinstance(items, str):
        items = [items]
    if not isinstance(items, list) or len(items) > limit:
        raise ValidationError(where, f"a list of at most {limit} values")
    out: list[str] = []
    for i, item in enumerate(items):
        raw = item.get("value") if isinstance(item, dict) else item
        value = _value(raw, f"{where}[{i}]")
        if value not in out:
            out.append(value)
    return out


def parse_label_values(query: str) -> tuple[str, str]:
    """``("demo.requests{region=\"eu\"}", "route")`` from Grafana's
    ``label_values(demo.requests{region="eu"}, route)`` (``""`` for ``label_values(route)``:
    every series). ValueError says what is wrong."""
    found = _LABEL_VALUES_RE.match(query)
    if found is None:
        raise ValueError("label_values(selector, label) or label_values(label)")
    inside = found.group(1)
    depth, quote, cut = 0, "", -1
    for i, c in enumerate(inside):  # the last comma outside braces and strings
        if quote:
            quote = "" if c == quote and inside[i - 1] != "\\" else quote
        elif c in "\"'`":
            quote = c
        elif c in "{(":
            depth += 1
        elif c in "})":
            depth -= 1
        elif c == "," and depth == 0:
            cut = i
    selector, label = (inside[:cut], inside[cut + 1 :]) if cut >= 0 else ("", inside)
    label = label.strip()
    if not LABEL_KEY_RE.match(label):
        raise ValueError(f"{label[:40]!r} is not a label name")
    return selector.strip(), label


def promql_match(selector: str) -> str:
    """A selector as PromQL reads it: a name with dots (``demo.requests{route="/"}``) becomes
    Prometheus 3's quoted form (``{"demo.requests", route="/"}``); anything else is kept."""
    found = _BARE_SELECTOR_RE.match(selector)
    if found is None or not found.group(1) or "." not in found.group(1):
        return selector.strip()
    name, matchers = found.group(1), (found.group(2) or "").strip()
    inner = matchers[1:-1].strip() if matchers else ""
    if not inner:
        return promql_selector(name)
    return promql_selector(name)[:-1] + ", " + inner + "}"


def _query(var: Mapping[str, Any], where: str) -> str:
    """A query variable's ``label_values(...)``, from ``query`` or ``selector`` + ``label``."""
    query = var.get("query")
    if query is None and "label" in var:
        selector = var.get("selector") or ""
        if not isinstance(selector, str) or not isinstance(var["label"], str):
            raise ValidationError(f"{where}.selector", "a selector and a label name")
        query = f"label_values({selector}, {var['label']})" if selector else var["label"]
        query = query if selector else f"label_values({query})"
    if not isinstance(query, str) or not 0 < len(query) <= MAX_QUERY_LEN:
        raise ValidationError(
            f"{where}.query", f"label_values(selector, label), 1 to {MAX_QUERY_LEN} characters"
        )
    try:
        parse_label_values(query)
    except ValueError as exc:
        raise ValidationError(f"{where}.query", str(exc)) from None
    return query.strip()


def _flag(var: Mapping[str, Any], names: tuple[str, str], where: str) -> bool:
    """A boolean field, by our name or Grafana's (``include_all`` or ``includeAll``)."""
    value = var.get(names[0], var.get(names[1], False))
    if not isinstance(value, bool):
        raise ValidationError(f"{where}.{names[0]}", "true or false")
    return value


def valid_variable(var: Any, where: str) -> dict[str, Any]:
    """One variable in its stored form, or ValidationError naming the field."""
    if not isinstance(var, dict):
        raise ValidationError(where, "must be an object")
    name = var.get("name")
    if not isinstance(name, str) or not NAME_RE.match(name) or name.startswith("__"):
        raise ValidationError(
            f"{where}.name", "an identifier: a letter or _, then letters, digits, _ (at most 64)"
        )
    kind = var.get("type", "query")
    if kind not in TYPES:
        raise ValidationError(f"{where}.type", f"one of {', '.join(TYPES)}")
    out: dict[str, Any] = {"name": name, "type": kind}
    # the dropdown's label: ``title``, or ``label`` where it names no query's label
    shown = var.get("title") or (var.get("label") if kind != "query" or "query" in var else None)
    if shown:
        out["label"] = _value(shown, f"{where}.label")[:60]
    if kind == "query":
        out["query"] = _query(var, where)
    else:
        options = var.get("options")
        if options is None and isinstance(var.get("query"), str):  # Grafana's "a,b,c"
            options = [o.strip() for o in var["query"].split(",") if o.strip()]
        out["options"] = _values(options, f"{where}.options", MAX_OPTIONS)
        if not out["options"]:
            raise ValidationError(f"{where}.options", "at least one option")
        if kind == "interval":
            bad = [o for o in out["options"] if not DURATION_RE.match(o)]
            if bad:
                raise ValidationError(
                    f"{where}.options", f"{bad[0][:40]!r} is no duration (5m, 1h)"
                )
    multi = _flag(var, ("multi", "multi"), where) and kind != "interval"
    include_all = _flag(var, ("include_all", "includeAll"), where) and kind != "interval"
    out.update(multi=multi, include_all=include_all)
    all_value = var.get("all_value", var.get("allValue"))
    if all_value not in (None, "") and include_all:
        out["all_value"] = _value(all_value, f"{where}.all_value")
    current = var.get("current")
    if isinstance(current, dict):  # Grafana's {"text", "value"}
        current = current.get("value")
    if current not in (None, "", []):
        out["current"] = _values(current, f"{where}.current", MAX_CURRENT)
    return out


def valid_variables(body: Any) -> list[dict[str, Any]]:
    """A dashboard's variables in their stored form (names unique), or ValidationError."""
    if body is None:
        return []
    if not isinstance(body, list) or len(body) > MAX_VARIABLES:
        raise ValidationError("variables", f"a list of at most {MAX_VARIABLES} variables")
    out: list[dict[str, Any]] = []
    for i, var in enumerate(body):
        clean = valid_variable(var, f"variables[{i}]")
        if any(v["name"] == clean["name"] for v in out):
            raise ValidationError(f"variables[{i}].name", f"{clean['name']!r} is used twice")
        out.append(clean)
    return out


# --- the editor's form ---------------------------------------------------------------------------


def split_options(text: str | None) -> list[str]:
    """The options of ``"prod, staging"``: split at commas, trimmed, empty ones dropped."""
    return [o.strip() for o in (text or "").split(",") if o.strip()]


def definition_text(var: Mapping[str, Any]) -> str:
    """What the editor's definition field holds for ``var``: a query variable's
    ``label_values(...)``, else its options joined by ", "."""
    if var.get("type", "query") == "query":
        return str(var.get("query", ""))
    return ", ".join(str(o) for o in var.get("options") or [])


def form_variable(
    *,
    name: str | None,
    kind: str | None,
    definition: str | None,
    multi: bool = False,
    include_all: bool = False,
) -> dict[str, Any]:
    """A variable's stored form from the editor's fields (``definition``: the query of a query
    variable, comma-separated values otherwise), or ValidationError whose field is
    ``variable.name``, ``variable.type``, ``variable.query`` or ``variable.options``."""
    body: dict[str, Any] = {
        "name": (name or "").strip(),
        "type": kind or "query",
        "multi": bool(multi),
        "include_all": bool(include_all),
    }
    if body["type"] == "query":
        body["query"] = (definition or "").strip()
    else:
        body["options"] = split_options(definition)
    return valid_variable(body, "variable")


def put_variable(
    variables: Sequence[Mapping[str, Any]], var: Mapping[str, Any], replacing: str | None = None
) -> list[dict[str, Any]]:
    """The variables with ``var`` in the place of the one named ``replacing`` (its name may
    change), or added last when ``replacing`` names none; ValidationError (``variable.name``)
    when another variable has its name, or when there would be more than MAX_VARIABLES."""
    others = [dict(v) for v in variables if v["name"] != replacing]
    if any(v["name"] == var["name"] for v in others):
        raise ValidationError("variable.name", f"another variable is named {var['name']!r}")
    names = [v["name"] for v in variables]
    if replacing in names:
        out = [dict(v) for v in variables]
        out[names.index(replacing)] = dict(var)
        return out
    if len(others) >= MAX_VARIABLES:
        raise ValidationError("variable", f"a dashboard has at most {MAX_VARIABLES} variables")
    return [*others, dict(var)]


def drop_variable(variables: Sequence[Mapping[str, Any]], name: str) -> list[dict[str, Any]]:
    """The variables without the one named ``name``."""
    return [dict(v) for v in variables if v["name"] != name]


# --- what a page picks ---------------------------------------------------------------------------


def url_values(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """The ``var-NAME`` parameters of a page URL, by variable name, in order."""
    out: dict[str, list[str]] = {}
    for key, value in pairs:
        name = key[len(URL_PREFIX) :] if key.startswith(URL_PREFIX) else ""
        if NAME_RE.match(name) and len(value) <= MAX_VALUE_LEN and value.isprintable():
            values = out.setdefault(name, [])
            if value not in values and len(values) < MAX_CURRENT:
                values.append(value)
    return out


def pick(var: Mapping[str, Any], options: Sequence[str], wanted: Sequence[str] | None) -> Picked:
    """What a page shows of ``var`` with these ``options``: the ``wanted`` values that are
    options (or All, when offered), else the definition's ``current``, else the default (All
    when offered, else the first option)."""
    include_all = bool(var.get("include_all"))

    def chosen(candidates: Sequence[str] | None) -> list[str]:
        """The candidates a page may pick."""
        keep = [c for c in candidates or () if c in options or (c == ALL and include_all)]
        return keep if var.get("multi") else keep[:1]

    values = chosen(wanted) or chosen(var.get("current"))
    if not values:
        values = [ALL] if include_all else list(options[:1])
    name, all_value = str(var["name"]), var.get("all_value")
    if ALL in values:
        return Picked(name, tuple(options), True, all_value)
    return Picked(name, tuple(values))


def sample(var: Mapping[str, Any]) -> Picked:
    """A value of ``var`` to check the expressions that use it with (their first option)."""
    options = var.get("options") or ["x"]
    return Picked(str(var["name"]), (str(options[0]),))


def shown_values(picked: Picked) -> list[str]:
    """The values as the URL and the dropdown carry them (``$__all`` for All)."""
    return [ALL] if picked.all else list(picked.values)


def wire_values(picked: Mapping[str, Picked]) -> dict[str, list[str]]:
    """Picked values as the page hands them to the live feed (``free_values`` reads them):
    All as ``$__all`` followed by every option."""
    return {n: ([ALL] if p.all else []) + list(p.values) for n, p in picked.items()}


# --- interpolation -------------------------------------------------------------------------------


def references(text: str) -> set[str]:
    """The variable names ``text`` refers to."""
    return {next(g for g in m.groups() if g) for m in REFERENCE_RE.finditer(text)}


def regex_escape(value: str) -> str:
    """A value as a regex that matches just it (Grafana's escaping of regex metacharacters)."""
    return "".join("\\" + c if c in _REGEX_META else c for c in value)


def string_escape(text: str, quote: str) -> str:
    """Text as the body of a PromQL string between ``quote``s (a raw backtick string cannot
    hold a backtick: VariableError)."""
    if quote == "`":
        if "`" in text:
            raise VariableError("a variable's value with a backtick cannot go in a `raw` string")
        return text
    out = text.replace("\\", "\\\\").replace(quote, "\\" + quote)
    return out.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")


def _formatted(picked: Picked, fmt: str | None, in_regex: bool) -> str:
    """The text a reference stands for, before any quoting: regex-escaped and joined as
    ``(a|b)`` in a regex matcher, or for several values or All (All: ``.*`` or the
    ``all_value``), as Grafana's regex format writes them; one value elsewhere as it is."""
    several = picked.all or len(picked.values) != 1
    regex = fmt == "regex" or (fmt is None and (in_regex or several))
    if picked.all and regex and fmt != "pipe":
        return picked.all_value if picked.all_value is not None else ".*"
    values = list(picked.values)
    if fmt == "csv":
        return ",".join(values)
    if fmt == "text":
        return "All" if picked.all else " + ".join(values)
    if fmt == "pipe" or fmt == "raw":
        return "|".join(values)
    if not regex:
        return values[0] if values else ""
    escaped = [regex_escape(v) for v in values]
    return escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"


def _reference(m: re.Match[str], picked: Mapping[str, Picked]) -> tuple[Picked | None, str | None]:
    """The variable a reference names (None: unknown, left as written) and its format."""
    name = m.group(1) or m.group(2) or m.group(3)
    fmt = m.group(4)
    if fmt is not None and fmt not in FORMATS:
        raise VariableError(f"${{{name}:{fmt}}}: the format is one of {', '.join(FORMATS)}")
    return picked.get(name), fmt


def _regex_string(expr: str, opening: int) -> bool:
    """Whether the string opening at ``opening`` is the value of a regex matcher."""
    before = expr[:opening].rstrip()
    return before.endswith(("=~", "!~"))


def interpolate_expr(expr: str, picked: Mapping[str, Picked]) -> str:
    """A PromQL expression with every reference to a picked variable replaced, escaped for
    where it stands (see the module's docstring); references to unknown names stay."""
    if not picked or not REFERENCE_RE.search(expr):
        return expr
    out: list[str] = []
    i, n = 0, len(expr)
    while i < n:
        c = expr[i]
        if c in "\"'`":  # a string: find its end, then fill its body
            j = i + 1
            while j < n and expr[j] != c:
                j += 2 if c != "`" and expr[j] == "\\" else 1
            in_regex = _regex_string(expr, i)

            def inside(m: re.Match[str], quote: str = c, in_regex: bool = in_regex) -> str:
                """A reference inside a string."""
                var, fmt = _reference(m, picked)
                if var is None:
                    return m.group(0)
                return string_escape(_formatted(var, fmt, in_regex), quote)

            out.append(c + REFERENCE_RE.sub(inside, expr[i + 1 : j]) + expr[j : j + 1])
            i = j + 1
            continue
        if c == "#":  # a comment, to the end of the line
            j = expr.find("\n", i)
            j = n if j < 0 else j
            out.append(expr[i:j])
            i = j
            continue
        m = REFERENCE_RE.match(expr, i)
        if m is None:
            out.append(c)
            i += 1
            continue
        var, fmt = _reference(m, picked)
        if var is None:
            out.append(m.group(0))
        else:
            text = _formatted(var, fmt or "raw", False) if not var.all else (var.all_value or "")
            if len(var.values) != 1 and not var.all or not _PLAIN_TOKEN_RE.match(text):
                raise VariableError(
                    f"${var.name}: outside a quoted string only one plain value (5m, a_name) can"
                    " be written; quote the reference"
                )
            out.append(text)
        i = m.end()
    return "".join(out)


def interpolate_text(text: str, picked: Mapping[str, Picked]) -> str:
    """A legend or title with each picked variable's values written out (All as ``All``)."""
    if not picked:
        return text

    def one(m: re.Match[str]) -> str:
        """One reference, as text."""
        var, _fmt = _reference(m, picked)
        return m.group(0) if var is None else _formatted(var, "text", False)

    try:
        return REFERENCE_RE.sub(one, text)
    except VariableError:
        return text


def expand_labels(labels: Mapping[str, str], picked: Mapping[str, Picked]) -> list[dict[str, str]]:
    """A stored series' labels for the picked values: one label set per combination of the
    values of the variables they use (at most MAX_EXPANDED); a label that is just an All
    variable (``$route``) is dropped, so it matches every value."""
    choices: list[list[tuple[str, str | None]]] = []
    for key, value in labels.items():
        names = [n for n in references(value) if n in picked]
        if not names:
            choices.append([(key, value)])
            continue
        whole = REFERENCE_RE.fullmatch(value)
        if whole is not None and picked[names[0]].all:
            choices.append([(key, None)])
            continue
        sets = [[(n, v) for v in picked[n].values] for n in names]
        options: list[tuple[str, str | None]] = []
        for combo in product(*sets):
            one = dict(combo)
            options.append((key, REFERENCE_RE.sub(partial(_single, one=one), value)))
        choices.append(options or [(key, "")])
    out: list[dict[str, str]] = []
    for chosen in product(*choices):
        out.append({k: v for k, v in chosen if v is not None})
        if len(out) >= MAX_EXPANDED:
            break
    return out


def _single(m: re.Match[str], one: Mapping[str, str]) -> str:
    """A reference to a variable of ``one`` (name: value), as its value (others as written)."""
    name = m.group(1) or m.group(2) or m.group(3)
    return one.get(name, m.group(0))


def entry_references(entry: Mapping[str, Any]) -> set[str]:
    """The variable names a widget's series entry uses (its expression, legend or labels)."""
    found: set[str] = set()
    for text in (
        entry.get("expr", ""),
        entry.get("legend", ""),
        *(entry.get("labels") or {}).values(),
    ):
        found |= references(str(text))
    return found


def widget_references(widget: Mapping[str, Any]) -> set[str]:
    """The variable names a widget uses (its series and its title)."""
    found = references(str(widget.get("title", "")))
    for entry in widget.get("series", []):
        found |= entry_references(entry)
    return found


def interpolate_widget(widget: Mapping[str, Any], picked: Mapping[str, Picked]) -> dict[str, Any]:
    """A widget with its series, legends and title written for the picked values (a stored
    series with a multi-value variable in its labels becomes one entry per value)."""
    used = widget_references(widget) & set(picked)
    if not used:
        return dict(widget)
    series: list[dict[str, Any]] = []
    for entry in widget.get("series", []):
        if "expr" in entry:
            try:
                new = {**entry, "expr": interpolate_expr(entry["expr"], picked)}
            except VariableError as exc:  # drawn as the widget's error
                new = {**entry, "error": str(exc)}
            if entry.get("legend"):
                new["legend"] = interpolate_text(entry["legend"], picked)
            series.append(new)
        else:
            for labels in expand_labels(entry.get("labels") or {}, picked):
                series.append({**entry, "labels": labels})
    title = interpolate_text(str(widget.get("title", "")), picked)[:120]
    return {**widget, "series": series[:MAX_EXPANDED], "title": title}


def interpolate_dashboard(
    dashboard: Mapping[str, Any], picked: Mapping[str, Picked]
) -> dict[str, Any]:
    """A dashboard with every widget written for the picked values."""
    if not picked:
        return dict(dashboard)
    widgets = [interpolate_widget(w, picked) for w in dashboard.get("widgets", [])]
    return {**dashboard, "widgets": widgets}


def expr_checker(variables: Sequence[Mapping[str, Any]]) -> Callable[[str], str]:
    """What checks an expression that uses these variables: it is written with a sample value
    of each before it is parsed (``[$interval]`` parses only once filled in)."""
    samples = {str(v["name"]): sample(v) for v in variables}

    def check(expr: str) -> str:
        """The expression as parsed for the check."""
        try:
            return interpolate_expr(expr, samples)
        except VariableError:
            return expr

    return check


def changed(old: Mapping[str, Picked], new: Mapping[str, Picked]) -> set[str]:
    """The variable names whose picked values differ."""
    return {n for n in set(old) | set(new) if old.get(n) != new.get(n)}


def free_values(raw: Any, variables: Sequence[Mapping[str, Any]]) -> dict[str, Picked]:
    """Picked values from a client (the live feed's subscription, as ``wire_values`` writes
    them), of defined variables only, trimmed to the limits; a variable without values gets
    its default (of its stored options: All for a query variable that offers it). Any value is
    safe to interpolate (it is escaped where it is written), so no option list is read here."""
    raw = raw if isinstance(raw, dict) else {}
    out: dict[str, Picked] = {}
    for var in variables:
        name = str(var["name"])
        values = raw.get(name)
        if isinstance(values, str):
            values = [values]
        if not isinstance(values, list):
            values = []
        clean = [
            v
            for v in values[: MAX_OPTIONS + 1]
            if isinstance(v, str) and 0 < len(v) <= MAX_VALUE_LEN and v.isprintable()
        ]
        if not clean:
            out[name] = pick(var, list(var.get("options") or []), None)
        elif clean[:1] == [ALL] and var.get("include_all"):
            out[name] = Picked(name, tuple(clean[1:]), True, var.get("all_value"))
        elif clean:
            limit = MAX_CURRENT if var.get("multi") else 1
            out[name] = Picked(name, tuple(v for v in clean if v != ALL)[:limit])
    return out
