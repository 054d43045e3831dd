"""Password hashing with Argon2id at OWASP's parameters (argon2-cffi)."""

from __future__ import annotations

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# OWASP Password Storage Cheat Sheet: Argon2id, 19 MiB of memory, 2 iterations, 1 lane.
HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1, type=Type.ID)


def hash_password(password: str, hasher: PasswordHasher = HASHER) -> str:
    """An Argon2id hash of the password (salted, with its parameters encoded)."""
    return hasher.hash(password)


def verify_password(
    stored_hash: str, password: str, hasher: PasswordHasher = HASHER
) -> tuple[bool, str | None]:
    """``(ok, new_hash)``: new_hash is set when the stored hash used other parameters."""
    try:
        hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False, None
    if hasher.check_needs_rehash(stored_hash):
        return True, hasher.hash(password)
    return True, None


# A valid hash of a random password, verified when the user does not exist, so that an unknown
# user costs the same time as a wrong password.
DUMMY_HASH = HASHER.hash("not-a-password-anyone-has")
