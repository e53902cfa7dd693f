"""argon2id password hashes and the password policy.

Policy: at least ``password_min_length`` characters (at most 256), at least five different
characters, not the user name or containing it, and not a common password, also after
trailing digits and symbols are removed and simple substitutions (``p@ssw0rd``) undone.
"""

from __future__ import annotations

import functools
import secrets
import string
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from klinika_auth.errors import ApiError

MAX_PASSWORD_LENGTH = 256
_LEET = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"}
)
_TAIL = string.digits + string.punctuation + " "


@functools.cache
def common_passwords() -> frozenset[str]:
    text = resources.files("klinika_auth").joinpath("data/common-passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def _is_common(password: str) -> bool:
    lowered = password.lower()
    stripped = lowered.rstrip(_TAIL).lstrip(_TAIL)
    candidates = {lowered, stripped, lowered.translate(_LEET), stripped.translate(_LEET)}
    candidates.add(lowered.translate(_LEET).rstrip(_TAIL))
    return not stripped or bool(candidates & common_passwords())


def policy_problems(password: str, username: str, min_length: int) -> list[str]:
    """What is wrong with ``password`` for ``username``, in words a person can act on."""
    problems = []
    if len(password) < min_length:
        problems.append(f"Use at least {min_length} characters.")
    if len(password) > MAX_PASSWORD_LENGTH:
        problems.append(f"Use at most {MAX_PASSWORD_LENGTH} characters.")
    if len(set(password)) < 5:
        problems.append("Use at least five different characters.")
    name = username.strip().lower()
    if len(name) >= 3 and name in password.lower():
        problems.append("Do not use the user name in the password.")
    if _is_common(password):
        problems.append("This password is too common; choose one that is hard to guess.")
    return problems


def enforce_policy(password: str, username: str, min_length: int) -> None:
    problems = policy_problems(password, username, min_length)
    if problems:
        raise ApiError(
            400,
            "weak_password",
            "The password does not meet the policy: " + " ".join(problems),
            problems=problems,
        )


class Hasher:
    """argon2id with the site's cost parameters, plus a dummy hash for unknown users so a
    wrong user name takes as long to refuse as a wrong password."""

    def __init__(self, time_cost: int, memory_kib: int, parallelism: int) -> None:
        self._ph = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism
        )
        self._dummy = self._ph.hash(secrets.token_urlsafe(24))

    def hash(self, password: str) -> str:
        return self._ph.hash(password)

    def verify(self, stored_hash: str | None, password: str) -> bool:
        """True when ``password`` matches; with ``stored_hash`` None, spend the same time."""
        too_long = len(password) > MAX_PASSWORD_LENGTH
        target = self._dummy if stored_hash is None or too_long else stored_hash
        try:
            ok = self._ph.verify(target, password[:MAX_PASSWORD_LENGTH])
        except (VerificationError, InvalidHashError):
            return False
        return ok and target is stored_hash

    def needs_rehash(self, stored_hash: str) -> bool:
        return self._ph.check_needs_rehash(stored_hash)
