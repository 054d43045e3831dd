"""Binary operators: arithmetic, comparisons (with ``bool``), ``and``/``or``/``unless`` and
vector matching with ``on``/``ignoring``/``group_left``/``group_right`` (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from dashboard.query.values import NAME, Block, ExecutionError, Labels, format_labels, merge_same

ARITHMETIC = ("+", "-", "*", "/", "%", "^", "atan2")
COMPARISON = ("==", "!=", ">", "<", ">=", "<=")


@dataclass
class Matching:
    """How two vectors' series pair up."""

    on: bool = False
    labels: list[str] = field(default_factory=list)
    card: str = "one-to-one"  # many-to-one (group_left), one-to-many (group_right), many-to-many
    include: list[str] = field(default_factory=list)


def apply(op: str, lhs: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """``lhs op rhs`` elementwise, with Prometheus' float semantics (comparisons give 0/1)."""
    with np.errstate(all="ignore"):
        if op == "+":
            return lhs + rhs
        if op == "-":
            return lhs - rhs
        if op == "*":
            return lhs * rhs
        if op == "/":
            return np.true_divide(lhs, rhs)
        if op == "%":
            return np.fmod(lhs, rhs)
        if op == "^":
            return np.power(lhs, rhs)
        if op == "atan2":
            return np.arctan2(lhs, rhs)
        return {
            "==": np.equal,
            "!=": np.not_equal,
            ">": np.greater,
            "<": np.less,
            ">=": np.greater_equal,
            "<=": np.less_equal,
        }[op](lhs, rhs).astype(np.float64)


def scalar_op(op: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Scalar op scalar (comparisons always ``bool`` there)."""
    return apply(op, a, b)


def vector_scalar(op: str, block: Block, scalar: np.ndarray, swap: bool, ret_bool: bool) -> Block:
    """Vector op scalar (``swap``: scalar op vector); comparisons filter unless ``bool``."""
    s = scalar[None, :]
    lhs, rhs = (s, block.values) if swap else (block.values, s)
    result = apply(op, lhs, rhs)
    if op in COMPARISON and not ret_bool:
        keep = block.mask & (result == 1.0)
        return Block(block.labels, block.values, keep)
    labels = [_drop_name(lab) for lab in block.labels]
    return merge_same(Block(labels, result, block.mask))


def _drop_name(labels: Labels) -> Labels:
    """Labels without ``__name__``."""
    return {k: v for k, v in labels.items() if k != NAME}


def signature(labels: Labels, m: Matching) -> tuple[tuple[str, str], ...]:
    """The labels on which two series must agree to match."""
    if m.on:
        return tuple((k, labels.get(k, "")) for k in sorted(set(m.labels)))
    skip = set(m.labels) | {NAME}
    return tuple(sorted((k, v) for k, v in labels.items() if k not in skip))


def _by_signature(block: Block, m: Matching) -> dict[tuple[tuple[str, str], ...], list[int]]:
    """Row indexes of ``block`` per matching signature."""
    out: dict[tuple[tuple[str, str], ...], list[int]] = {}
    for i, lab in enumerate(block.labels):
        out.setdefault(signature(lab, m), []).append(i)
    return out


def _presence(block: Block, m: Matching, sigs: list[tuple[tuple[str, str], ...]]) -> np.ndarray:
    """Whether any row of each signature in ``sigs`` has a sample, shape (len(sigs), T)."""
    groups = _by_signature(block, m)
    out = np.zeros((len(sigs), block.mask.shape[1]), dtype=bool)
    for j, sig in enumerate(sigs):
        rows = groups.get(sig)
        if rows:
            out[j] = block.mask[rows].any(axis=0)
    return out


def set_op(op: str, lhs: Block, rhs: Block, m: Matching) -> Block:
    """``and``, ``or``, ``unless``, matched by signature at each step."""
    lsigs = [signature(lab, m) for lab in lhs.labels]
    if op in ("and", "unless"):
        other = _presence(rhs, m, lsigs) if lsigs else np.zeros(lhs.mask.shape, dtype=bool)
        keep = lhs.mask & (other if op == "and" else ~other)
        return Block(lhs.labels, lhs.values, keep)
    rsigs = [signature(lab, m) for lab in rhs.labels]
    taken = _presence(lhs, m, rsigs) if rsigs else np.zeros(rhs.mask.shape, dtype=bool)
    return Block(
        lhs.labels + rhs.labels,
        np.concatenate([lhs.values, rhs.values]),
        np.concatenate([lhs.mask, rhs.mask & ~taken]),
    )


def _one_side_index(one: Block, m: Matching, side: str) -> dict[tuple, np.ndarray]:
    """Per signature, the row of the "one" side present at each step (-1: none), shape (T,)."""
    out: dict[tuple, np.ndarray] = {}
    for sig, rows in _by_signature(one, m).items():
        sub = one.mask[rows]
        if (sub.sum(axis=0) > 1).any():
            raise ExecutionError(
                f"found duplicate series for the match group {format_labels(dict(sig))} on the"
                f" {side} hand-side of the operation; many-to-many matching not allowed:"
                " matching labels must be unique on one side"
            )
        pick = np.where(sub.any(axis=0), np.asarray(rows)[sub.argmax(axis=0)], -1)
        out[sig] = pick
    return out


def _result_labels(many: Labels, one: Labels, op: str, ret_bool: bool, m: Matching) -> Labels:
    """The labels of a matched pair's result."""
    out = dict(many)
    if op in ARITHMETIC or ret_bool:
        out.pop(NAME, None)
    if m.card == "one-to-one":
        if m.on:
            out = {k: v for k, v in out.items() if k in m.labels}
        else:
            out = {k: v for k, v in out.items() if k not in m.labels}
    for name in m.include:
        if one.get(name, ""):
            out[name] = one[name]
        else:
            out.pop(name, None)
    return out


def vector_op(op: str, lhs: Block, rhs: Block, m: Matching, ret_bool: bool) -> Block:
    """Vector op vector: each "many" series with the "one" series of its signature per step."""
    right_many = m.card == "one-to-many"
    many, one = (rhs, lhs) if right_many else (lhs, rhs)
    index = _one_side_index(one, m, "left" if right_many else "right")
    steps = lhs.mask.shape[1]
    labels: list[Labels] = []
    values: list[np.ndarray] = []
    masks: list[np.ndarray] = []
    seen: dict[tuple, np.ndarray] = {}
    for i, lab in enumerate(many.labels):
        sig = signature(lab, m)
        pick = index.get(sig)
        if pick is None:
            continue
        ok = many.mask[i] & (pick >= 0)
        if not ok.any():
            continue
        if m.card == "one-to-one":
            used = seen.setdefault(sig, np.zeros(steps, dtype=bool))
            if (used & ok).any():
                raise ExecutionError(
                    "multiple matches for labels: many-to-one matching must be explicit"
                    " (group_left/group_right)"
                )
            used |= ok
        for j in np.unique(pick[ok]).tolist():
            at = ok & (pick == j)
            lv, rv = (
                (one.values[j], many.values[i]) if right_many else (many.values[i], one.values[j])
            )
            result = apply(op, lv, rv)
            if op in COMPARISON and not ret_bool:
                at = at & (result == 1.0)
                result = lv
            labels.append(_result_labels(lab, one.labels[j], op, ret_bool, m))
            values.append(result)
            masks.append(at)
    if not labels:
        return Block.empty(steps)
    return merge_same(Block(labels, np.array(values), np.array(masks)))
