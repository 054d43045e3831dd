"""The embedded store's write path as a sender sees it: a batch of many series appends to
``incoming`` (a few pages, not one a series) and is folded into the head in the order given,
before any read and across a crash; the WAL is copied back into the file in the background (a
commit no longer runs SQLite's automatic checkpoint and its syncs)."""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from dashboard.metrics.chunked import BULK_POINTS
from dashboard.metrics.model import Batch, SeriesKey, SeriesPoints
from dashboard.metrics.steps import RAW, SECOND
from dashboard.metrics.stores.sqlite import Checkpointer, SQLiteStore

T0 = 1_700_006_400_000
SERIES = 500


def _sender_batches(store: SQLiteStore, n: int) -> list[SeriesKey]:
    """``n`` remote-write-shaped batches: the same 500 series, one new point each a batch."""
    keys = [SeriesKey.of("ckpt.up", {"instance": f"h{i}"}) for i in range(SERIES)]
    for b in range(n):
        ts = np.array([T0 + b * SECOND], dtype=np.int64)
        store.write(
            Batch([SeriesPoints(k, ts, np.array([float(b + i)])) for i, k in enumerate(keys)])
        )
    return keys


def _wal_pages(path: Path) -> int:
    """The WAL file's size in 4 KiB pages (0 when there is none)."""
    wal = Path(str(path) + "-wal")
    return wal.stat().st_size // 4096 if wal.exists() else 0


def test_the_wal_is_copied_back_in_the_background_while_a_sender_writes(tmp_path: Path) -> None:
    """Commits checkpoint only past 10,000 WAL pages; below that the background checkpoints
    copy the WAL into the database file as the sender writes, and every point is there."""
    path = tmp_path / "d.db"
    store = SQLiteStore(path)
    try:
        assert store.checkpointer is not None
        store.checkpointer.every_s = 0.02
        (pages,) = store._conn.execute("PRAGMA wal_autocheckpoint").fetchone()
        assert pages == 10_000
        keys = _sender_batches(store, 40)
        assert store.checkpointer.wait(timeout_s=10)
        time.sleep(store.checkpointer.every_s)
        store.checkpointer.after_commit(time.monotonic())  # as the next commit would
        assert store.checkpointer.wait(timeout_s=10)
        assert store.checkpointer.runs >= 2 and store.checkpointer.failures == 0
        # the WAL never reached the writer's bound, so only the background copied pages into
        # the file (without it the file keeps its few schema pages and the WAL all the rest)
        assert _wal_pages(path) < 10_000
        assert path.stat().st_size > 100 * 1024, path.stat().st_size
        end = T0 + 40 * SECOND
        for i in (0, 123, SERIES - 1):
            frame = store.query(keys[i], T0, end, RAW)
            assert frame.value.tolist() == [float(b + i) for b in range(40)]
    finally:
        store.close()


def test_an_in_memory_store_has_no_checkpointer() -> None:
    """Nothing to copy back: no WAL, no thread."""
    store = SQLiteStore(":memory:")
    try:
        assert store.checkpointer is None
        _sender_batches(store, 2)
    finally:
        store.close()


def test_a_failed_checkpoint_is_counted_and_logged_by_the_next_commit(
    tmp_path: Path, caplog
) -> None:  # type: ignore[no-untyped-def]
    """The thread only records the failure; the next commit's caller logs it once."""
    ckpt = Checkpointer(str(tmp_path / "no-such-dir" / "d.db"))
    ckpt.run()
    assert ckpt.failures == 1 and "unable to open" in ckpt.failed
    with caplog.at_level(logging.WARNING, logger="dashboard.metrics.stores.sqlite"):
        ckpt.after_commit(time.monotonic())  # logs the failure, and starts the due checkpoint
    logged = [r.getMessage() for r in caplog.records]
    assert len(logged) == 1 and "WAL checkpoint of" in logged[0] and "failed" in logged[0]
    assert ckpt.wait(timeout_s=5)
    assert ckpt.failures == 2  # the due one ran in its own thread, and failed again


def test_a_senders_batch_dirties_a_few_pages_not_one_a_series(tmp_path: Path) -> None:
    """500 one-point series a batch land at the end of ``incoming``: the WAL grows by a few
    pages a batch (the head's (series, ts) order made it ~50 here, a page every 10 series)."""
    path = tmp_path / "d.db"
    store = SQLiteStore(path)
    try:
        assert store.checkpointer is not None
        store.checkpointer._next = float("inf")  # no checkpoint: the WAL counts every page
        _sender_batches(store, 1)  # the series rows, once
        store._fold_due = float("inf")  # the appends alone (a fold a second comes on top)
        before = _wal_pages(path)
        _sender_batches(store, 40)
        assert (_wal_pages(path) - before) / 40 < 15, _wal_pages(path) - before
    finally:
        store.close()


