"""Sealed chunks: a run of one series' points, compressed with pcodec (pure).

One format for memory and for the database (a ``bytea``/``blob`` column holds ``to_bytes()``
as it is). A chunk holds points in strictly increasing time order: timestamps as int64 Unix
milliseconds and values as float64, each compressed with pcodec's standalone format, behind a
fixed header whose aggregates answer a rollup over the whole chunk without decompressing it.

Layout, little-endian, version 1::

    offset  size  field
    0       1     version (1)
    1       3     reserved (0)
    4       4     count: points in the chunk (uint32, > 0)
    8       8     first_ts: oldest timestamp (int64 ms)
    16      8     last_ts: newest timestamp (int64 ms)
    24      8     min of the values (float64)
    32      8     max of the values
    40      8     sum of the values
    48      8     last: the value at last_ts
    56      4     ts_len: bytes of the compressed timestamps (uint32)
    60      ...   pcodec(ts), then pcodec(values) to the end

Why pcodec (measured on this machine, 2 cores, pcodec 1.1, bytes a point at 240 / 3,600
points a chunk): noisy floats 7.1 / 6.9 against 7.8 / 7.5 for XOR-with-previous + zlib;
counters 1.0 / 0.7 against 2.3 / 1.8; scrape timestamps with +-30 ms jitter 1.0 / 0.9 against
2.1 / 1.7; regular timestamps 0.2 / 0.02. Decoding runs at 30-130 M points/s against 6-16 for
zlib; a pure-Python delta-of-delta + XOR bit packer is two orders of magnitude slower still.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np
from pcodec import ChunkConfig, standalone

VERSION = 1
HEADER = struct.Struct("<B3xIqqddddI")
_FIRST_TS = struct.Struct("<q")  # at offset 8
_LAST_TS = struct.Struct("<q")  # at offset 16
# Compression level 4 keeps 99 % of level 8's ratio at about half the encoding time.
_CONFIG = ChunkConfig(compression_level=4)


class ChunkError(ValueError):
    """Bytes that are not a chunk of a known version."""


@dataclass(frozen=True, slots=True)
class ChunkHeader:
    """What a chunk says about itself without being decompressed."""

    count: int
    first_ts: int
    last_ts: int
    min: float
    max: float
    sum: float
    last: float


def encode(ts: np.ndarray, values: np.ndarray) -> bytes:
    """Seal points into chunk bytes.

    Parameters
    ----------
    ts : ndarray of int64, shape (n,), n > 0
        Strictly increasing Unix milliseconds.
    values : ndarray of float64, shape (n,)
    """
    ts = np.ascontiguousarray(ts, dtype=np.int64)
    values = np.ascontiguousarray(values, dtype=np.float64)
    n = int(ts.size)
    if n == 0 or values.size != n:
        raise ValueError("a chunk holds at least one point, with one value per timestamp")
    ts_bytes = standalone.simple_compress(ts, _CONFIG)
    head = HEADER.pack(
        VERSION,
        n,
        int(ts[0]),
        int(ts[-1]),
        float(values.min()),
        float(values.max()),
        float(values.sum()),
        float(values[-1]),
        len(ts_bytes),
    )
    return b"".join((head, ts_bytes, standalone.simple_compress(values, _CONFIG)))


def header(blob: bytes) -> ChunkHeader:
    """The header of chunk bytes (no decompression)."""
    if len(blob) < HEADER.size or blob[0] != VERSION:
        raise ChunkError(f"not a version-{VERSION} chunk")
    version, count, first, last, mn, mx, sm, lv, _ = HEADER.unpack_from(blob)
    return ChunkHeader(count, first, last, mn, mx, sm, lv)


def first_ts(blob: bytes) -> int:
    """The oldest timestamp of a chunk."""
    return _FIRST_TS.unpack_from(blob, 8)[0]


def last_ts(blob: bytes) -> int:
    """The newest timestamp of a chunk."""
    return _LAST_TS.unpack_from(blob, 16)[0]


def count(blob: bytes) -> int:
    """The number of points in a chunk."""
    return struct.unpack_from("<I", blob, 4)[0]


def decode(blob: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Timestamps (int64, shape (n,)) and values (float64, shape (n,)) of a chunk."""
    if len(blob) < HEADER.size or blob[0] != VERSION:
        raise ChunkError(f"not a version-{VERSION} chunk")
    n = count(blob)
    ts_len = struct.unpack_from("<I", blob, 56)[0]
    body = memoryview(blob)[HEADER.size :]
    try:
        ts = standalone.simple_decompress(bytes(body[:ts_len]))
        values = standalone.simple_decompress(bytes(body[ts_len:]))
    except (RuntimeError, TypeError) as exc:
        raise ChunkError(f"corrupt chunk: {exc}") from None
    if ts is None or values is None or ts.size != n or values.size != n:
        raise ChunkError("corrupt chunk: point count does not match the header")
    return ts.astype(np.int64, copy=False), values.astype(np.float64, copy=False)


