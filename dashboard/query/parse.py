"""Parsing PromQL with ``promql_parser`` (Prometheus' grammar) and label matchers (pure).

The parser's messages carry no position, so :func:`parse` adds one the way Prometheus words it
(``parse error at char 14: unexpected right brace '}'``), found from the brackets and quoted
tokens of the input. Regular expressions are fully anchored and must mean the same to Python's
``re`` as to Go's RE2; constructs that differ (backreferences, look-arounds, POSIX classes,
``\\p``) and nested quantifiers (slow in a backtracking engine) are refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import promql_parser

from dashboard.query.values import QueryError

MAX_QUERY_LEN = 16_384
MAX_DEPTH = 64
MAX_REGEX_LEN = 4_096
# operators (and signs) outside strings: promql-parser's parse time grows with the square of a
# chain's length (4,000 ``+`` took 4 s) and a chain of some 5,000 overflows its stack
MAX_OPERATORS = 256
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_OPERATOR = re.compile(r"==|!=|>=|<=|[-+*/%^<>]|\b(?:and|or|unless|atan2)\b")
# Prometheus keeps durations in int64 nanoseconds: about 292 years, "duration out of range" past
MAX_DURATION_MS = (2**63 - 1) // 1_000_000
_OPEN = {"(": ")", "{": "}", "[": "]"}
_CLOSE = {v: k for k, v in _OPEN.items()}
_QUOTED = re.compile(r"'([^']+)'|(?:syntax|duration syntax): (\S+)|regex for (.+)$")
_RE2_ONLY = re.compile(r"\\[1-9]|\(\?[=!<>P]|\[\[:|\\[pPzZ]|\\[AGbB]\b|\(\?[a-zA-Z]*[xuL]")
_NESTED_QUANT = re.compile(r"\((?:[^()\\]|\\.)*[*+}](?:[^()\\]|\\.)*\)[*+{]")


class ParseError(QueryError):
    """An expression that does not parse; the message has Prometheus' form."""

    def __init__(self, message: str, pos: int | None = None) -> None:
        """A parse error at char ``pos`` (1-based), when known."""
        where = f" at char {pos}" if pos is not None else ""
        super().__init__(f"parse error{where}: {message}")
        self.pos = pos


def _scan(query: str) -> tuple[list[tuple[str, int]], int | None, int]:
    """Open brackets left, the first unmatched closer and the deepest nesting, outside strings."""
    stack: list[tuple[str, int]] = []
    quote = ""
    depth = 0
    bad: int | None = None
    i = 0
    while i < len(query):
        c = query[i]
        if quote:
            if c == "\\" and quote != "`":
                i += 1
            elif c == quote:
                quote = ""
        elif c in "\"'`":
            quote = c
        elif c == "#":
            while i < len(query) and query[i] != "\n":
                i += 1
        elif c in _OPEN:
            stack.append((c, i))
            depth = max(depth, len(stack))
        elif c in _CLOSE:
            if stack and stack[-1][0] == _CLOSE[c]:
                stack.pop()
            elif bad is None:
                bad = i
        i += 1
    return stack, bad, depth


def _open_quote(query: str) -> int | None:
    """Where a string left open at the end of ``query`` starts (0-based), or None."""
    quote, start, i = "", None, 0
    while i < len(query):
        c = query[i]
        if quote:
            if c == "\\" and quote != "`":
                i += 1
            elif c == quote:
                quote, start = "", None
        elif c in "\"'`":
            quote, start = c, i
        i += 1
    return start


def error_position(query: str, message: str) -> int | None:
    """Where a parse error lies (1-based), guessed from the message and the input."""
    if "unterminated" in message and _open_quote(query) is not None:
        return _open_quote(query) + 1  # type: ignore[operator]
    stack, bad, _ = _scan(query)
    if "unexpected right" in message and bad is not None:
        return bad + 1
    if "unclosed left" in message or "end of input" in message:
        return stack[-1][1] + 1 if stack and "unclosed" in message else len(query) + 1
    found = _QUOTED.search(message)
    if found:
        token = next(g for g in found.groups() if g)
        at = query.find(token)
        if at >= 0:
            return at + 1
    if "function" in message:
        name = re.search(r"function '?([A-Za-z_]\w*)", message)
        if name and query.find(name.group(1)) >= 0:
            return query.find(name.group(1)) + 1
    return None


def parse(query: str) -> promql_parser.Expr:
    """The AST of ``query``, or ParseError with its position."""
    if not query.strip():
        raise ParseError("no expression found in input", 1)
    if len(query) > MAX_QUERY_LEN:
        raise ParseError(f"expression longer than {MAX_QUERY_LEN} characters", MAX_QUERY_LEN)
    stack, _, depth = _scan(query)
    if depth > MAX_DEPTH:
        raise ParseError(f"expression nested deeper than {MAX_DEPTH} levels", None)
    if len(_OPERATOR.findall(_STRINGS.sub('""', query))) > MAX_OPERATORS:
        raise ParseError(f"expression with more than {MAX_OPERATORS} operators", None)
    try:
        expr = promql_parser.parse(query)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - a Rust panic is a BaseException
        message = str(exc).splitlines()[0][:300] if str(exc) else "invalid expression"
        raise ParseError(message, error_position(query, message)) from None
    for matcher in selector_matchers(expr):
        matcher.compiled()
    check_times(expr)
    return expr


def _duration(node: promql_parser.Expr, name: str) -> None:
    """Refuse a range, offset or step the parser cannot hand over or Prometheus would not take."""
    try:
        value = getattr(node, name)
    except (OverflowError, ValueError):  # past Python's timedelta (some 2.7 million years)
        raise ParseError(f"{name}: duration out of range") from None
    if value is not None and abs(value.total_seconds()) * 1000 > MAX_DURATION_MS:
        raise ParseError(f"{name}: duration out of range")


