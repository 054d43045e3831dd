"""The bus between sources and consumers.

Embedded mode (no Redis): ``publish`` writes the batch to the persistent store first, so a
2xx means the points are on disk, then hands it to the in-process consumers (the hot store
and the realtime hub) in order.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Protocol

from dashboard.metrics.model import Batch
from dashboard.metrics.store_interface import MetricStore

log = logging.getLogger(__name__)

Consumer = Callable[[Batch], None]


class BusUnavailable(RuntimeError):
    """The bus cannot take the batch now (its storage is down); the client should retry."""


class BusBusy(RuntimeError):
    """The consumers are too far behind; the client should slow down and retry."""


class Bus(Protocol):
    """Carries validated batches from sources to consumers."""

    kind: str

    def publish(self, batch: Batch) -> int:
        """Make the batch durable and deliver it; return the number of points accepted."""
        ...

    def ping(self) -> bool:
        """True when the bus can take batches."""
        ...

    def subscribe(self, consumer: Consumer) -> None:
        """Call ``consumer`` with every batch published from now on."""
        ...


class EmbeddedBus:
    """A synchronous in-process bus whose durability is the persistent store's commit."""

    kind = "embedded"

    def __init__(self, persist: MetricStore) -> None:
        """A bus that persists into ``persist`` before delivering."""
        self._persist = persist
        self._consumers: list[Consumer] = []
        self._lock = threading.Lock()

    def subscribe(self, consumer: Consumer) -> None:
        """Add a consumer."""
        self._consumers.append(consumer)

    def ping(self) -> bool:
        """The embedded bus is as available as its store."""
        return self._persist.ping()

    def publish(self, batch: Batch) -> int:
        """Persist, then deliver to each consumer; a failing consumer never loses the batch."""
        points = batch.point_count
        if points == 0:
            return 0
        with self._lock:
            try:
                self._persist.write(batch)
            except Exception as exc:  # the database refused: nothing was accepted
                raise BusUnavailable(f"{self._persist.kind}: {exc}") from exc
            for consumer in self._consumers:
                try:
                    consumer(batch)
                except Exception:  # the batch is stored; one consumer must not stop the others
                    log.exception("bus consumer %r failed", consumer)
        return points
