"""What PromQL expressions evaluate to, over every evaluation step at once (pure).

A query is evaluated at ``T`` timestamps together (one for an instant query): a scalar is a
``(T,)`` array, an instant vector is a :class:`Block` of ``S`` series with ``(S, T)`` values and a
presence mask (a sample may be NaN and still be present).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

NAME = "__name__"
Labels = dict[str, str]


class QueryError(ValueError):
    """A query that cannot be answered; ``kind`` is Prometheus' error type."""

    kind = "bad_data"


class ExecutionError(QueryError):
    """The query is valid but failed while running (Prometheus' ``execution``)."""

    kind = "execution"


class TooManySamples(ExecutionError):
    """The query would read more samples than its limit."""

    def __init__(self, limit: int) -> None:
        """The error for ``limit``."""
        super().__init__(
            "query processing would load too many samples into memory in query execution"
            f" (limit {limit})"
        )


class QueryTimeout(QueryError):
    """The query ran longer than its time limit (Prometheus' ``timeout``)."""

    kind = "timeout"

    def __init__(self, where: str = "query execution") -> None:
        """The error naming the stage that ran out of time."""
        super().__init__(f"query timed out in {where}")


@dataclass
class Scalar:
    """A number per step, shape ``(T,)``."""

    values: np.ndarray


@dataclass
class String:
    """A string literal."""

    value: str


@dataclass
class Block:
    """An instant vector at every step.

    Attributes
    ----------
    labels : list of dict, length S
    values : float64 array, shape (S, T)
    mask : bool array, shape (S, T); False where the series has no sample at that step
    """

    labels: list[Labels]
    values: np.ndarray
    mask: np.ndarray
    ordered: bool = field(default=False)

    @classmethod
    def empty(cls, steps: int) -> Block:
        """A vector with no series."""
        return cls([], np.zeros((0, steps)), np.zeros((0, steps), dtype=bool))

    def __len__(self) -> int:
        """The number of series."""
        return len(self.labels)

    def take(self, rows: np.ndarray | list[int]) -> Block:
        """The rows ``rows`` only."""
        idx = np.asarray(rows, dtype=np.int64)
        return Block([self.labels[i] for i in idx.tolist()], self.values[idx], self.mask[idx])

    def compact(self) -> Block:
        """Without the series that have no sample at any step."""
        keep = np.flatnonzero(self.mask.any(axis=1))
        return self if keep.size == len(self.labels) else self.take(keep)


def label_key(labels: Labels) -> tuple[tuple[str, str], ...]:
    """A hashable, canonical form of a label set."""
    return tuple(sorted(labels.items()))


def without_name(labels: Labels) -> Labels:
    """The labels without the metric name."""
    if NAME not in labels:
        return labels
    return {k: v for k, v in labels.items() if k != NAME}


def format_labels(labels: Labels) -> str:
    """Prometheus' text form of a label set, e.g. ``{a="1", b="2"}``."""
    inner = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return "{" + inner + "}"


def merge_same(block: Block) -> Block:
    """Rows with equal labels combined into one; two samples at one step are an error."""
    keys = [label_key(lab) for lab in block.labels]
    if len(set(keys)) == len(keys):
        return block
    rows: dict[tuple[tuple[str, str], ...], int] = {}
    labels: list[Labels] = []
    values = np.zeros_like(block.values)
    mask = np.zeros_like(block.mask)
    for i, key in enumerate(keys):
        j = rows.setdefault(key, len(labels))
        if j == len(labels):
            labels.append(block.labels[i])
        clash = mask[j] & block.mask[i]
        if clash.any():
            raise ExecutionError("vector cannot contain metrics with the same labelset")
        values[j] = np.where(block.mask[i], block.values[i], values[j])
        mask[j] |= block.mask[i]
    return Block(labels, values[: len(labels)], mask[: len(labels)])
