"""Fixtures for the auth engine: an in-memory OS keyring stand-in, the auth database,
a manual clock, an audit log."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from keyring.backend import KeyringBackend

from workstation.auth.audit import AuditLog
from workstation.auth.clock import ManualClock
from workstation.auth.db import AuthDatabase
from workstation.auth.keyring_store import SecretStore


class MemoryKeyring(KeyringBackend):
    """Stands in for the OS keyring: secrets in process memory, never on disk."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        import keyring.errors

        if (service, username) not in self.secrets:
            raise keyring.errors.PasswordDeleteError(username)
        del self.secrets[(service, username)]


@pytest.fixture
def memory_keyring() -> MemoryKeyring:
    return MemoryKeyring()


@pytest.fixture
def secret_store(memory_keyring: MemoryKeyring) -> SecretStore:
    return SecretStore(memory_keyring)


@pytest.fixture
def no_keyring_store() -> SecretStore:
    from keyring.backends import fail

    return SecretStore(fail.Keyring())


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def auth_db(tmp_path: Path) -> Iterator[AuthDatabase]:
    db = AuthDatabase.open(f"sqlite:///{tmp_path / 'auth.sqlite3'}")
    yield db
    db.close()


@pytest.fixture
def audit(auth_db: AuthDatabase, clock: ManualClock) -> AuditLog:
    return AuditLog(auth_db, clock=clock, workstation="test-ws")
