"""The realtime hub's logic (``dashboard.live.hub``): cursors, rooms, coalescing, catch-up."""

from __future__ import annotations

import pytest

from dashboard.live.hub import Hub, Selector, format_cursor, parse_cursor
from dashboard.metrics.model import Batch, SeriesKey, make_points

T0 = 1_700_000_000_000
EPOCH = "e1"


class FakeClock:
    """A monotonic clock that only moves when told to (list-backed, callable)."""

    def __init__(self, start: float = 1000.0) -> None:
        """A clock reading ``start`` seconds."""
        self.readings = [start]

    def __call__(self) -> float:
        """The current reading."""
        return self.readings[-1]

    def advance(self, seconds: float) -> None:
        """Move the clock forward."""
        self.readings.append(self.readings[-1] + seconds)


def key(name: str, **labels: str) -> SeriesKey:
    """A series key."""
    return SeriesKey.of(name, labels)


def batch(*series: tuple[SeriesKey, list[tuple[int, float]]]) -> Batch:
    """A batch from ``(key, [(ts, value), ...])`` pairs."""
    return Batch([make_points(k, [t for t, _ in pts], [v for _, v in pts]) for k, pts in series])


def wire(points: list[tuple[int, float]]) -> list[list[float]]:
    """Points as they appear in a message."""
    return [[int(t), float(v)] for t, v in points]


def make_hub(**kwargs) -> tuple[Hub, FakeClock]:
    """A hub with a fake clock and a fixed epoch."""
    clock = FakeClock()
    return Hub(clock=clock, epoch=EPOCH, **kwargs), clock


CPU_A, CPU_B, MEM, NET = key("cpu", host="a"), key("cpu", host="b"), key("mem"), key("net")


# --------------------------------------------------------------------------- cursors


@pytest.mark.parametrize(
    ("epoch", "seq"), [("e1", 0), ("3fa9c2d1", 42), ("with-dash", 7), ("x", 10**12)]
)
def test_cursor_round_trips(epoch: str, seq: int) -> None:
    """parse_cursor(format_cursor(epoch, seq)) gives back the epoch and sequence."""
    assert parse_cursor(format_cursor(epoch, seq)) == (epoch, seq)


@pytest.mark.parametrize("text", ["", "e1", "e1-", "-5", "e1-x", "e1-1.5", "e1-+3", "e1- 3"])
def test_parse_cursor_rejects_malformed_text(text: str) -> None:
    """Text that is not ``<epoch>-<seq>`` raises ValueError."""
    with pytest.raises(ValueError):
        parse_cursor(text)


# --------------------------------------------------------------------------- publish timing


def test_publish_without_rooms_returns_none_but_advances_the_cursor() -> None:
    """With nobody listening nothing needs flushing, yet every batch gets a sequence number."""
    hub, _ = make_hub()
    assert hub.cursor == "e1-0"
    assert hub.publish(batch((CPU_A, [(T0, 1.0)]))) is None
    assert hub.publish(batch((CPU_A, [(T0 + 1000, 2.0)]))) is None
    assert hub.cursor == "e1-2"
    assert hub.flush() == []


def test_publish_nobody_wants_returns_none() -> None:
    """A batch no room selects needs no flush."""
    hub, _ = make_hub()
    hub.add_room("r", [Selector.of("mem")])
    assert hub.publish(batch((CPU_A, [(T0, 1.0)]))) is None
    assert hub.publish(batch((MEM, []))) is None  # an empty series is nothing to send
    assert hub.flush() == []


