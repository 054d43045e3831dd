"""The cardinality guard: how many series a node lets exist (pure).

A batch that would create a series beyond ``DASHBOARD_MAX_SERIES`` is refused whole, naming the
limit and the first series over it; batches of series that exist keep flowing, and nothing
stored is touched. With several nodes each counts what it has seen (the database's series at
start, then what it accepts), so the limit holds per node and within a few batches overall.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from dashboard.metrics.model import Batch, SeriesKey


class SeriesLimitExceeded(Exception):
    """A batch would create more series than the limit allows."""

    def __init__(self, limit: int, key: SeriesKey, new: int) -> None:
        """The limit, the first series over it and how many new series the batch had."""
        super().__init__(f"series limit {limit} reached: {key} would be series {limit + 1}")
        self.limit = limit
        self.key = key
        self.new = new


class SeriesLimit:
    """The set of known series and the most it may hold; ``admit`` is safe across threads."""

    def __init__(self, max_series: int, known: Iterable[SeriesKey] = ()) -> None:
        """A guard of ``max_series`` (0: no limit) that already knows ``known``."""
        self.max_series = max_series
        self._known: set[SeriesKey] = set(known)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """How many series are known."""
        return len(self._known)

    def admit(self, batch: Batch) -> int:
        """Take a batch's new series in and return how many there were; SeriesLimitExceeded,
        taking none of them, when they would pass the limit."""
        with self._lock:
            new = list(dict.fromkeys(s.key for s in batch.series if s.key not in self._known))
            if not new:
                return 0
            room = self.max_series - len(self._known)
            if self.max_series and len(new) > room:
                raise SeriesLimitExceeded(self.max_series, new[max(room, 0)], len(new))
            self._known.update(new)
            return len(new)
