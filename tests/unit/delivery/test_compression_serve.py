"""Finding a served file's build-time brotli body: hashed once per version of the file."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from dashboard.delivery.compression import Precompressed
from dashboard.delivery.static_build import build


def test_the_body_is_found_by_the_files_content(tmp_path):
    """A built file's body is found; an unbuilt or absent one is None."""
    built = tmp_path / "a.js"
    built.write_text("built();\n" * 100)
    other = tmp_path / "b.js"
    other.write_text("not built();\n" * 100)
    build([built], tmp_path / "cache", workers=1)
    store = Precompressed(tmp_path / "cache")
    assert store.body(str(built)) == next((tmp_path / "cache").iterdir()).read_bytes()
    assert store.body(str(other)) is None
    assert store.body(str(tmp_path / "missing.js")) is None


def test_the_hash_is_memoised_per_path_mtime_and_size(tmp_path):
    """Same mtime and size: the hash is not computed again; a new mtime: it is."""
    path = tmp_path / "a.js"
    path.write_bytes(b"one();")
    store = Precompressed(tmp_path / "cache")
    first = store.digest(str(path))
    assert first == hashlib.sha256(b"one();").hexdigest()
    stat = path.stat()
    path.write_bytes(b"two();")  # same size; put the old mtime back
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert store.digest(str(path)) == first
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert store.digest(str(path)) == hashlib.sha256(b"two();").hexdigest()


def test_a_cache_folder_that_does_not_exist_finds_nothing(tmp_path: Path):
    """No build at all: every file falls back."""
    path = tmp_path / "a.js"
    path.write_text("x();")
    assert Precompressed(tmp_path / "never-built").body(str(path)) is None
