"""Brotli at quality 11, once, at build time, for every static file the app serves.

Each file is written as ``<cache_dir>/<sha256 of its bytes>.br``: a name that only its content
decides, so every process of a user shares one cache, a changed file gets a new entry, and a
rerun skips what is there. The server (``dashboard.delivery.compression``) answers from these files.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import brotli

ROOT = Path(__file__).resolve().parents[2]
ASSETS = ROOT / "assets"
ASSET_SUFFIXES = frozenset({".js", ".css", ".svg", ".json"})
# served by Dash's component-suites route as the ``dashboard`` package (see LeanDash)
REGENERATOR_RUNTIME = "delivery/js/regenerator-runtime@0.14.1.js"
OWN_SCRIPTS = {"dashboard": (REGENERATOR_RUNTIME,)}
BROTLI_QUALITY = 11


def content_hash(data: bytes) -> str:
    """The hex SHA-256 of a file's bytes: its name in the cache."""
    return hashlib.sha256(data).hexdigest()


def cache_entry(cache_dir: Path, digest: str) -> Path:
    """Where the brotli body of the content with ``digest`` is kept."""
    return cache_dir / f"{digest}.br"


def asset_files(folder: Path = ASSETS) -> list[Path]:
    """Every JS, CSS, SVG and JSON file under ``folder``, recursively, sorted."""
    return sorted(
        p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in ASSET_SUFFIXES
    )


def _dist_paths(dist: Iterable[dict]) -> Iterator[tuple[str, str]]:
    """(namespace, relative path) of each production file in a ``_js_dist``/``_css_dist`` list.

    Dev bundles (served only with Dash's dev tools on) and source maps (asked for only by a
    browser's developer tools) are left out: the fallback compresses them if they are asked for.
    """
    for resource in dist:
        namespace = resource.get("namespace")
        paths = resource.get("relative_package_path") or []
        if isinstance(paths, dict):
            paths = paths.get("prod", [])
        for rel in _as_list(paths):
            if namespace and not rel.endswith(".map"):
                yield namespace, rel


def _as_list(value: str | list[str]) -> list[str]:
    """A path or a list of paths, as a list."""
    return [value] if isinstance(value, str) else list(value)


def _package_dir(namespace: str) -> Path:
    """The folder of an imported package, where Dash reads its dist files."""
    import importlib

    module = importlib.import_module(namespace)
    return Path(module.__file__ or "").resolve().parent


def component_files() -> list[Path]:
    """Every dist file Dash may serve under ``/_dash-component-suites/``, existing, sorted.

    That is the renderer and its dependencies (polyfill, React, ReactDOM, prop-types), dcc with
    its async chunks, html, dash_table, any other registered component library, and our own
    scripts served the same way.
    """
    from dash import _dash_renderer, dash_table, dcc, html
    from dash.development.base_component import ComponentRegistry

    dists: list[dict] = [
        *_dash_renderer._js_dist_dependencies,
        *_dash_renderer._js_dist,
        *dcc._js_dist,
        *html._js_dist,
        *dash_table._js_dist,
    ]
    for name in list(ComponentRegistry.registry):
        module = sys.modules.get(name)
        dists += [*getattr(module, "_js_dist", []), *getattr(module, "_css_dist", [])]
    found = {_package_dir(ns) / rel for ns, rel in _dist_paths(dists)}
    found |= {_package_dir(ns) / rel for ns, rels in OWN_SCRIPTS.items() for rel in rels}
    return sorted(p for p in found if p.is_file())


def static_files() -> list[Path]:
    """Every static file the app serves: our assets and the component libraries' files."""
    return [*asset_files(), *component_files()]


@dataclass(frozen=True)
class Built:
    """One file's outcome: its sizes and whether this run compressed it."""

    path: Path
    size: int
    br_size: int
    written: bool


def compress_file(path: Path, cache_dir: Path, quality: int = BROTLI_QUALITY) -> Built:
    """Write ``path``'s brotli body to the cache unless its content is there already."""
    data = path.read_bytes()
    target = cache_entry(cache_dir, content_hash(data))
    if target.exists():
        return Built(path, len(data), target.stat().st_size, written=False)
    body = brotli.compress(data, quality=quality)
    _write_atomically(target, body)
    return Built(path, len(data), len(body), written=True)


def _write_atomically(target: Path, body: bytes) -> None:
    """Write via a temporary file and rename, so a reader never sees half a body."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".br")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(body)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def build(
    paths: Iterable[Path],
    cache_dir: Path,
    *,
    workers: int | None = None,
    quality: int = BROTLI_QUALITY,
) -> list[Built]:
    """Compress every file of ``paths`` into ``cache_dir`` (in parallel: quality 11 is slow)."""
    paths = list(dict.fromkeys(paths))
    cache_dir.mkdir(parents=True, exist_ok=True)
    if workers == 1 or len(paths) < 2:
        return [compress_file(p, cache_dir, quality) for p in paths]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(
            pool.map(compress_file, paths, [cache_dir] * len(paths), [quality] * len(paths))
        )
