"""Grid chunks (format version 3): scrape timestamps as a grid plus small residuals, values as
bare pcodec chunks that a run decodes at once; version-1 bytes (held in databases) still read."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pcodec import ChunkConfig, standalone

from dashboard.metrics import chunks
from dashboard.metrics.chunks import Chunk, ChunkError

T0 = 1_764_000_000_000
INT64 = (-(2**63), 2**63 - 1)


def _version_1(ts: np.ndarray, values: np.ndarray) -> bytes:
    """Chunk bytes as the version-1 writer laid them out (the documented layout, built here
    by hand so the test does not depend on the encoder): header, pcodec(ts), pcodec(values)."""
    config = ChunkConfig(compression_level=4)
    ts_bytes = standalone.simple_compress(ts.astype(np.int64), config)
    head = chunks.HEADER.pack(
        1, ts.size, int(ts[0]), int(ts[-1]), values.min(), values.max(), values.sum(),
        values[-1], len(ts_bytes),
    )  # fmt: skip
    return head + ts_bytes + standalone.simple_compress(values.astype(np.float64), config)


def _grid_ts(n: int, step: int, jitter: int, seed: int) -> np.ndarray:
    """``n`` scrape timestamps every ``step`` ms, each up to ``jitter`` ms late."""
    rng = np.random.default_rng(seed)
    return T0 + np.arange(n, dtype=np.int64) * step + rng.integers(0, jitter + 1, n)


def _decoded_run(blobs: list[bytes], room: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The points of chunks decoded as one run into arrays with ``room`` to spare."""
    n = sum(chunks.count(b) for b in blobs)
    ts, values = np.zeros(n + room, dtype=np.int64), np.zeros(n + room)
    assert chunks.decode_run_into(blobs, ts, values) == n
    assert not ts[n:].any() and not values[n:].any()  # nothing written past the points
    return ts[:n], values[:n]


sorted_ts = st.lists(st.integers(*INT64), min_size=1, max_size=300, unique=True).map(
    lambda xs: np.array(sorted(xs), dtype=np.int64)
)


@st.composite
def scrapes(draw: st.DrawFn) -> np.ndarray:
    """Timestamps near a grid: a start, a step, jitter, sometimes a missed scrape."""
    n = draw(st.integers(1, 600))
    step = draw(st.sampled_from([1, 10, 1000, 15_000, 60_000]))
    jitter = draw(st.sampled_from([0, 1, 3, 15, 200, 600]))
    ts = _grid_ts(n, step, jitter, draw(st.integers(0, 1000)))
    if n > 3 and draw(st.booleans()):
        ts = np.delete(ts, draw(st.integers(1, n - 2)))
    ts = np.unique(ts)  # jitter wider than the step can reorder or repeat points
    return ts + draw(st.integers(-(2**40), 2**40))


@settings(max_examples=150, deadline=None)
@given(ts=st.one_of(sorted_ts, scrapes()))
def test_any_sorted_timestamps_round_trip(ts: np.ndarray) -> None:
    """Every strictly increasing int64 timestamp run (regular, jittered, irregular, at the
    ends of int64) comes back exactly, with its values, whichever format the encoder picks."""
    values = np.random.default_rng(ts.size).normal(size=ts.size)
    blob = chunks.encode(ts, values)
    assert blob[0] in chunks.VERSIONS
    got_ts, got_values = chunks.decode(blob)
    np.testing.assert_array_equal(got_ts, ts)
    np.testing.assert_array_equal(got_values, values)
    head = Chunk.from_bytes(blob).header
    assert (head.count, head.first_ts, head.last_ts) == (ts.size, ts[0], ts[-1])