def at_ms(at: promql_parser.AtModifier) -> int:
    """The milliseconds of an ``@ <time>`` modifier, or ParseError when promql-parser cannot
    hand the time over: past year 9999 (``@ 1e12``) it overflows, and before 1970 (``@ -1``)
    its binding panics (pyo3's PanicException, a BaseException)."""
    try:
        when = at.at
    except (OverflowError, ValueError):
        raise ParseError("timestamp out of bounds for @ modifier") from None
    except BaseException as exc:
        if type(exc).__name__ != "PanicException":
            raise
        raise ParseError("@ modifier times before 1970 are not supported") from None
    if when is None:
        raise ParseError("@ modifier without a time")
    try:
        return int(round(when.timestamp() * 1000))
    except (OverflowError, ValueError):
        raise ParseError("timestamp out of bounds for @ modifier") from None


def check_times(expr: promql_parser.Expr) -> None:
    """Every range, offset, step and ``@`` time of ``expr`` usable, or ParseError (bad_data)."""

    def visit(node: promql_parser.Expr) -> None:
        """Check one node's durations and ``@``."""
        kind = type(node)
        for name in ("range", "offset", "step"):
            if hasattr(kind, name):
                _duration(node, name)
        at = getattr(node, "at", None) if hasattr(kind, "at") else None
        if at is not None and at.type == promql_parser.AtModifierType.At:
            at_ms(at)

    for node in nodes(expr):
        visit(node)


def selector_matchers(expr: promql_parser.Expr) -> list[Matcher]:
    """The matchers of every vector selector in ``expr`` (to check their regexes early)."""
    found: list[Matcher] = []

    def visit(node: promql_parser.Expr) -> None:
        """Collect the matchers of one selector."""
        if isinstance(node, promql_parser.VectorSelector):
            found.extend(matchers_of(node))

    for node in nodes(expr):
        visit(node)
    return found


def _children(node: promql_parser.Expr) -> list[promql_parser.Expr]:
    """The sub-expressions of one node."""
    if isinstance(node, promql_parser.BinaryExpr):
        return [node.lhs, node.rhs]
    if isinstance(node, promql_parser.AggregateExpr):
        return [node.expr] if node.param is None else [node.param, node.expr]
    if isinstance(node, promql_parser.Call):
        return list(node.args)
    if isinstance(node, promql_parser.MatrixSelector):
        return [node.vector_selector]
    if isinstance(
        node, promql_parser.UnaryExpr | promql_parser.ParenExpr | promql_parser.SubqueryExpr
    ):
        return [node.expr]
    return []


def nodes(expr: promql_parser.Expr) -> list[promql_parser.Expr]:
    """Every node of ``expr``, parents first: ``promql_parser.walk`` without its cost (it took
    114 s on a chain of 1,000 ``+``; reading the children is linear)."""
    out: list[promql_parser.Expr] = []
    todo = [expr]
    while todo:
        node = todo.pop()
        out.append(node)
        todo.extend(reversed(_children(node)))
    return out


_OPS = (
    (promql_parser.MatchOp.Equal, "="),
    (promql_parser.MatchOp.NotEqual, "!="),
    (promql_parser.MatchOp.Re, "=~"),
    (promql_parser.MatchOp.NotRe, "!~"),
)


def _op(op: promql_parser.MatchOp) -> str:
    """The text of a matcher's operator."""
    return next(text for kind, text in _OPS if kind == op)


@dataclass(frozen=True)
class Matcher:
    """One label matcher: ``name op value`` with op one of ``=``, ``!=``, ``=~``, ``!~``."""

    name: str
    op: str
    value: str
    _re: list[re.Pattern[str]] = field(default_factory=list, compare=False, repr=False)

    def compiled(self) -> re.Pattern[str] | None:
        """The anchored regex of a regex matcher (compiled once), or ParseError."""
        if self.op not in ("=~", "!~"):
            return None
        if not self._re:
            self._re.append(compile_regex(self.value))
        return self._re[0]

    def matches(self, value: str) -> bool:
        """True when a label's value (empty when absent) passes."""
        if self.op == "=":
            return value == self.value
        if self.op == "!=":
            return value != self.value
        pattern = self.compiled()
        hit = pattern is not None and pattern.fullmatch(value) is not None
        return hit if self.op == "=~" else not hit

    def __str__(self) -> str:
        """Prometheus' text form."""
        return f'{self.name}{self.op}"{self.value}"'


def compile_regex(value: str) -> re.Pattern[str]:
    """A regex that means what RE2 means by ``value`` (dot matches newline), or ParseError."""
    if len(value) > MAX_REGEX_LEN:
        raise ParseError(f"regex longer than {MAX_REGEX_LEN} characters")
    if _RE2_ONLY.search(value):
        raise ParseError(f"unsupported regex (RE2 and Python differ): {value[:80]!r}")
    if _NESTED_QUANT.search(value):
        raise ParseError(f"regex with nested repetition refused: {value[:80]!r}")
    try:
        return re.compile(f"(?:{value})", re.DOTALL)
    except re.error as exc:
        raise ParseError(f"invalid regex {value[:80]!r}: {exc}") from None


def matchers_of(node: promql_parser.VectorSelector) -> list[Matcher]:
    """The matchers of a selector, its metric name as an ``__name__`` matcher."""
    out = [Matcher("__name__", "=", node.name)] if node.name else []
    for m in node.matchers.matchers:
        out.append(Matcher(m.name, _op(m.op), m.value))
    if node.matchers.or_matchers:
        raise ParseError("'or' inside a selector's braces is not supported")
    return out
