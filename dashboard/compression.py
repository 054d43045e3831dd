"""Compressed responses (brotli or gzip); fingerprinted static files are compressed once.

Dash serves its JavaScript and our assets under versioned URLs, so their compressed bodies are
cached by URL; everything else (API answers, Dash callbacks) is compressed anew or not at all.
"""

from __future__ import annotations

import threading

from flask import Flask, Request
from flask_compress import Compress

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


def init_compression(server: Flask) -> None:
    """Compress text responses with brotli (or gzip); never PDFs, images or Socket.IO frames."""
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
