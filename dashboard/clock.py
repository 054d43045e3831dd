"""The wall clock, in the units the whole project uses (Unix milliseconds)."""

from __future__ import annotations

import time


def now_ms() -> int:
    """Wall-clock time in Unix milliseconds."""
    return time.time_ns() // 1_000_000
