"""The embedded store's WAL is copied back into the file in the background (a commit no longer
runs SQLite's automatic checkpoint and its syncs), and stays small while a sender writes."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np

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
        assert store.checkpointer.runs >= 2 and store.checkpointer.failures == 0
        # the WAL never reached the writers' bound, so only the background copied pages into
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