def decode_run_into(blobs: list[bytes], ts_out: np.ndarray, values_out: np.ndarray) -> int:
    """:func:`decode_into` of several chunks one after another (a series' run, oldest
    first), with the least work a chunk; return the number of points."""
    decompress = standalone.simple_decompress_into
    pos = 0
    for blob in blobs:
        version, n, *_, ts_len = HEADER.unpack_from(blob)
        end = HEADER.size + ts_len
        if version != VERSION or ts_out.size < pos + n or values_out.size < pos + n:
            raise ChunkError(f"not a version-{VERSION} chunk, or no room for its points")
        try:
            got_ts = decompress(blob[HEADER.size : end], ts_out[pos : pos + n])
            got_values = decompress(blob[end:], values_out[pos : pos + n])
        except (RuntimeError, TypeError) as exc:
            raise ChunkError(f"corrupt chunk: {exc}") from None
        if got_ts.n_processed != n or got_values.n_processed != n:
            raise ChunkError("corrupt chunk: point count does not match the header")
        pos += n
    return pos


def decode_into(blob: bytes, ts_out: np.ndarray, values_out: np.ndarray) -> int:
    """Decompress a chunk into the start of ``ts_out`` (int64) and ``values_out`` (float64),
    1-D contiguous arrays with room for its points; return the number of points."""
    n = count(blob)
    if len(blob) < HEADER.size or blob[0] != VERSION or ts_out.size < n or values_out.size < n:
        raise ChunkError(f"not a version-{VERSION} chunk, or no room for its points")
    ts_len = struct.unpack_from("<I", blob, 56)[0]
    end = HEADER.size + ts_len
    try:
        got_ts = standalone.simple_decompress_into(blob[HEADER.size : end], ts_out[:n])
        got_values = standalone.simple_decompress_into(blob[end:], values_out[:n])
    except (RuntimeError, TypeError) as exc:
        raise ChunkError(f"corrupt chunk: {exc}") from None
    if got_ts.n_processed != n or got_values.n_processed != n:
        raise ChunkError("corrupt chunk: point count does not match the header")
    return n


@dataclass(frozen=True, slots=True)
class Chunk:
    """An immutable sealed chunk: its bytes, with the header read from them."""

    blob: bytes

    @classmethod
    def seal(cls, ts: np.ndarray, values: np.ndarray) -> Chunk:
        """Compress sorted, unique-timestamp points into a chunk."""
        return cls(encode(ts, values))

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview) -> Chunk:
        """A chunk from stored bytes; ChunkError when they are not one."""
        blob = bytes(data)
        head = header(blob)
        ts_len = struct.unpack_from("<I", blob, 56)[0]
        if head.count <= 0 or HEADER.size + ts_len >= len(blob) or head.first_ts > head.last_ts:
            raise ChunkError("corrupt chunk header")
        return cls(blob)

    def to_bytes(self) -> bytes:
        """The stored form."""
        return self.blob

    @property
    def header(self) -> ChunkHeader:
        """Count, time span and aggregates."""
        return header(self.blob)

    def points(self) -> tuple[np.ndarray, np.ndarray]:
        """Decompressed timestamps and values."""
        return decode(self.blob)

    def __len__(self) -> int:
        """Number of points."""
        return count(self.blob)
