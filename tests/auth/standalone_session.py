"""A signed-in standalone session for tests that need one without logging in."""

from __future__ import annotations

from workstation.auth.permissions import Role
from workstation.auth.session import Session, SessionMode


def standalone_session(
    username: str, role: Role, *, user_id: str = "1", keyring_available: bool = True
) -> Session:
    """A standalone-mode session of ``username`` with ``role``, started at time 0."""
    return Session(
        username=username,
        user_id=user_id,
        role=role,
        mode=SessionMode.STANDALONE,
        keyring_available=keyring_available,
        started_at=0.0,
    )
