"""The realtime hub's logic: cursors, the arrival log, rooms and coalescing (pure).

Every batch that reaches a node gets the next sequence number of that node. A cursor is
``"<epoch>-<seq>"``; the epoch is new each time the node starts, so a client holding a cursor
from an earlier life of the node knows to reload instead of trusting it. Points wait at most
``window_s`` before they go out, one message per room, and a point after a quiet spell goes
out at once. The edge (``dashboard.live.socket``) does the timing and the emitting.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from dashboard.metrics.model import Batch, Selector, SeriesKey


def format_cursor(epoch: str, seq: int) -> str:
    """The text form of a cursor."""
    return f"{epoch}-{seq}"


def parse_cursor(text: str) -> tuple[str, int]:
    """``(epoch, seq)`` from a cursor's text, or ValueError."""
    epoch, sep, seq = str(text).rpartition("-")
    if not sep or not epoch or not seq.isdigit():
        raise ValueError(f"not a cursor: {str(text)[:40]!r}")
    return epoch, int(seq)


@dataclass
class Room:
    """A set of viewers that want the same series."""

    selectors: tuple[Selector, ...]
    last_cursor: str = ""
    exprs: tuple[str, ...] = ()  # the PromQL expressions its widgets draw (evaluated each second)
    pending: dict[SeriesKey, list[tuple[np.ndarray, np.ndarray]]] = field(default_factory=dict)
    _match: dict[SeriesKey, bool] = field(default_factory=dict)

    def wants(self, key: SeriesKey) -> bool:
        """True when one of the room's selectors picks ``key`` (memoised)."""
        hit = self._match.get(key)
        if hit is None:
            hit = self._match[key] = any(s.matches(key) for s in self.selectors)
        return hit


def _points(parts: list[tuple[np.ndarray, np.ndarray]]) -> list[list[float]]:
    """``[[ts, v], ...]`` from chunks of arrays, in time order."""
    ts = np.concatenate([p[0] for p in parts])
    vs = np.concatenate([p[1] for p in parts])
    if len(parts) > 1:
        order = np.argsort(ts, kind="stable")
        ts, vs = ts[order], vs[order]
    return [[int(t), float(v)] for t, v in zip(ts.tolist(), vs.tolist(), strict=True)]