@settings(max_examples=60, deadline=None)
@given(parts=st.lists(st.one_of(scrapes(), sorted_ts), min_size=1, max_size=6))
def test_a_run_of_chunks_decodes_as_their_points_one_after_another(
    parts: list[np.ndarray],
) -> None:
    """A run mixing grid chunks of any residual width, version-1 chunks and old bytes decodes
    into one pair of arrays, each chunk's points in place."""
    blobs, want_ts, want_values = [], [], []
    for i, ts in enumerate(parts):
        values = np.arange(ts.size, dtype=np.float64) + 1000.0 * i
        blobs.append(_version_1(ts, values) if i % 3 == 2 else chunks.encode(ts, values))
        want_ts.append(ts)
        want_values.append(values)
    got_ts, got_values = _decoded_run(blobs, room=3)
    np.testing.assert_array_equal(got_ts, np.concatenate(want_ts))
    np.testing.assert_array_equal(got_values, np.concatenate(want_values))


@pytest.mark.parametrize(
    ("step", "jitter", "version", "extra"),
    [(15_000, 0, 3, 0), (1000, 5, 3, 0), (15_000, 15, 3, 0), (15_000, 20, 3, 60),
     (15_000, 255, 3, 60), (15_000, 2000, 1, 0)],
)  # fmt: skip
def test_scrapes_are_stored_on_a_grid_at_about_the_old_size(
    step: int, jitter: int, version: int, extra: int
) -> None:
    """Scrape timestamps (jitter up to 255 ms) are kept as a grid: no bigger than version 1
    up to 15 ms of jitter, at most a quarter byte a point more beyond (residuals of 5-8 bits
    take a byte); wider jitter stays version 1."""
    ts = _grid_ts(240, step, jitter, 7)
    values = np.cumsum(np.random.default_rng(1).integers(0, 10, ts.size)).astype(np.float64)
    blob = chunks.encode(ts, values)
    assert blob[0] == version
    assert len(blob) <= len(_version_1(ts, values)) + extra
    np.testing.assert_array_equal(chunks.decode(blob)[0], ts)


def test_version_1_bytes_still_decode_alone_and_in_runs() -> None:
    """Chunks written by the old code (databases hold them) read as before, alone, into a
    slice of a larger array, and in a run with grid chunks."""
    old_ts, new_ts = _grid_ts(240, 15_000, 20, 1), _grid_ts(240, 15_000, 20, 2) + 3_600_000
    old = _version_1(old_ts, np.arange(240.0))
    new = chunks.encode(new_ts, np.arange(240.0) + 240)
    assert (old[0], new[0]) == (1, 3)
    np.testing.assert_array_equal(chunks.decode(old)[0], old_ts)
    out_ts, out_values = np.zeros(300, dtype=np.int64), np.zeros(300)
    assert chunks.decode_into(old, out_ts[10:], out_values[10:]) == 240
    np.testing.assert_array_equal(out_ts[10:250], old_ts)
    got_ts, got_values = _decoded_run([old, new, old])
    np.testing.assert_array_equal(got_ts, np.concatenate((old_ts, new_ts, old_ts)))
    np.testing.assert_array_equal(got_values[240:480], np.arange(240.0) + 240)


def test_damaged_grid_chunks_are_refused_never_misread() -> None:
    """A grid chunk cut short, with a wrong count or a bad residual width raises ChunkError,
    alone and in a run; no array is sized by a count the chunk cannot back."""
    ts = _grid_ts(240, 15_000, 20, 3)
    blob = chunks.encode(ts, np.arange(240.0))
    other = chunks.encode(ts + 3_600_000, np.arange(240.0))
    assert blob[0] == 3
    lying = bytearray(blob)
    lying[4:8] = (2**32 - 1).to_bytes(4, "little")  # four billion points
    bad_width = bytearray(blob)
    bad_width[76] = 9
    for broken in (blob[:-5], blob[:70], bytes(lying), bytes(bad_width)):
        with pytest.raises(ChunkError):
            chunks.decode(broken)
        with pytest.raises(ChunkError):
            chunks.decode_run_into([other, broken], np.zeros(600, np.int64), np.zeros(600))
    with pytest.raises(ChunkError):
        chunks.decode_run_into([blob, other], np.zeros(479, np.int64), np.zeros(479))
