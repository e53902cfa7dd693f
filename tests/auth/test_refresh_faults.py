"""The central auth API goes away while a session renews its tokens (issue 16, Build 4):
frozen (SIGSTOP of gunicorn and its workers: the refresh request hangs), killed (kill -9:
refused), restarted on the same port.

The user stays logged in with the role's permissions (local work goes on), the session
says why the login cannot be renewed (``Session.central_problem``, for the status bar),
and the refresh token still works once the server is back.  ``workstation login`` against
the frozen server ends within the client timeout with exit 5 and a sentence.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.auth.conftest import MemoryKeyring
from tests.harness.faults import freeze, frozen, kill_9, thaw
from workstation.auth.audit import AuditLog
from workstation.auth.authenticator import Authenticator
from workstation.auth.central_client import CentralAuthClient
from workstation.auth.clock import ManualClock
from workstation.auth.errors import CentralUnavailable
from workstation.auth.keyring_store import SecretStore
from workstation.auth.permissions import Permission
from workstation.auth.session import SessionMode
from workstation.auth.token_provider import SessionTokenProvider

pytestmark = pytest.mark.network

CLIENT_TIMEOUT_S = 2.0
SLACK_S = 8.0


@pytest.fixture(scope="module")
def short_tokens(auth_api_factory: Any) -> Iterator[Any]:
    """An auth API of its own (frozen and killed here) with 15-second access tokens."""
    server = auth_api_factory(name="auth_api_faults", access_token_seconds=15)
    yield server
    if server.proc is not None:
        thaw(server.proc.pid)


def _wait(check: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    pytest.fail(f"{what} within {timeout:.0f} s")


def test_a_session_outlives_a_frozen_then_killed_auth_api(
    short_tokens: Any, audit: AuditLog, secret_store: SecretStore, clock: ManualClock
) -> None:
    server = short_tokens
    name, password = server.user_for("doctor")
    auth = Authenticator(
        audit=audit, store=secret_store, clock=clock,
        central=CentralAuthClient(server.url, timeout=CLIENT_TIMEOUT_S),
    )  # fmt: skip
    session = auth.login(name, password)
    provider = SessionTokenProvider(auth, session)
    first = session.tokens
    assert first is not None and session.central_problem == ""
    pid = server.proc.pid
    try:
        # Frozen while the session renews: the request hangs until the client timeout.
        freeze(pid)
        started = time.monotonic()
        with pytest.raises(CentralUnavailable):
            auth.refresh_now(session)
        assert time.monotonic() - started < CLIENT_TIMEOUT_S + SLACK_S
        assert "cannot be reached; you stay logged in" in session.central_problem
        assert server.url in session.central_problem
        assert provider.renewal_problem() == session.central_problem  # for DICOMweb errors
        # Past the access token's expiry: still logged in, still allowed to work here.
        _wait(lambda: time.time() > first.expires_at, 30, "the access token to expire")
        assert session.active and session.mode is SessionMode.CENTRAL
        assert session.can(Permission.REPORT_WRITE)
        assert provider.access_token() == first.access_token  # kept, not dropped
        thaw(pid)
        # Back: the next request renews the login with the same refresh token.
        fresh = provider.access_token()
        assert fresh and fresh != first.access_token
        assert session.central_problem == ""
        # Killed mid-session: refused at once, same status; restarted: renewed again.
        kill_9(pid)
        server.proc.wait(timeout=10)
        with pytest.raises(CentralUnavailable):
            auth.refresh_now(session)
        assert "cannot be reached" in session.central_problem and session.active
        server.restart()
        auth.refresh_now(session)
        assert session.central_problem == "" and session.access_token not in (fresh, None)
    finally:
        thaw(server.proc.pid)
        auth.close()


def test_cli_login_against_a_frozen_auth_api_says_so_within_its_timeout(
    short_tokens: Any,
    process_keyring: MemoryKeyring,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from workstation.cli import exit_codes, main

    home = tmp_path / "ws"
    (home / "config").mkdir(parents=True)
    (home / "config" / "workstation.toml").write_text(
        f'[central]\nauth_url = "{short_tokens.url}"\ntimeout_seconds = {CLIENT_TIMEOUT_S}\n'
    )
    monkeypatch.setenv("WORKSTATION_HOME", str(home))
    name, password = short_tokens.user_for("operator")
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    with frozen(short_tokens.proc.pid):
        started = time.monotonic()
        code = main(["login", "--username", name, "--password-stdin"])
        took = time.monotonic() - started
    assert code == exit_codes.PEER_ERROR
    assert took < CLIENT_TIMEOUT_S + SLACK_S
    err = capsys.readouterr().err
    assert f"the central server at {short_tokens.url} cannot be reached; try again later" in err
    assert not process_keyring.secrets  # nothing half-saved