class Hub:
    """Sequences batches, keeps a short arrival log, and groups points into room messages."""

    def __init__(
        self,
        *,
        window_s: float = 0.05,
        log_batches: int = 20_000,
        log_seconds: float = 600.0,
        log_points: int = 500_000,
        clock: Callable[[], float] = time.monotonic,
        epoch: str | None = None,
    ) -> None:
        """An empty hub with a fresh epoch."""
        self.epoch = epoch or secrets.token_hex(4)
        self.window_s = window_s
        self.clock = clock
        self._seq = 0
        self._floor = 0  # the log holds every batch after this sequence number
        self._log: deque[tuple[int, float, Batch]] = deque()
        self._log_batches = log_batches
        self._log_seconds = log_seconds
        # the log's memory follows its points (about 75 bytes each), so they are bounded too:
        # at 10,000 points/s it keeps 50 s instead of growing to 600 MB over ten minutes
        self._log_points = log_points
        self._logged_points = 0
        self._rooms: dict[str, Room] = {}
        self._last_flush = -1e9
        self._flush_scheduled = False
        self._lock = threading.Lock()

    @property
    def cursor(self) -> str:
        """The cursor of the newest batch."""
        return format_cursor(self.epoch, self._seq)

    def add_room(self, room: str, selectors: Iterable[Selector], exprs: Iterable[str] = ()) -> None:
        """Register a room, the series it wants and the expressions it draws (kept if it
        exists)."""
        with self._lock:
            if room not in self._rooms:
                self._rooms[room] = Room(tuple(selectors), self.cursor, tuple(exprs))

    def expressions(self) -> list[str]:
        """Every expression some room draws, without repeats."""
        with self._lock:
            return list(dict.fromkeys(e for room in self._rooms.values() for e in room.exprs))

    def publish_derived(self, points: dict[SeriesKey, tuple[np.ndarray, np.ndarray]]) -> bool:
        """Queue computed points (an expression's values now) for the rooms that want them.

        They are not batches: they take no sequence number and stay out of the arrival log, so
        cursors stay those of the stored stream (the same on every node). True when some room
        wants them: the caller flushes.
        """
        wanted = False
        with self._lock:
            for room in self._rooms.values():
                for key, (ts, values) in points.items():
                    if len(ts) and room.wants(key):
                        room.pending.setdefault(key, []).append((ts, values))
                        wanted = True
        return wanted

    def start_at(self, seq: int) -> None:
        """Begin at ``seq`` (a node tailing a shared stream): nothing before it is in the log."""
        with self._lock:
            self._seq = self._floor = seq

    def remove_room(self, room: str) -> None:
        """Forget a room nobody is in any more."""
        with self._lock:
            self._rooms.pop(room, None)

    def room_names(self) -> list[str]:
        """Registered rooms."""
        with self._lock:
            return list(self._rooms)

    def publish(self, batch: Batch) -> float | None:
        """Log a batch and queue its points for the rooms that want them.

        Returns None when no room wants anything or a flush is already due, 0.0 when the
        caller should flush now (a quiet spell), or the delay in seconds after which a flush is
        due: either once until the next :meth:`flush`, and the caller makes that one flush.
        """
        now = self.clock()
        with self._lock:
            # a batch from a shared stream brings its own sequence number (the same on every
            # node); otherwise the node numbers batches itself
            given = batch.seq
            self._seq = given if given is not None and given > self._seq else self._seq + 1
            self._log.append((self._seq, now, batch))
            self._logged_points += batch.point_count
            self._trim_log(now)
            wanted = False
            for room in self._rooms.values():
                for s in batch.series:
                    if len(s) and room.wants(s.key):
                        room.pending.setdefault(s.key, []).append((s.ts, s.values))
                        wanted = True
            if not wanted:
                return None
            if self._flush_scheduled:
                return None
            wait = self._last_flush + self.window_s - now
            self._flush_scheduled = True  # one flush due, now or when the window ends
            return max(wait, 0.0)

    def flush(self) -> list[tuple[str, dict[str, object]]]:
        """Take the pending points as one ``points`` message per room."""
        with self._lock:
            self._last_flush = self.clock()
            self._flush_scheduled = False
            cursor = self.cursor
            out: list[tuple[str, dict[str, object]]] = []
            for name, room in self._rooms.items():
                if not room.pending:
                    continue
                series = {str(k): _points(parts) for k, parts in room.pending.items()}
                out.append((name, {"cursor": cursor, "prev": room.last_cursor, "series": series}))
                room.pending = {}
                room.last_cursor = cursor
            return out

    def since(self, cursor: str, selectors: Iterable[Selector]) -> dict[str, object]:
        """What arrived after ``cursor`` for the selected series, with the new cursor.

        ``{"reset": true}`` says the cursor is from another epoch or older than the log: the
        client must reload history rather than patch it.
        """
        sel = tuple(selectors)
        try:
            epoch, seq = parse_cursor(cursor)
        except ValueError:
            return {"reset": True, "cursor": self.cursor, "series": {}}
        with self._lock:
            current = self.cursor
            if epoch != self.epoch or seq > self._seq or seq < self._floor:
                return {"reset": True, "cursor": current, "series": {}}
            picked: dict[SeriesKey, list[tuple[np.ndarray, np.ndarray]]] = {}
            for entry_seq, _, batch in self._log:
                if entry_seq <= seq:
                    continue
                for s in batch.series:
                    if len(s) and any(x.matches(s.key) for x in sel):
                        picked.setdefault(s.key, []).append((s.ts, s.values))
        series = {str(k): _points(parts) for k, parts in picked.items()}
        return {"cursor": current, "series": series}

    def _trim_log(self, now: float) -> None:
        """Drop log entries beyond the size or age bound (caller holds the lock)."""
        while self._log and (
            len(self._log) > self._log_batches
            or now - self._log[0][1] > self._log_seconds
            or (self._logged_points > self._log_points and len(self._log) > 1)
        ):
            self._floor, _, dropped = self._log.popleft()
            self._logged_points -= dropped.point_count
