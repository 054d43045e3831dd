"""Compressed responses (brotli or gzip); static files are compressed once.

A static file (Dash's component suites, our assets) whose brotli-11 body ``dashboard
build-assets`` wrote to the static cache is answered with that body, to a client that accepts
br. Otherwise Flask-Compress compresses it (brotli 5 or gzip) and keeps the result in memory by
URL; everything else (API answers, Dash callbacks) is compressed anew or not at all.
"""

from __future__ import annotations

import hashlib
import os
import sys
import threading
from pathlib import Path

from dash.fingerprint import check_fingerprint
from flask import Flask, Request, Response, request
from flask_compress import Compress
from werkzeug.security import safe_join

from dashboard.delivery.static_build import cache_entry

STATIC_PREFIXES = (
    "/assets/",
    "/_dash-component-suites/",
    "/login/assets/",
    "/login/_dash-component-suites/",
)
NO_CACHE = "nocache:"


class StaticCache:
    """A bounded in-memory cache that keeps only the compressed static files."""

    def __init__(self, max_entries: int = 256) -> None:
        """An empty cache."""
        self._data: dict[str, bytes] = {}
        self._max = max_entries
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        """A cached body, or None."""
        if NO_CACHE in key:
            return None
        with self._lock:
            return self._data.get(key)

    def set(self, key: str, value: bytes) -> None:
        """Keep a static body (dynamic ones are never kept)."""
        if NO_CACHE in key:
            return
        with self._lock:
            if len(self._data) >= self._max:
                self._data.pop(next(iter(self._data)))
            self._data[key] = value


def cache_key(request: Request) -> str:
    """The URL for a static file; a never-cached key for anything else."""
    if request.path.startswith(STATIC_PREFIXES) and request.method == "GET":
        return request.full_path
    return f"{NO_CACHE}{id(request)}"


class Precompressed:
    """The build-time brotli bodies of static files, found by the SHA-256 of each file."""

    def __init__(self, cache_dir: Path) -> None:
        """Bodies from ``cache_dir``; hashes are memoised per (path, mtime, size)."""
        self.cache_dir = cache_dir
        # a plain dict: a race only hashes a file twice, with the same answer
        self._digests: dict[str, tuple[int, int, str]] = {}

    def digest(self, path: str) -> str | None:
        """The SHA-256 of the file at ``path``, hashed once per version of it; None if absent."""
        try:
            st = os.stat(path)
        except OSError:
            return None
        known = self._digests.get(path)
        if known is not None and known[:2] == (st.st_mtime_ns, st.st_size):
            return known[2]
        with open(path, "rb") as f:
            digest = hashlib.file_digest(f, "sha256").hexdigest()
        self._digests[path] = (st.st_mtime_ns, st.st_size, digest)
        return digest

    def body(self, path: str) -> bytes | None:
        """The brotli body of the file at ``path``, or None when the build did not write it."""
        digest = self.digest(path)
        if digest is None:
            return None
        try:
            return cache_entry(self.cache_dir, digest).read_bytes()
        except OSError:
            return None


def served_file(server: Flask, endpoint: str, view_args: dict) -> str | None:
    """The file on disk that a component-suite or static-folder view answered with, if any."""
    if "package_name" in view_args and "_dash-component-suites/" in endpoint:
        # Dash's view already checked the package and path are registered (else no 200)
        module = sys.modules.get(view_args["package_name"])
        if module is None or not module.__file__:
            return None
        rel, _ = check_fingerprint(view_args["fingerprinted_path"])
        return safe_join(os.path.dirname(module.__file__), rel)
    if endpoint == "static" or endpoint.endswith(".static"):
        name = endpoint.rpartition(".")[0]
        scaffold = server.blueprints.get(name) if name else server
        folder = scaffold.static_folder if scaffold is not None else None
        return safe_join(folder, view_args.get("filename", "")) if folder else None
    return None


def _wants_br(req: Request) -> bool:
    """True when the client takes brotli (``br`` with a non-zero quality)."""
    return req.accept_encodings["br"] > 0


def _replace_body(response: Response, body: bytes) -> None:
    """Give a response a body in memory, closing the file a static view had opened."""
    old = response.response
    if hasattr(old, "close"):
        old.close()
    response.direct_passthrough = False
    response.set_data(body)  # sets Content-Length


def _send_precompressed(response: Response, body: bytes) -> None:
    """Answer with a build-time brotli body, as Flask-Compress would label a br one."""
    _replace_body(response, body)
    response.headers["Content-Encoding"] = "br"
    response.vary.add("Accept-Encoding")
    # the ETag names this representation, as Flask-Compress does ("tag" -> "tag:br")
    etag, weak = response.get_etag()
    if etag and not weak:
        response.set_etag(f"{etag}:br")
        response.make_conditional(request)


def use_precompressed(server: Flask, store: Precompressed) -> None:
    """Answer static files from the build-time brotli bodies; register after Flask-Compress.

    An ``after_request`` rather than a ``before_request``: Dash's and Flask's own views still
    validate the path and set the caching headers (a year for fingerprinted URLs, ETag and
    Last-Modified otherwise), and only a full 200 body is swapped.
    """

    @server.after_request
    def _precompressed(response: Response) -> Response:
        """The cached brotli body of a static file, in place of the plain one, when it fits."""
        if (
            request.method not in ("GET", "HEAD")
            or response.status_code != 200
            or "Content-Encoding" in response.headers
            or not request.endpoint
        ):
            return response
        path = served_file(server, request.endpoint, request.view_args or {})
        if path is None:
            return response
        body = store.body(path) if _wants_br(request) else None
        if body is not None:
            _send_precompressed(response, body)
        elif response.is_streamed:
            # Flask's static view streams the file, and Flask-Compress compresses a stream anew
            # on every request without caching it: hand it the file in memory, so it caches it
            _replace_body(response, Path(path).read_bytes())
        return response


def init_compression(server: Flask, static_cache: Path | None = None) -> None:
    """Compress text responses with brotli (or gzip); never PDFs, images or Socket.IO frames.

    With ``static_cache``, static files are answered from the bodies ``dashboard build-assets``
    wrote there, when it wrote them.
    """
    server.config.update(
        COMPRESS_MIMETYPES=[
            "text/html",
            "text/css",
            "text/csv",
            "application/javascript",
            "text/javascript",
            "application/json",
            "image/svg+xml",
        ],
        COMPRESS_ALGORITHM=["br", "gzip"],
        COMPRESS_ALGORITHM_STREAMING=["br", "deflate"],
        COMPRESS_BR_LEVEL=5,
        COMPRESS_MIN_SIZE=1024,
        COMPRESS_CACHE_KEY=cache_key,
        COMPRESS_CACHE_BACKEND=StaticCache,
    )
    Compress(server)
    if static_cache is not None:
        # after_request functions run last-registered first: this one before Flask-Compress's
        use_precompressed(server, Precompressed(static_cache))
