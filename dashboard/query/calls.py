"""Function calls: the arguments of each PromQL function evaluated and handed to its
implementation (pure)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import promql_parser as pp

from dashboard.query import functions
from dashboard.query.parse import matchers_of
from dashboard.query.rangefns import RANGE_FUNCTIONS
from dashboard.query.values import NAME, Block, Labels, QueryError, Scalar, String

if TYPE_CHECKING:
    from dashboard.query.engine import Engine, Value

# Functions that keep the metric name (every other one drops it).
KEEP_NAME = frozenset({"last_over_time", "sort", "sort_desc", "label_replace", "label_join"})
# Functions one-hour rollups can answer exactly (see Engine.rollup_over_time): name -> kind.
ROLLUPS = {f"{k}_over_time": k for k in ("sum", "count", "avg", "min", "max", "last")}


def _string(engine: Engine, node: pp.Expr) -> str:
    """A string argument."""
    value = engine.eval(node)
    if not isinstance(value, String):
        raise QueryError("expected a string")
    return value.value


def _range_call(engine: Engine, name: str, args: list[pp.Expr]) -> Block:
    """A function of a range vector (``rate``, ``*_over_time``, ``predict_linear`` ...)."""
    rolled = engine.rollup_over_time(args[0], ROLLUPS[name]) if name in ROLLUPS else None
    if rolled is not None:
        return rolled if name in KEEP_NAME else functions.dropped(rolled, rolled.values)
    if name == "quantile_over_time":
        w = engine.windows(args[1], (engine.scalar(args[0]),))
    elif name == "predict_linear":
        w = engine.windows(args[0], (engine.scalar(args[1]),))
    else:
        w = engine.windows(args[0])
    values, mask = RANGE_FUNCTIONS[name](w, w.ends)
    block = Block(w.samples.labels, values, mask).compact()
    if name in KEEP_NAME:
        return block
    return functions.dropped(block, block.values)


def _absent_labels(node: pp.Expr) -> Labels:
    """The labels ``absent`` gives: the selector's equality matchers (not the name)."""
    while isinstance(node, pp.ParenExpr):
        node = node.expr
    if isinstance(node, pp.MatrixSelector):
        node = node.vector_selector
    if not isinstance(node, pp.VectorSelector):
        return {}
    seen: dict[str, int] = {}
    out: Labels = {}
    for m in matchers_of(node):
        seen[m.name] = seen.get(m.name, 0) + 1
        if m.op == "=" and m.name != NAME:
            out[m.name] = m.value
    return {k: v for k, v in out.items() if seen[k] == 1}


def _label_call(engine: Engine, name: str, args: list[pp.Expr]) -> Block:
    """``label_replace`` and ``label_join``."""
    block = engine.vector(args[0])
    strings = [_string(engine, a) for a in args[1:]]
    if name == "label_replace":
        return functions.label_replace(block, *strings[:4])
    return functions.label_join(block, strings[0], strings[1], strings[2:])


def _clamp(engine: Engine, name: str, args: list[pp.Expr]) -> Block:
    """``clamp``, ``clamp_min``, ``clamp_max``."""
    block = engine.vector(args[0])
    bounds = [engine.scalar(a) for a in args[1:]]
    if name == "clamp":
        return functions.clamp(block, bounds[0], bounds[1])
    if name == "clamp_min":
        return functions.clamp(block, bounds[0], None)
    return functions.clamp(block, None, bounds[0])


def call(engine: Engine, name: str, args: list[pp.Expr]) -> Value:
    """Evaluate ``name(args...)``."""
    if name in RANGE_FUNCTIONS:
        return _range_call(engine, name, args)
    if name in functions.MATH:
        return functions.math_fn(name, engine.vector(args[0]))
    if name in ("clamp", "clamp_min", "clamp_max"):
        return _clamp(engine, name, args)
    if name in ("label_replace", "label_join"):
        return _label_call(engine, name, args)
    steps = engine.times.size
    simple: dict[str, Any] = {
        "time": lambda: Scalar(engine.times / 1000.0),
        "vector": lambda: _vector(engine.scalar(args[0])),
        "scalar": lambda: Scalar(functions.scalar(engine.vector(args[0]))),
        "round": lambda: functions.round_fn(
            engine.vector(args[0]), engine.scalar(args[1]) if len(args) > 1 else None
        ),
        "sort": lambda: functions.sort_rows(engine.vector(args[0]), False),
        "sort_desc": lambda: functions.sort_rows(engine.vector(args[0]), True),
        "histogram_quantile": lambda: functions.histogram_quantile(
            engine.scalar(args[0]), engine.vector(args[1])
        ),
        "absent": lambda: functions.absent(
            engine.vector(args[0]).mask, _absent_labels(args[0])
        ).compact(),
        "absent_over_time": lambda: functions.absent(
            engine.windows(args[0]).count > 0, _absent_labels(args[0])
        ).compact(),
    }
    if name not in simple:
        raise QueryError(f"function {name}() is not supported by this engine")
    value = simple[name]()
    if isinstance(value, Block) and value.values.shape[1] != steps:
        raise QueryError(f"{name}() gave a result of the wrong shape")
    return value


def _vector(values: np.ndarray) -> Block:
    """``vector(s)``: one series without labels."""
    return Block([{}], values[None, :].copy(), np.ones((1, values.size), dtype=bool))
