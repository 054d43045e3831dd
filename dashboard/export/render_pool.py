"""A small pool of warm ``render_worker`` processes, safe to use from gevent greenlets."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess  # nosec B404 # runs our own render worker only (see _start)
import sys
import threading
from typing import Any

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
INSTALL_HINT = "install Chromium on the server (Debian: apt-get install chromium)"


def find_chromium(configured: str = "") -> str | None:
    """The Chromium kaleido will drive, or None when there is none."""
    if configured:
        return configured if os.path.exists(configured) else None
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


class RenderError(RuntimeError):
    """Rendering failed; the message says why."""


class RenderPool:
    """Up to ``size`` render processes, started on first use and kept running."""

    def __init__(self, size: int = 1, chromium: str = "") -> None:
        """A pool (nothing starts until the first render)."""
        self.size = size
        self.chromium = chromium
        self._idle: list[subprocess.Popen] = []
        self._count = 0
        self._lock = threading.Lock()
        self._free = threading.Semaphore(size)

    def available(self) -> str | None:
        """None when reports can be rendered, else what is missing."""
        return None if find_chromium(self.chromium) else f"no Chromium found: {INSTALL_HINT}"

    def _start(self) -> subprocess.Popen:
        """A new worker process."""
        env = dict(os.environ)
        browser = find_chromium(self.chromium)
        if browser:
            env["BROWSER_PATH"] = browser
        # a fixed argv (this interpreter, our own module), no shell, no user input
        return subprocess.Popen(  # nosec B603
            [sys.executable, "-m", "dashboard.export.render_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
            bufsize=1,
        )

    def render(
        self, figures: list[dict[str, Any]], width: int = 900, height: int = 360
    ) -> list[bytes]:
        """PNG bytes for each figure."""
        missing = self.available()
        if missing:
            raise RenderError(missing)
        with self._free:
            with self._lock:
                proc = self._idle.pop() if self._idle else self._start()
            try:
                assert proc.stdin is not None and proc.stdout is not None
                proc.stdin.write(
                    json.dumps({"figures": figures, "width": width, "height": height}) + "\n"
                )
                proc.stdin.flush()
                line = proc.stdout.readline()
                if not line:
                    raise RenderError("the render process ended")
                answer = json.loads(line)
            except Exception:
                proc.kill()
                raise
            with self._lock:
                self._idle.append(proc)
        if "error" in answer:
            raise RenderError(answer["error"])
        return [base64.b64decode(image) for image in answer["images"]]

    def close(self) -> None:
        """Stop every worker."""
        with self._lock:
            for proc in self._idle:
                if proc.stdin:
                    proc.stdin.close()
                proc.terminate()
            self._idle.clear()
