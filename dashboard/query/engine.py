"""The PromQL evaluator: an AST from ``promql_parser`` over a querier of raw samples (pure).

Every node is evaluated at all steps of a query together (see :mod:`dashboard.query.values`);
selectors read each series once for the whole range. Limits: the samples read
(``max_samples``) and a deadline (``time.monotonic()`` seconds), checked at every node.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, Protocol

import numpy as np
import promql_parser as pp

from dashboard.metrics import rollup
from dashboard.metrics.steps import HOUR as HOUR_MS
from dashboard.query import aggregate, binops, calls, functions
from dashboard.query.parse import Matcher, at_ms, matchers_of, parse
from dashboard.query.rangefns import RANGE_FUNCTIONS, Windows, over_time
from dashboard.query.samples import RawSeries, Samples
from dashboard.query.values import (
    NAME,
    Block,
    QueryError,
    QueryTimeout,
    Scalar,
    String,
    TooManySamples,
)

LOOKBACK_MS = 5 * 60 * 1000
MAX_SUBQUERY_STEPS = 1_000_000
Value = Scalar | Block | String


class Querier(Protocol):
    """Where raw samples come from."""

    def select(self, matchers: Sequence[Matcher], start_ms: int, end_ms: int) -> list[RawSeries]:
        """The series all ``matchers`` pick, with their samples in ``[start_ms, end_ms]``."""
        ...


def duration_ms(delta: timedelta | None) -> int:
    """A parser duration in milliseconds (0 for none)."""
    if delta is None:
        return 0
    return int(round(delta.total_seconds() * 1000))


class Engine:
    """Evaluates one query at a set of timestamps."""

    def __init__(
        self,
        querier: Querier,
        *,
        lookback_ms: int = LOOKBACK_MS,
        max_samples: int = 50_000_000,
        deadline: float | None = None,
    ) -> None:
        """An engine over ``querier`` with its limits."""
        self.querier = querier
        self.lookback_ms = lookback_ms
        self.max_samples = max_samples
        self.deadline = deadline
        self.samples_read = 0
        self.times = np.zeros(1, dtype=np.int64)

    # --- entry points ----------------------------------------------------------------------

    def instant(self, query: str | pp.Expr, at_ms: int) -> Value | Samples:
        """``query`` at one time; a range selector at the top gives its raw samples."""
        expr = parse(query) if isinstance(query, str) else query
        self.times = np.array([at_ms], dtype=np.int64)
        node = _unparen(expr)
        if isinstance(node, pp.MatrixSelector):
            w = self._matrix(node)
            return _window_samples(w)
        return self.eval(expr)

    def range(self, query: str | pp.Expr, start_ms: int, end_ms: int, step_ms: int) -> Value:
        """``query`` at ``start, start + step, ... <= end``."""
        expr = parse(query) if isinstance(query, str) else query
        if _unparen(expr).__class__ in (pp.MatrixSelector, pp.SubqueryExpr) or isinstance(
            _unparen(expr), pp.StringLiteral
        ):
            raise QueryError(
                "invalid expression type for range query, must be Scalar or instant Vector"
            )
        self.times = np.arange(start_ms, end_ms + 1, step_ms, dtype=np.int64)
        return self.eval(expr)

    # --- evaluation --------------------------------------------------------------------------

    def _tick(self) -> None:
        """Raise QueryTimeout once the deadline has passed."""
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise QueryTimeout()

    def eval(self, node: pp.Expr) -> Value:
        """The value of ``node`` at every step."""
        self._tick()
        if isinstance(node, pp.NumberLiteral):
            return Scalar(np.full(self.times.size, float(node.val)))
        if isinstance(node, pp.StringLiteral):
            return String(str(node.val))
        if isinstance(node, pp.ParenExpr):
            return self.eval(node.expr)
        if isinstance(node, pp.UnaryExpr):
            return _negate(self.eval(node.expr))
        if isinstance(node, pp.VectorSelector):
            return self._vector(node)
        if isinstance(node, pp.Call):
            return self._call(node)
        if isinstance(node, pp.AggregateExpr):
            return self._aggregate(node)
        if isinstance(node, pp.BinaryExpr):
            return self._binary(node)
        raise QueryError(f"{type(node).__name__} is not supported here")

    def vector(self, node: pp.Expr) -> Block:
        """``node``'s value, which must be an instant vector."""
        value = self.eval(node)
        if not isinstance(value, Block):
            raise QueryError(f"expected an instant vector, got {type(value).__name__.lower()}")
        return value

    def scalar(self, node: pp.Expr) -> np.ndarray:
        """``node``'s value, which must be a scalar, shape (T,)."""
        value = self.eval(node)
        if not isinstance(value, Scalar):
            raise QueryError("expected a scalar")
        return value.values

    def _effective(self, at: Any, offset: timedelta | None) -> np.ndarray:
        """The times a selector reads at after ``@`` and ``offset``, shape (T,)."""
        times = self.times
        if at is not None:
            if at.type == pp.AtModifierType.Start:
                fixed = int(self.times[0])
            elif at.type == pp.AtModifierType.End:
                fixed = int(self.times[-1])
            else:
                fixed = at_ms(at)
            times = np.full(self.times.size, fixed, dtype=np.int64)
        return times - duration_ms(offset)

    def _read(self, matchers: list[Matcher], start: int, end: int, newest: bool = False) -> Samples:
        """The samples of the matching series in ``[start, end]``, counted against the limit
        (``newest``: the newest of each series is enough, as ``select_flat`` allows)."""
        flat = getattr(self.querier, "select_flat", None)  # flat arrays: no per-series copies
        if flat is not None:
            labels, ts, v, offsets = (
                flat(matchers, start, end, newest=True) if newest else flat(matchers, start, end)
            )
            samples = Samples(labels, ts, v, offsets, start - 1)
        else:
            samples = Samples.of(self.querier.select(matchers, start, end), start - 1)
        self._tick()
        self.samples_read += int(samples.ts.size)
        points = len(samples) * self.times.size  # the (S, T) arrays this selection makes
        if self.samples_read > self.max_samples or points > self.max_samples:
            raise TooManySamples(self.max_samples)
        return samples

    def _vector(self, node: pp.VectorSelector) -> Block:
        """An instant vector selector: the latest sample within the lookback per step."""
        times = self._effective(node.at, node.offset)
        start = int(times.min()) - self.lookback_ms
        samples = self._read(matchers_of(node), start, int(times.max()), times.size == 1)
        values, mask = samples.instant(times, self.lookback_ms)
        return Block(samples.labels, values, mask).compact()

    def _matrix(self, node: pp.MatrixSelector, params: tuple[np.ndarray, ...] = ()) -> Windows:
        """A range selector's windows ``(t - range, t]`` at every step."""
        vs = node.vector_selector
        times = self._effective(vs.at, vs.offset)
        rng = duration_ms(node.range)
        starts = times - rng
        samples = self._read(matchers_of(vs), int(starts.min()) + 1, int(times.max()))
        lo, hi = samples.windows(starts, times)
        return Windows(samples, lo, hi, starts, times, rng / 1000.0, params)

    def rollup_over_time(self, node: pp.Expr, kind: str) -> Block | None:
        """``<kind>_over_time`` (sum, count, avg, min, max, last) of a range selector from
        one-hour rollups, or None when they cannot give the RAW result.

        They can when the range is whole hours and every evaluation time a whole hour, so each
        window ``(t - range, t]`` is a run of buckets ``[b, b + 1h)``, and the querier
        (``select_hours``) vouches that no point lies on an hour boundary. Sums are of bucket
        sums, so a float sum may differ from the RAW one in its last bits.
        """
        node = _unparen(node)
        select = getattr(self.querier, "select_hours", None)
        if select is None or not isinstance(node, pp.MatrixSelector):
            return None
        vs = node.vector_selector
        times = self._effective(vs.at, vs.offset)
        rng = duration_ms(node.range)
        if rng < HOUR_MS or rng % HOUR_MS or bool(np.any(times % HOUR_MS)):
            return None
        start = int(times.min()) - rng
        got = select(matchers_of(vs), start, int(times.max()))
        if got is None:
            return None
        labels, rows, offsets = got
        if kind in ("min", "max") and bool(np.isnan(rows[:, rollup.MIN : rollup.MAX + 1]).any()):
            return None  # a bucket's min/max is NaN where the RAW fmin/fmax skips the NaN
        self._tick()
        self.samples_read += int(rows.shape[0])
        if self.samples_read > self.max_samples or len(labels) * times.size > self.max_samples:
            raise TooManySamples(self.max_samples)
        starts = rows[:, rollup.START].astype(np.int64)
        buckets = Samples(labels, starts, rows[:, 0], offsets, start - 1)
        lo, hi = buckets.windows(times - rng - 1, times - 1)  # buckets from t - range to t

        def over(column: int, how: str) -> np.ndarray:
            """The windows' ``how`` over one column of the rows."""
            buckets.v = rows[:, column]
            w = Windows(buckets, lo, hi, times - rng, times, rng / 1000.0)
            return over_time(w, how)[0]

        mask = hi > lo
        if kind == "count":
            values = over(rollup.COUNT, "sum")
        elif kind == "sum":
            values = over(rollup.SUM, "sum")
        elif kind == "avg":
            values = over(rollup.SUM, "sum") / np.maximum(over(rollup.COUNT, "sum"), 1)
        elif kind in ("min", "max"):
            values = over(rollup.MIN if kind == "min" else rollup.MAX, kind)
        else:
            values = over(rollup.LAST, "last")
        return Block(labels, np.where(mask, values, 0.0), mask).compact()

    def _subquery(self, node: pp.SubqueryExpr, params: tuple[np.ndarray, ...] = ()) -> Windows:
        """A subquery's windows: the inner expression at aligned steps, then as a range."""
        times = self._effective(node.at, node.offset)
        rng = duration_ms(node.range)
        step = duration_ms(node.step) or 60_000
        first = (int(times.min()) - rng) // step * step
        if (int(times.max()) - first) // step > MAX_SUBQUERY_STEPS:
            raise TooManySamples(self.max_samples)
        inner = Engine(self.querier, lookback_ms=self.lookback_ms, deadline=self.deadline)
        inner.max_samples = self.max_samples - self.samples_read
        value = inner.range(node.expr, first, int(times.max()), step)
        self.samples_read += inner.samples_read
        if isinstance(value, Block):
            block = value
        else:
            scalar = np.asarray(getattr(value, "values", np.zeros(0)))[None, :]
            block = Block([{}], scalar, np.ones(scalar.shape, dtype=bool))
        sub_times = inner.times
        series = [
            RawSeries(lab, sub_times[m], block.values[i][m])
            for i, (lab, m) in enumerate(zip(block.labels, block.mask, strict=True))
            if m.any()
        ]
        samples = Samples.of(series, first - 1)
        starts = times - rng
        lo, hi = samples.windows(starts, times)
        return Windows(samples, lo, hi, starts, times, rng / 1000.0, params)

    def windows(self, node: pp.Expr, params: tuple[np.ndarray, ...] = ()) -> Windows:
        """The windows of a range-vector argument."""
        node = _unparen(node)
        if isinstance(node, pp.MatrixSelector):
            return self._matrix(node, params)
        if isinstance(node, pp.SubqueryExpr):
            return self._subquery(node, params)
        raise QueryError("expected a range vector")

    def _call(self, node: pp.Call) -> Value:
        """A function call."""
        return calls.call(self, str(node.func.name), list(node.args))

    def _aggregate(self, node: pp.AggregateExpr) -> Block:
        """An aggregation with its grouping and parameter."""
        op = str(node.op)
        block = self.vector(node.expr)
        names: list[str] = []
        without = False
        if node.modifier is not None:
            names = list(node.modifier.labels)
            without = node.modifier.type == pp.AggModifierType.Without
        param: object = None
        if node.param is not None:
            value = self.eval(node.param)
            param = value.value if isinstance(value, String) else getattr(value, "values", None)
        return aggregate.aggregate(op, block, names, without, param)

    def _binary(self, node: pp.BinaryExpr) -> Value:
        """A binary operation between scalars and/or vectors."""
        op = str(node.op)
        mod = node.modifier
        ret_bool = bool(mod and mod.return_bool)
        lhs, rhs = self.eval(node.lhs), self.eval(node.rhs)
        if isinstance(lhs, Scalar) and isinstance(rhs, Scalar):
            return Scalar(binops.scalar_op(op, lhs.values, rhs.values))
        if isinstance(rhs, Scalar) and isinstance(lhs, Block):
            return binops.vector_scalar(op, lhs, rhs.values, False, ret_bool)
        if isinstance(lhs, Scalar) and isinstance(rhs, Block):
            return binops.vector_scalar(op, rhs, lhs.values, True, ret_bool)
        if not isinstance(lhs, Block) or not isinstance(rhs, Block):
            raise QueryError(f"operator {op} needs scalars or instant vectors")
        matching = _matching(mod)
        if op in ("and", "or", "unless"):
            return binops.set_op(op, lhs, rhs, matching)
        return binops.vector_op(op, lhs, rhs, matching, ret_bool)


