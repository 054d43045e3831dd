"""Aggregations (``sum``, ``avg``, ``min``, ``max``, ``count``, ``stddev``, ``stdvar``,
``quantile``, ``topk``, ``bottomk``, ``count_values``, ``group``) with ``by``/``without`` (pure).

Rows are grouped once, sorted by group, and each group is reduced with ``ufunc.reduceat`` over
every step at once.
"""

from __future__ import annotations

import warnings

import numpy as np

from dashboard.query.values import NAME, Block, Labels, QueryError, label_key


def group_labels(labels: Labels, names: list[str], without: bool) -> Labels:
    """The labels that name a row's group."""
    if without:
        drop = set(names) | {NAME}
        return {k: v for k, v in labels.items() if k not in drop}
    return {k: labels[k] for k in names if k in labels and labels[k] != ""}


def grouping(block: Block, names: list[str], without: bool) -> tuple[np.ndarray, list[Labels]]:
    """The group index of each row and each group's labels."""
    if not names and not without:
        return np.zeros(len(block), dtype=np.int64), ([{}] if len(block) else [])
    index: dict[tuple[tuple[str, str], ...], int] = {}
    out: list[Labels] = []
    ids = np.empty(len(block), dtype=np.int64)
    for i, lab in enumerate(block.labels):
        g = group_labels(lab, names, without)
        key = label_key(g)
        j = index.setdefault(key, len(out))
        if j == len(out):
            out.append(g)
        ids[i] = j
    return ids, out


def _reduce(ufunc: np.ufunc, data: np.ndarray, order: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """``ufunc`` over each group's rows (``order`` sorts rows by group; ``starts`` cut it)."""
    if data.shape[0] == 0:
        return np.zeros((0, data.shape[1]))
    return ufunc.reduceat(data[order], starts, axis=0)


def aggregate(op: str, block: Block, names: list[str], without: bool, param: object) -> Block:
    """Aggregate ``block`` by the groups ``by``/``without`` ``names`` define."""
    if op in ("topk", "bottomk"):
        return _top(block, names, without, param, op == "topk")
    if op == "count_values":
        return _count_values(block, names, without, str(param))
    ids, labels = grouping(block, names, without)
    order = np.argsort(ids, kind="stable")
    starts = np.searchsorted(ids[order], np.arange(len(labels)))
    mask, values = block.mask, block.values
    count = (
        np.add.reduceat(mask[order], starts, axis=0, dtype=np.float64)
        if len(block)
        else np.zeros((0, mask.shape[1]))
    )
    present = count > 0
    if op == "quantile":
        return Block(labels, _quantile(block, ids, len(labels), param), present)
    zeroed = np.where(mask, values, 0.0)
    if op == "sum":
        result = _reduce(np.add, zeroed, order, starts)
    elif op == "count":
        result = count
    elif op == "group":
        result = np.ones_like(count)
    elif op in ("avg", "stddev", "stdvar"):
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):  # huge: +Inf
            mean = _reduce(np.add, zeroed, order, starts) / count
            if op == "avg":
                result = mean
            else:
                dev = np.where(mask, (values - mean[ids]) ** 2, 0.0)
                result = _reduce(np.add, dev, order, starts) / count
                result = np.sqrt(result) if op == "stddev" else result
    elif op in ("min", "max"):
        ufunc = np.fmin if op == "min" else np.fmax
        result = _reduce(ufunc, np.where(mask, values, np.nan), order, starts)
    else:
        raise QueryError(f"aggregation {op}() is not supported")
    return Block(labels, np.where(present, result, 0.0), present)


def _quantile(block: Block, ids: np.ndarray, groups: int, param: object) -> np.ndarray:
    """The φ-quantile of each group at each step (φ per step)."""
    phi = np.asarray(param, dtype=np.float64)
    data = np.where(block.mask, block.values, np.nan)
    out = np.zeros((groups, data.shape[1]))
    for g in range(groups):
        rows = data[ids == g]
        level = np.clip(np.nan_to_num(phi, nan=0.5), 0, 1)
        same = bool(np.all(level == level[0]))
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            q = np.nanquantile(rows, level[0] if same else level, axis=0)
        q = q if same else np.diagonal(q)
        q = np.where(phi < 0, -np.inf, np.where(phi > 1, np.inf, q))
        out[g] = np.where(np.isnan(phi), np.nan, q)
    return out


def _top(block: Block, names: list[str], without: bool, param: object, top: bool) -> Block:
    """``topk``/``bottomk``: the k largest/smallest rows of each group at each step."""
    k = np.asarray(param, dtype=np.float64)
    ids, groups = grouping(block, names, without)
    data = np.where(block.mask, block.values, np.nan)
    key = np.where(np.isnan(data), np.inf, -data if top else data)
    keep = np.zeros(block.mask.shape, dtype=bool)
    for g in range(len(groups)):
        rows = np.flatnonzero(ids == g)
        ranks = np.argsort(np.argsort(key[rows], axis=0, kind="stable"), axis=0, kind="stable")
        keep[rows] = ranks < np.floor(k)[None, :]
    out = Block(block.labels, block.values, block.mask & keep).compact()
    out.ordered = True
    return out


def format_value(value: float) -> str:
    """A float as Go's ``strconv.FormatFloat(v, 'f', -1, 64)`` writes it."""
    text = repr(float(value))
    if text.endswith(".0"):
        return text[:-2]
    if "e" not in text and "n" not in text:
        return text
    if np.isnan(value):
        return "NaN"
    if np.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return np.format_float_positional(value, trim="-")


def format_values(values: list[float]) -> list[str]:
    """:func:`format_value` of each value (a range query's answer: thousands at once, most of
    them written by ``repr`` as they are or with a ``.0`` to drop)."""
    return [
        format_value(value)  # an exponent, inf or nan: Go's forms
        if "e" in text or "n" in text
        else (text[:-2] if text.endswith(".0") else text)
        for text, value in zip(map(repr, values), values, strict=True)
    ]


def _count_values(block: Block, names: list[str], without: bool, label: str) -> Block:
    """``count_values``: per group and distinct value, how many rows have it."""
    ids, groups = grouping(block, names, without)
    rows: dict[tuple[tuple[str, str], ...], int] = {}
    labels: list[Labels] = []
    counts: list[np.ndarray] = []
    steps = block.values.shape[1]
    for i, t in zip(*np.nonzero(block.mask), strict=True):
        lab = {**groups[ids[i]], label: format_value(float(block.values[i, t]))}
        j = rows.setdefault(label_key(lab), len(labels))
        if j == len(labels):
            labels.append(lab)
            counts.append(np.zeros(steps))
        counts[j][t] += 1
    values = np.array(counts) if counts else np.zeros((0, steps))
    return Block(labels, values, values > 0)