def test_the_value_given_last_wins_across_folds_seals_and_bulk_writes(tmp_path: Path) -> None:
    """The same (series, timestamp) given again and again, with no read between, in the head,
    in ``incoming``, and in a bulk write sealed straight into chunks: the last one given is
    the one read."""
    store = SQLiteStore(tmp_path / "d.db")
    key = SeriesKey.of("ckpt.last")
    ts = np.array([T0, T0 + SECOND], dtype=np.int64)

    def write(times: np.ndarray, values: list[float]) -> None:
        store.write(Batch([SeriesPoints(key, times, np.array(values))]))

    try:
        write(ts, [1.0, 1.0])
        store.seal()  # sealed into a chunk
        write(ts, [2.0, 2.0])  # waits in incoming
        write(ts[:1], [3.0])
        assert store.query(key, T0, T0 + SECOND, RAW).value.tolist() == [3.0, 2.0]
        write(ts[1:], [4.0])  # incoming again, then a bulk write of the same series after it
        bulk = T0 + np.arange(BULK_POINTS, dtype=np.int64) * SECOND
        store.write(Batch([SeriesPoints(key, bulk[2:], np.full(BULK_POINTS - 2, 5.0))]))
        write(ts[:1], [6.0])
        got = store.query(key, T0, int(bulk[-1]), RAW)
        assert got.value[:3].tolist() == [6.0, 4.0, 5.0] and got.ts.size == BULK_POINTS
        store.seal()
        assert store.stats()["head_points"] == 0
        assert store.query(key, T0, T0 + SECOND, RAW).value.tolist() == [6.0, 4.0]
    finally:
        store.close()


KILLED_WRITER = """
import os, sys
import numpy as np
from dashboard.metrics.model import Batch, SeriesKey, SeriesPoints
from dashboard.metrics.stores.sqlite import SQLiteStore
store = SQLiteStore(sys.argv[1])
key = SeriesKey.of("ckpt.killed")
for i in range(3):
    ts = np.array([{t0} + i * 1000], dtype=np.int64)
    store.write(Batch([SeriesPoints(key, ts, np.array([float(i)]))]))
os._exit(0)  # no close, no fold: as if killed after its 2xx
"""


def test_points_acknowledged_before_a_crash_are_read_after_it(tmp_path: Path) -> None:
    """A writer that dies with its points still in ``incoming`` loses none: the next process
    folds them before its first read."""
    path = tmp_path / "d.db"
    code = KILLED_WRITER.format(t0=T0)
    subprocess.run([sys.executable, "-c", code, str(path)], check=True, timeout=60)
    store = SQLiteStore(path)
    try:
        key = SeriesKey.of("ckpt.killed")
        assert store.query(key, T0, T0 + 10 * SECOND, RAW).value.tolist() == [0.0, 1.0, 2.0]
        assert store.stats()["head_points"] == 3
    finally:
        store.close()


def test_points_another_process_appends_are_read_without_a_write_here(tmp_path: Path) -> None:
    """A store that has folded everything it wrote still folds what another process (a CLI
    command on the same file) appended, before its next read."""
    path = tmp_path / "d.db"
    store = SQLiteStore(path)
    try:
        _sender_batches(store, 1)
        assert store.stats()["head_points"] == SERIES  # folded: nothing of its own waits
        code = KILLED_WRITER.format(t0=T0)
        subprocess.run([sys.executable, "-c", code, str(path)], check=True, timeout=60)
        key = SeriesKey.of("ckpt.killed")
        assert store.query(key, T0, T0 + 10 * SECOND, RAW).value.tolist() == [0.0, 1.0, 2.0]
    finally:
        store.close()


def test_a_checkpoint_thread_that_cannot_start_fails_no_commit(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Out of threads (the process's limit reached), the commit stands and the next due
    checkpoint tries again."""
    import dashboard.metrics.stores.sqlite as sqlite_store

    def no_thread(target) -> None:  # type: ignore[no-untyped-def]
        raise RuntimeError("can't start new thread")

    store = SQLiteStore(tmp_path / "d.db")
    try:
        monkeypatch.setattr(sqlite_store, "_start_os_thread", no_thread)
        keys = _sender_batches(store, 2)
        assert store.checkpointer is not None and store.checkpointer.failures >= 1
        assert not store.checkpointer._running  # free to try again when due
        assert store.query(keys[0], T0, T0 + SECOND, RAW).value.tolist() == [0.0, 1.0]
    finally:
        monkeypatch.undo()
        store.close()
