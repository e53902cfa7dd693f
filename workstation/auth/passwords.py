"""Password hashing (argon2id) and the local password policy."""

from __future__ import annotations

import argon2
import argon2.exceptions

from workstation.i18n import _

#: argon2-cffi's RFC 9106 "low memory" profile: about 0.25 s and 64 MiB here.
_HASHER = argon2.PasswordHasher()

MIN_LENGTH = 8


def hash_password(password: str) -> str:
    """An argon2id hash string (salted; parameters inside)."""
    return _HASHER.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    """True when ``password`` matches ``stored_hash``; never raises on a mismatch."""
    if not stored_hash:
        return False
    try:
        return _HASHER.verify(stored_hash, password)
    except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _HASHER.check_needs_rehash(stored_hash)


def password_problem(password: str, username: str) -> str | None:
    """Why a new local password is not acceptable, or None when it is."""
    if len(password) < MIN_LENGTH:
        return _("The password needs at least {n} characters.").format(n=MIN_LENGTH)
    if password.strip().lower() == username.strip().lower():
        return _("The password must not be the user name.")
    if len(set(password)) < 4:
        return _("The password is too simple: use more different characters.")
    return None