def test_publish_coalesces_within_the_window() -> None:
    """After a quiet spell flush now; within the window a delay is returned once, then None."""
    hub, clock = make_hub(window_s=0.05)
    hub.add_room("r", [Selector.of("cpu")])

    assert hub.publish(batch((CPU_A, [(T0, 1.0)]))) == 0.0
    assert len(hub.flush()) == 1

    clock.advance(0.01)
    delay = hub.publish(batch((CPU_A, [(T0 + 1000, 2.0)])))
    assert delay == pytest.approx(0.04)
    clock.advance(0.01)
    assert hub.publish(batch((CPU_B, [(T0 + 1000, 3.0)]))) is None
    clock.advance(0.005)
    assert hub.publish(batch((CPU_A, [(T0 + 2000, 4.0)]))) is None

    clock.advance(0.025)  # the scheduled flush runs when the window ends
    (room, msg), *rest = hub.flush()
    assert rest == [] and room == "r"
    assert msg["series"] == {
        str(CPU_A): wire([(T0 + 1000, 2.0), (T0 + 2000, 4.0)]),
        str(CPU_B): wire([(T0 + 1000, 3.0)]),
    }

    clock.advance(0.01)  # a new window opens: one delay again
    assert hub.publish(batch((CPU_A, [(T0 + 3000, 5.0)]))) == pytest.approx(0.04)
    hub.flush()
    clock.advance(1.0)  # a quiet spell: flush at once
    assert hub.publish(batch((CPU_A, [(T0 + 4000, 6.0)]))) == 0.0


def test_a_flush_due_now_is_asked_for_once_until_it_runs() -> None:
    """The caller flushes in a task of its own: batches that come before it runs join it."""
    hub, clock = make_hub(window_s=0.05)
    hub.add_room("r", [Selector.of("cpu")])
    assert hub.publish(batch((CPU_A, [(T0, 1.0)]))) == 0.0
    assert hub.publish(batch((CPU_B, [(T0, 2.0)]))) is None
    (_, msg), *rest = hub.flush()
    assert rest == [] and set(msg["series"]) == {str(CPU_A), str(CPU_B)}
    clock.advance(1.0)
    assert hub.publish(batch((CPU_A, [(T0 + 1000, 3.0)]))) == 0.0


def test_flush_with_nothing_pending_sends_nothing() -> None:
    """A flush after the pending points went out returns no messages."""
    hub, _ = make_hub()
    hub.add_room("r", [Selector.of("cpu")])
    hub.publish(batch((CPU_A, [(T0, 1.0)])))
    assert len(hub.flush()) == 1
    assert hub.flush() == []


# --------------------------------------------------------------------------- flush contents


def test_flush_sends_each_room_only_the_series_it_wants() -> None:
    """One message per room with pending points, holding exactly its selected series."""
    hub, _ = make_hub()
    hub.add_room("all-cpu", [Selector.of("cpu")])
    hub.add_room("cpu-a-and-mem", [Selector.of("cpu", {"host": "a"}), Selector.of("mem")])
    hub.add_room("disk", [Selector.of("disk")])
    hub.publish(
        batch(
            (CPU_A, [(T0, 1.0)]),
            (CPU_B, [(T0, 2.0)]),
            (MEM, [(T0, 3.0)]),
            (NET, [(T0, 4.0)]),
        )
    )
    messages = dict(hub.flush())
    assert set(messages) == {"all-cpu", "cpu-a-and-mem"}
    assert messages["all-cpu"]["series"] == {
        str(CPU_A): wire([(T0, 1.0)]),
        str(CPU_B): wire([(T0, 2.0)]),
    }
    assert messages["cpu-a-and-mem"]["series"] == {
        str(CPU_A): wire([(T0, 1.0)]),
        str(MEM): wire([(T0, 3.0)]),
    }


def test_selector_without_labels_matches_every_label_set() -> None:
    """A bare name selects the series with any labels; labels select a subset."""
    bare = Selector.of("cpu")
    assert bare.matches(CPU_A) and bare.matches(CPU_B) and bare.matches(key("cpu"))
    assert not bare.matches(MEM)
    host_a = Selector.of("cpu", {"host": "a"})
    assert host_a.matches(CPU_A) and host_a.matches(key("cpu", host="a", zone="z"))
    assert not host_a.matches(CPU_B) and not host_a.matches(key("cpu"))


def test_flush_merges_batches_in_time_order() -> None:
    """Points of one series from several batches arrive as one time-ordered list."""
    hub, clock = make_hub()
    hub.add_room("r", [Selector.of("cpu")])
    hub.publish(batch((CPU_A, [(T0, 0.0)])))
    hub.flush()
    clock.advance(0.001)
    hub.publish(batch((CPU_A, [(T0 + 5000, 5.0), (T0 + 7000, 7.0)])))
    hub.publish(batch((CPU_A, [(T0 + 1000, 1.0), (T0 + 6000, 6.0)])))
    hub.publish(batch((CPU_A, [(T0 + 3000, 3.0)])))
    (_, msg), *_ = hub.flush()
    assert msg["series"] == {str(CPU_A): wire([(T0 + t * 1000, float(t)) for t in (1, 3, 5, 6, 7)])}