_CARDS = (
    (pp.VectorMatchCardinality.ManyToOne, "many-to-one"),
    (pp.VectorMatchCardinality.OneToMany, "one-to-many"),
    (pp.VectorMatchCardinality.ManyToMany, "many-to-many"),
)


def _matching(mod: Any) -> binops.Matching:
    """The vector matching of a binary expression's modifier."""
    m = binops.Matching()
    if mod is None:
        return m
    m.card = next((name for card, name in _CARDS if mod.card == card), "one-to-one")
    if mod.matching is not None:
        m.on = mod.matching.type == pp.LabelModifierType.Include
        m.labels = list(mod.matching.labels)
    m.include = list(mod.group_labels or [])
    return m


def _unparen(node: pp.Expr) -> pp.Expr:
    """``node`` without enclosing parentheses."""
    while isinstance(node, pp.ParenExpr):
        node = node.expr
    return node


def _negate(value: Value) -> Value:
    """Unary minus (drops the metric name of a vector)."""
    if isinstance(value, Scalar):
        return Scalar(-value.values)
    if isinstance(value, Block):
        return functions.dropped(value, -value.values)
    raise QueryError("unary minus needs a scalar or an instant vector")


def _window_samples(w: Windows) -> Samples:
    """The raw samples of the last step's window of each series (an instant range query)."""
    series = []
    for i, lab in enumerate(w.samples.labels):
        lo, hi = int(w.lo[i, -1]), int(w.hi[i, -1])
        if hi > lo:
            series.append(RawSeries(lab, w.samples.ts[lo:hi], w.samples.v[lo:hi]))
    return Samples.of(series, 0)


__all__ = ["Engine", "Querier", "NAME", "RANGE_FUNCTIONS"]
