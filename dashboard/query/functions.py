"""Functions of instant vectors and scalars: math, clamps, labels, ``histogram_quantile``,
``absent``, ``scalar``, ``vector``, ``sort`` (pure)."""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

from dashboard.query.parse import compile_regex
from dashboard.query.values import Block, Labels, QueryError, label_key, merge_same, without_name

_LABEL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TEMPLATE = re.compile(r"\$(?:\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+)|(\$))")

MATH: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "abs": np.abs,
    "ceil": np.ceil,
    "floor": np.floor,
    "sqrt": np.sqrt,
    "exp": np.exp,
    "ln": np.log,
    "log2": np.log2,
    "log10": np.log10,
    "sgn": np.sign,
}


def dropped(block: Block, values: np.ndarray, mask: np.ndarray | None = None) -> Block:
    """New values for a vector, its metric names dropped (and equal label sets merged)."""
    labels = [without_name(lab) for lab in block.labels]
    return merge_same(Block(labels, values, block.mask if mask is None else mask))


def math_fn(name: str, block: Block) -> Block:
    """A math function applied to every sample."""
    with np.errstate(all="ignore"):
        return dropped(block, MATH[name](block.values))


def round_fn(block: Block, to_nearest: np.ndarray | None) -> Block:
    """``round(v, to_nearest=1)``: half up, like Prometheus (``floor(x / n + 0.5) * n``)."""
    inverse = 1.0 / (to_nearest[None, :] if to_nearest is not None else 1.0)
    with np.errstate(all="ignore"):
        return dropped(block, np.floor(block.values * inverse + 0.5) / inverse)


def clamp(block: Block, low: np.ndarray | None, high: np.ndarray | None) -> Block:
    """``clamp``, ``clamp_min``, ``clamp_max``; no result where ``max < min``."""
    values = block.values
    mask = block.mask
    if low is not None:
        values = np.where(np.isnan(values), values, np.maximum(values, low[None, :]))
    if high is not None:
        values = np.where(np.isnan(values), values, np.minimum(values, high[None, :]))
    if low is not None and high is not None:
        mask = mask & ~(high < low)[None, :]
    return dropped(block, values, mask)


def _expand(template: str, match: re.Match[str]) -> str:
    """Go's ``Regexp.Expand``: ``$1``, ``${1}``, ``$name``, ``$$``; unknown groups are empty."""

    def one(m: re.Match[str]) -> str:
        """One reference."""
        if m.group(3):
            return "$"
        ref = m.group(1) or m.group(2)
        try:
            got = match.group(int(ref) if ref.isdigit() else ref)
        except IndexError:
            return ""
        return got or ""

    return _TEMPLATE.sub(one, template)


def label_replace(block: Block, dst: str, repl: str, src: str, regex: str) -> Block:
    """Set ``dst`` from ``repl`` expanded with ``regex``'s groups where it matches ``src``."""
    if not _LABEL_NAME.match(dst):
        raise QueryError(f"invalid destination label name in label_replace(): {dst}")
    pattern = compile_regex(regex)
    labels: list[Labels] = []
    for lab in block.labels:
        match = pattern.fullmatch(lab.get(src, ""))
        if match is None:
            labels.append(lab)
            continue
        value = _expand(repl, match)
        new = {k: v for k, v in lab.items() if k != dst}
        if value:
            new[dst] = value
        labels.append(new)
    return merge_same(Block(labels, block.values, block.mask))


def label_join(block: Block, dst: str, sep: str, srcs: list[str]) -> Block:
    """Set ``dst`` to the values of ``srcs`` joined by ``sep``."""
    if not _LABEL_NAME.match(dst):
        raise QueryError(f"invalid destination label name in label_join(): {dst}")
    labels: list[Labels] = []
    for lab in block.labels:
        value = sep.join(lab.get(s, "") for s in srcs)
        new = {k: v for k, v in lab.items() if k != dst}
        if value:
            new[dst] = value
        labels.append(new)
    return merge_same(Block(labels, block.values, block.mask))