def test_messages_carry_cursor_and_the_rooms_previous_cursor() -> None:
    """Each message has the hub's cursor and, as prev, the cursor of that room's last message."""
    hub, _ = make_hub()
    hub.publish(batch((NET, [(T0, 0.0)])))  # e1-1, before any room
    hub.add_room("cpu", [Selector.of("cpu")])
    hub.add_room("mem", [Selector.of("mem")])

    hub.publish(batch((CPU_A, [(T0, 1.0)])))  # e1-2
    hub.publish(batch((MEM, [(T0, 1.0)])))  # e1-3
    messages = dict(hub.flush())
    assert messages["cpu"]["cursor"] == messages["mem"]["cursor"] == "e1-3"
    assert messages["cpu"]["prev"] == messages["mem"]["prev"] == "e1-1"

    hub.publish(batch((MEM, [(T0 + 1000, 2.0)])))  # e1-4: only the mem room hears of it
    messages = dict(hub.flush())
    assert set(messages) == {"mem"}
    assert (messages["mem"]["prev"], messages["mem"]["cursor"]) == ("e1-3", "e1-4")

    hub.publish(batch((CPU_A, [(T0 + 1000, 2.0)])))  # e1-5
    messages = dict(hub.flush())
    assert set(messages) == {"cpu"}
    assert (messages["cpu"]["prev"], messages["cpu"]["cursor"]) == ("e1-3", "e1-5")


def test_adding_a_room_twice_keeps_the_first() -> None:
    """Re-adding a room (a second viewer) keeps its selectors and pending points."""
    hub, _ = make_hub()
    hub.add_room("r", [Selector.of("cpu")])
    hub.publish(batch((CPU_A, [(T0, 1.0)])))
    hub.add_room("r", [Selector.of("mem")])
    assert hub.room_names() == ["r"]
    (_, msg), *_ = hub.flush()
    assert msg["series"] == {str(CPU_A): wire([(T0, 1.0)])}


# --------------------------------------------------------------------------- since


def _publish_numbered(hub: Hub, count: int) -> list[str]:
    """Publish ``count`` batches (batch i holds cpu{a}, cpu{b} and mem at second i); cursors."""
    cursors = [hub.cursor]
    for i in range(1, count + 1):
        t = T0 + i * 1000
        hub.publish(batch((CPU_A, [(t, i)]), (CPU_B, [(t, 10 * i)]), (MEM, [(t, 100 * i)])))
        cursors.append(hub.cursor)
    return cursors


def test_since_returns_exactly_the_points_after_the_cursor() -> None:
    """Catch-up from a cursor gives the selected points of later batches and the new cursor."""
    hub, _ = make_hub()
    cursors = _publish_numbered(hub, 5)
    got = hub.since(cursors[2], [Selector.of("cpu", {"host": "a"}), Selector.of("mem")])
    assert "reset" not in got
    assert got["cursor"] == cursors[5] == "e1-5"
    assert got["series"] == {
        str(CPU_A): wire([(T0 + i * 1000, i) for i in (3, 4, 5)]),
        str(MEM): wire([(T0 + i * 1000, 100 * i) for i in (3, 4, 5)]),
    }


def test_since_the_current_cursor_is_empty() -> None:
    """A client that is up to date gets no points and the same cursor back."""
    hub, _ = make_hub()
    cursors = _publish_numbered(hub, 3)
    assert hub.since(cursors[-1], [Selector.of("cpu")]) == {"cursor": "e1-3", "series": {}}
    fresh, _ = make_hub()
    assert fresh.since("e1-0", [Selector.of("cpu")]) == {"cursor": "e1-0", "series": {}}


def test_since_from_the_start_of_the_epoch_returns_everything_logged() -> None:
    """Cursor 0 of this epoch (nothing trimmed yet) replays every batch."""
    hub, _ = make_hub()
    _publish_numbered(hub, 4)
    got = hub.since("e1-0", [Selector.of("cpu")])
    assert got["series"][str(CPU_B)] == wire([(T0 + i * 1000, 10 * i) for i in (1, 2, 3, 4)])


