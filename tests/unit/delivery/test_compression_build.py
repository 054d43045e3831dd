"""The static build: brotli 11 written by content hash, present files skipped."""

from __future__ import annotations

import hashlib
from pathlib import Path

import brotli

from dashboard.delivery.static_build import asset_files, build, cache_entry, component_files


def write(path: Path, text: str) -> Path:
    """A file with ``text``, its folders made."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_each_file_is_written_as_the_sha256_of_its_bytes(tmp_path):
    """The entry is named by the original's SHA-256 and holds its brotli-11 body."""
    src = write(tmp_path / "src" / "a.js", "console.log('a');\n" * 200)
    cache = tmp_path / "cache"
    (result,) = build([src], cache, workers=1)
    entry = cache / f"{hashlib.sha256(src.read_bytes()).hexdigest()}.br"
    assert entry == cache_entry(cache, hashlib.sha256(src.read_bytes()).hexdigest())
    assert result.written and entry.read_bytes() == brotli.compress(src.read_bytes(), quality=11)
    assert brotli.decompress(entry.read_bytes()) == src.read_bytes()
    assert [p.name for p in cache.iterdir()] == [entry.name]


def test_a_rerun_skips_present_files_and_a_change_gets_a_new_entry(tmp_path):
    """Present entries are not rewritten; an edited file is compressed anew under a new name."""
    a = write(tmp_path / "src" / "a.js", "var a = 1;\n" * 100)
    b = write(tmp_path / "src" / "b.css", "body { color: red }\n" * 100)
    cache = tmp_path / "cache"
    assert [r.written for r in build([a, b], cache)] == [True, True]
    before = {p.name: p.stat().st_mtime_ns for p in cache.iterdir()}
    assert [r.written for r in build([a, b], cache)] == [False, False]
    assert {p.name: p.stat().st_mtime_ns for p in cache.iterdir()} == before
    write(b, "body { color: blue }\n" * 100)
    assert [r.written for r in build([a, b], cache, workers=1)] == [False, True]
    assert len(list(cache.iterdir())) == 3


def test_the_same_content_twice_is_one_entry(tmp_path):
    """Two files with the same bytes share one entry."""
    a = write(tmp_path / "x" / "a.js", "same();\n" * 50)
    b = write(tmp_path / "y" / "b.js", "same();\n" * 50)
    results = build([a, b], tmp_path / "cache", workers=1)
    assert [r.written for r in results] == [True, False]
    assert len(list((tmp_path / "cache").iterdir())) == 1


def test_assets_are_found_recursively_by_kind(tmp_path):
    """JS, CSS, SVG and JSON under the assets folder, at any depth; nothing else."""
    for name in ("a.js", "vendor/b.min.js", "s.css", "deep/er/i.svg", "d.json", "x.png", "LICENSE"):
        write(tmp_path / name, "x")
    found = [p.relative_to(tmp_path).as_posix() for p in asset_files(tmp_path)]
    assert found == ["a.js", "d.json", "deep/er/i.svg", "s.css", "vendor/b.min.js"]


def test_component_files_cover_what_dash_serves():
    """The renderer, its dependencies, dcc with its async chunks, html, and our own script."""
    names = {p.name for p in component_files()}
    for expected in (
        "dash_renderer.min.js",
        "polyfill@7.12.1.min.js",
        "prop-types@15.8.1.min.js",
        "dash_core_components.js",
        "async-graph.js",
        "dash_html_components.min.js",
        "regenerator-runtime@0.14.1.js",
    ):
        assert expected in names
    assert any(n.startswith("react@") for n in names)
    assert any(n.startswith("react-dom@") for n in names)
    assert not [n for n in names if n.endswith(".map")]
