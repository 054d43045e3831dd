"""Secrets kept at rest (webhook URLs): encrypted with a key derived from the node's secret.

The key is HKDF-SHA256 over ``DASHBOARD_SECRET_KEY`` (or the secret kept in the data folder),
so every node with the same secret reads what another wrote; the cipher is Fernet (AES-128-CBC
with HMAC-SHA256). A sealed value reads ``enc:v1:<token>``; a value without the prefix is a
plain one written before encryption, read as it is and sealed on the next write.
"""

from __future__ import annotations

import base64
import logging

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

log = logging.getLogger(__name__)

PREFIX = "enc:v1:"
_INFO = b"dashboard: secrets at rest v1"


class SecretBox:
    """Seals and opens short secrets with a key derived from ``secret``."""

    def __init__(self, secret: str) -> None:
        """A box for the node secret ``secret`` (never empty)."""
        if not secret:
            raise ValueError("a secret box needs a non-empty secret")
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
            secret.encode()
        )
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    def seal(self, plain: str) -> str:
        """``plain`` encrypted (``""`` stays ``""``)."""
        if not plain:
            return ""
        return PREFIX + self._fernet.encrypt(plain.encode()).decode("ascii")

    def open(self, stored: str) -> str:
        """The plain value of ``stored``: decrypted when sealed, as is when it is an old plain
        value; ``""`` (and a warning) when it was sealed with another secret."""
        if not stored.startswith(PREFIX):
            return stored
        try:
            return self._fernet.decrypt(stored[len(PREFIX) :].encode("ascii")).decode()
        except (InvalidToken, ValueError):
            log.warning(
                "a stored secret cannot be decrypted (was DASHBOARD_SECRET_KEY changed?);"
                " it reads as unset until it is saved again"
            )
            return ""

    def try_open(self, stored: str) -> str | None:
        """Like ``open``, but None (and no warning) when ``stored`` was sealed with another
        secret: for a caller trying candidate secrets (``dashboard db copy``)."""
        if not stored.startswith(PREFIX):
            return stored
        try:
            return self._fernet.decrypt(stored[len(PREFIX) :].encode("ascii")).decode()
        except (InvalidToken, ValueError):
            return None


def is_sealed(stored: str) -> bool:
    """True when ``stored`` is an encrypted value (not an old plain one)."""
    return stored.startswith(PREFIX)