def absent(present: np.ndarray, labels: Labels) -> Block:
    """1 with ``labels`` at the steps where nothing is ``present`` (shape (S, T))."""
    none = np.logical_not(np.asarray(present).any(axis=0)).reshape(1, -1)
    return Block([labels], np.ones(none.shape), none)


def scalar(block: Block) -> np.ndarray:
    """The single sample's value per step, NaN where there are none or several."""
    one = block.mask.sum(axis=0) == 1
    value = np.where(block.mask, block.values, 0.0).sum(axis=0)
    return np.where(one, value, np.nan)


def sort_rows(block: Block, descending: bool) -> Block:
    """Rows ordered by their value at the last step (instant queries), NaN last."""
    last = block.values[:, -1] if block.values.shape[1] else np.zeros(len(block))
    key = np.where(np.isnan(last), np.inf, -last if descending else last)
    out = block.take(np.argsort(key, kind="stable"))
    out.ordered = True
    return out


def _bucket_quantiles(q: np.ndarray, bounds: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Prometheus' ``BucketQuantile`` at every step at once.

    Parameters
    ----------
    q : shape (T,), the quantile per step
    bounds : shape (B,), sorted upper bounds (the last must be +Inf)
    counts : shape (B, T), cumulative bucket counts

    Returns
    -------
    shape (T,)
    """
    steps = counts.shape[1]
    if bounds.size == 0 or not np.isposinf(bounds[-1]):
        return np.full(steps, np.nan)
    bounds, first = np.unique(bounds, return_index=True)
    counts = np.maximum.accumulate(np.add.reduceat(counts, first, axis=0), axis=0)
    if bounds.size < 2:
        return np.full(steps, np.nan)
    total = counts[-1]
    rank = q * total
    found = counts[:-1] >= rank[None, :]
    b = np.where(found.any(axis=0), found.argmax(axis=0), bounds.size - 1)
    cols = np.arange(steps)
    below = np.where(b > 0, counts[np.maximum(b - 1, 0), cols], 0.0)
    start = np.where(b > 0, bounds[np.maximum(b - 1, 0)], 0.0)
    end = bounds[np.minimum(b, bounds.size - 1)]
    with np.errstate(all="ignore"):
        inside = start + (end - start) * ((rank - below) / (counts[b, cols] - below))
    out = np.where(b == bounds.size - 1, bounds[-2], inside)
    out = np.where((b == 0) & (bounds[0] <= 0), bounds[0], out)
    out = np.where(total == 0, np.nan, out)
    out = np.where(q < 0, -np.inf, np.where(q > 1, np.inf, out))
    return np.where(np.isnan(q), np.nan, out)


def histogram_quantile(q: np.ndarray, block: Block) -> Block:
    """The φ-quantile from classic ``le`` buckets, per label set without ``le``."""
    groups: dict[tuple[tuple[str, str], ...], list[int]] = {}
    bounds = np.full(len(block), np.nan)
    for i, lab in enumerate(block.labels):
        try:
            bounds[i] = float(lab.get("le", "nan").replace("+Inf", "inf"))
        except ValueError:
            continue
        if np.isnan(bounds[i]):
            continue
        rest = {k: v for k, v in without_name(lab).items() if k != "le"}
        groups.setdefault(label_key(rest), []).append(i)
    steps = block.values.shape[1]
    labels = [dict(key) for key in groups]
    values, mask = np.zeros((len(groups), steps)), np.zeros((len(groups), steps), dtype=bool)
    for g, rows in enumerate(groups.values()):
        r = np.asarray(rows)
        order = r[np.argsort(bounds[r], kind="stable")]
        present = block.mask[order]
        mask[g] = present.any(axis=0)
        full = present.all(axis=0)
        values[g] = _bucket_quantiles(q, bounds[order], block.values[order])
        for t in np.flatnonzero(mask[g] & ~full):  # steps where some buckets are missing
            here = order[present[:, t]]
            col = block.values[here, t : t + 1]
            values[g, t] = _bucket_quantiles(q[t : t + 1], bounds[here], col)[0]
    return Block(labels, values, mask)