@pytest.mark.parametrize(
    "cursor",
    [
        pytest.param("other-2", id="foreign-epoch"),
        pytest.param("e2-2", id="another-epoch"),
        pytest.param("garbage", id="malformed"),
        pytest.param("", id="empty"),
        pytest.param("e1-x", id="non-numeric-seq"),
        pytest.param("e1-99", id="future-seq"),
        pytest.param("e1-6", id="one-past-the-newest"),
    ],
)
def test_since_says_reset_for_a_cursor_it_cannot_honour(cursor: str) -> None:
    """A foreign, malformed or future cursor makes the client reload: reset, the cursor, no data."""
    hub, _ = make_hub()
    _publish_numbered(hub, 5)
    assert hub.since(cursor, [Selector.of("cpu")]) == {
        "reset": True,
        "cursor": "e1-5",
        "series": {},
    }


def test_since_resets_for_a_cursor_older_than_the_trimmed_log() -> None:
    """With a short log, a cursor whose successors were dropped resets; a newer one catches up."""
    hub, _ = make_hub(log_batches=3)
    cursors = _publish_numbered(hub, 6)  # the log keeps batches 4, 5 and 6
    for old in (cursors[0], cursors[1], cursors[2]):
        assert hub.since(old, [Selector.of("mem")]).get("reset") is True, old
    got = hub.since(cursors[3], [Selector.of("mem")])
    assert "reset" not in got
    assert got["series"] == {str(MEM): wire([(T0 + i * 1000, 100 * i) for i in (4, 5, 6)])}


def test_the_log_keeps_at_most_its_point_budget() -> None:
    """Past ``log_points`` the oldest batches leave the log (memory stays bounded under a flood);
    a cursor inside what is kept still catches up exactly."""
    hub, _ = make_hub(log_points=7)  # each numbered batch holds 3 points: 2 batches fit
    cursors = _publish_numbered(hub, 5)
    assert hub.since(cursors[2], [Selector.of("mem")]).get("reset") is True
    got = hub.since(cursors[3], [Selector.of("mem")])
    assert got["series"] == {str(MEM): wire([(T0 + i * 1000, 100 * i) for i in (4, 5)])}


def test_since_resets_once_the_log_ages_out() -> None:
    """Log entries older than log_seconds are dropped, so a cursor before them resets."""
    hub, clock = make_hub(log_seconds=10.0)
    cursors = _publish_numbered(hub, 2)
    assert "reset" not in hub.since(cursors[0], [Selector.of("cpu")])
    clock.advance(11.0)
    hub.publish(batch((CPU_A, [(T0 + 9000, 9.0)])))  # e1-3; trims e1-1 and e1-2
    assert hub.since(cursors[0], [Selector.of("cpu")]).get("reset") is True
    got = hub.since(cursors[2], [Selector.of("cpu")])
    assert "reset" not in got
    assert got["series"] == {str(CPU_A): wire([(T0 + 9000, 9.0)])}


def test_a_cursor_before_the_hubs_start_resets() -> None:
    """A hub that starts at a stream position cannot serve cursors from before it."""
    hub, _ = make_hub()
    hub.start_at(100)
    assert hub.cursor == "e1-100"
    assert hub.since("e1-99", [Selector.of("cpu")]).get("reset") is True
    hub.publish(batch((CPU_A, [(T0, 1.0)])))
    got = hub.since("e1-100", [Selector.of("cpu")])
    assert "reset" not in got
    assert got == {"cursor": "e1-101", "series": {str(CPU_A): wire([(T0, 1.0)])}}


def test_a_batch_with_a_stream_sequence_sets_the_cursor() -> None:
    """A batch numbered by a shared stream takes that number, so cursors agree across nodes."""
    hub, _ = make_hub()
    first = batch((CPU_A, [(T0, 1.0)]))
    first.seq = 5000
    hub.publish(first)
    assert hub.cursor == "e1-5000"
    second = batch((CPU_A, [(T0 + 1000, 2.0)]))
    second.seq = 5007
    hub.publish(second)
    got = hub.since("e1-5000", [Selector.of("cpu")])
    assert got == {"cursor": "e1-5007", "series": {str(CPU_A): wire([(T0 + 1000, 2.0)])}}
