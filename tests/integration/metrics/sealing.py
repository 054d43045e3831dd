"""A database store read back after its head is sealed into chunks, for the store contracts.

The stores seal their head (recent points as rows) into compressed chunks every minute; a
contract run on ``Sealed(store)`` seals after every write, so every later write of the same
points meets them in a chunk (merged, replaced, re-encoded) and every read decodes chunks.
"""

from __future__ import annotations

from typing import Any

from dashboard.metrics.model import Batch


class Sealed:
    """``store`` with its head sealed into chunks after every write."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self.kind = store.kind

    def write(self, batch: Batch) -> int:
        """Write, then seal."""
        n = self._store.write(batch)
        self._store.seal()
        return n

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)
