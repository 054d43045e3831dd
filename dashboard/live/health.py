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
    separate_bus: bool = False  # a Redis bus: points reach the pages while the database is down

    @property
    def ok(self) -> bool:
        """True when nothing delays the page's updates."""
        return self.store_ok and self.bus_ok

    @property
    def live(self) -> bool:
        """True while new points still reach the pages over the live feed."""
        return self.bus_ok and (self.store_ok or self.separate_bus)

    def message(self) -> str:
        """The status line a page shows ("" when all is well)."""
        if self.bus_ok and not self.store_ok and self.separate_bus:
            return "Database unreachable: live updates go on; saving and history wait"
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
            "live": self.live,
            "message": self.message(),
        }


class HealthWatch:
    """Turns a stream of ping readings into state changes worth telling the pages about."""

    def __init__(self, failures_to_degrade: int = 2, separate_bus: bool = False) -> None:
        """Start healthy; a part counts as down after ``failures_to_degrade`` failed pings
        (``separate_bus``: the node's bus is not its database)."""
        self.failures_to_degrade = max(1, failures_to_degrade)
        self.separate_bus = separate_bus
        self.state = Dependencies(separate_bus=separate_bus)
        self._store_failures = 0
        self._bus_failures = 0

    def observe(self, store_ok: bool, bus_ok: bool) -> Dependencies | None:
        """Record one reading; the new state when it changed, else None (recovery is at once)."""
        self._store_failures = 0 if store_ok else self._store_failures + 1
        self._bus_failures = 0 if bus_ok else self._bus_failures + 1
        new = Dependencies(
            store_ok=self._store_failures < self.failures_to_degrade,
            bus_ok=self._bus_failures < self.failures_to_degrade,
            separate_bus=self.separate_bus,
        )
        if new == self.state:
            return None
        self.state = new
        return new

    def next_check_s(self, every_s: float) -> float:
        """Seconds until the next ping: ``every_s``, or a quarter of it while a part has failed
        without yet counting as down, so an outage shows within one period plus two pings."""
        suspect = any(
            0 < failures < self.failures_to_degrade
            for failures in (self._store_failures, self._bus_failures)
        )
        return every_s / 4 if suspect else every_s


class DependencyProbe:
    """The node's view of its dependencies, kept fresh by a background check, read at once.

    ``/healthz`` answers from here without touching the network: a check under way for longer
    than ``stale_after_s`` counts as a failed one (a dependency that hangs is down), and a
    reading older than ``stale_after_s`` plus the check's period is not trusted either.
    """

    def __init__(self, stale_after_s: float = 2.0) -> None:
        """No reading yet (``read`` returns None until the first check ends)."""
        self.stale_after_s = stale_after_s
        self.readings: dict[str, tuple[bool, float]] = {}  # part -> (ok, when it was checked)
        self.pending: dict[str, float] = {}  # part -> when its check started

    def begin(self, part: str, now: float) -> None:
        """A check of ``part`` starts."""
        self.pending.setdefault(part, now)

    def done(self, part: str, ok: bool, now: float) -> None:
        """A check of ``part`` ended with ``ok``."""
        self.pending.pop(part, None)
        self.readings[part] = (ok, now)

    def read(self, part: str, now: float, period_s: float = 1.0) -> tuple[bool, str] | None:
        """``(ok, why)`` for ``part`` now, or None before its first check ends."""
        started = self.pending.get(part)
        if started is not None and now - started > self.stale_after_s:
            return False, f"no answer for {now - started:.1f} s"
        reading = self.readings.get(part)
        if reading is None:
            return None
        ok, when = reading
        if now - when > self.stale_after_s + period_s + 5.0:
            return False, f"not checked for {now - when:.0f} s"
        return ok, "" if ok else "check failed"
