"""What a page should tell its user about the node's dependencies (store and bus).

Pure: the node pings, this decides when the state changed (a failure must repeat before it
counts, so one slow ping under load does not flash a banner) and what the page says.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Dependencies:
    """Whether the node's store and its bus (Redis, when it has one) answer."""

    store_ok: bool = True
    bus_ok: bool = True

    @property
    def ok(self) -> bool:
        """True when nothing delays the page's updates."""
        return self.store_ok and self.bus_ok

    def message(self) -> str:
        """The status line a page shows ("" when all is well)."""
        down = [
            name
            for name, ok in (("message bus", self.bus_ok), ("database", self.store_ok))
            if not ok
        ]
        if not down:
            return ""
        return f"Updates delayed: {' and '.join(down)} unreachable — polling"

    def as_dict(self) -> dict[str, object]:
        """The ``status`` event and poll payload: each part's state and the line to show."""
        return {
            "ok": self.ok,
            "store": self.store_ok,
            "bus": self.bus_ok,
            "message": self.message(),
        }


class HealthWatch:
    """Turns a stream of ping readings into state changes worth telling the pages about."""

    def __init__(self, failures_to_degrade: int = 2) -> None:
        """Start healthy; a part counts as down after ``failures_to_degrade`` failed pings."""
        self.failures_to_degrade = max(1, failures_to_degrade)
        self.state = Dependencies()
        self._store_failures = 0
        self._bus_failures = 0

    def observe(self, store_ok: bool, bus_ok: bool) -> Dependencies | None:
        """Record one reading; the new state when it changed, else None (recovery is at once)."""
        self._store_failures = 0 if store_ok else self._store_failures + 1
        self._bus_failures = 0 if bus_ok else self._bus_failures + 1
        new = Dependencies(
            store_ok=self._store_failures < self.failures_to_degrade,
            bus_ok=self._bus_failures < self.failures_to_degrade,
        )
        if new == self.state:
            return None
        self.state = new
        return new
