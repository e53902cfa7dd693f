"""``workstation login``/``logout`` and the network verbs' tokens: against the real
central auth API and the token-checked Orthanc, with an in-memory OS keyring.  Tokens
live in the keyring only; none is taken from the command line."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from tests.auth.conftest import MemoryKeyring
from workstation.cli import exit_codes, main

pytestmark = [pytest.mark.network, pytest.mark.orthanc, pytest.mark.postgres]


@pytest.fixture
def home(tmp_path: Path, auth_api: Any, orthanc: Any, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "ws"
    (home / "config").mkdir(parents=True)
    (home / "config" / "workstation.toml").write_text(
        f'[central]\nauth_url = "{auth_api.url}"\ndicomweb_url = "{orthanc.dicomweb_url}"\n'
    )
    monkeypatch.setenv("WORKSTATION_HOME", str(home))
    return home


def _run(monkeypatch: pytest.MonkeyPatch, *args: str, stdin: str = "") -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main(list(args))


def _entry(ring: MemoryKeyring) -> dict[str, Any]:
    (value,) = ring.secrets.values()
    return json.loads(value)


def _files_holding(root: Path, secret: str) -> list[Path]:
    return [
        p for p in root.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()
    ]  # fmt: skip


def test_login_keeps_tokens_in_the_keyring_and_the_verbs_use_and_refresh_them(
    home: Path,
    auth_api: Any,
    process_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    user, password = auth_api.admin_username, auth_api.admin_password
    # Not logged in: the central archive refuses the search.
    assert _run(monkeypatch, "find", "central", "--json") == exit_codes.FORBIDDEN
    # A wrong password stores nothing.
    bad = _run(monkeypatch, "login", "--username", user, "--password-stdin", stdin="nope\n")
    assert bad == exit_codes.FORBIDDEN and not process_keyring.secrets

    capsys.readouterr()
    ok = _run(monkeypatch, "login", "--username", user, "--password-stdin", "--json",
              stdin=password + "\n")  # fmt: skip
    assert ok == exit_codes.OK
    assert json.loads(capsys.readouterr().out)["role"] == "admin"
    first = _entry(process_keyring)
    assert first["username"] == user and first["access_token"] and first["refresh_token"]
    # Only in the keyring: nothing under the workstation's home holds either token.
    assert not _files_holding(home, first["access_token"])
    assert not _files_holding(home, first["refresh_token"])
    # No account name in clear in the keyring's key.
    assert all(user not in account for _svc, account in process_keyring.secrets)

    assert _run(monkeypatch, "find", "central", "--json") == exit_codes.OK
    assert isinstance(json.loads(capsys.readouterr().out), list)

    # An access token about to expire is refreshed before use, and the new pair stored.
    (key,) = process_keyring.secrets
    process_keyring.secrets[key] = json.dumps({**first, "expires_at": 0})
    assert _run(monkeypatch, "find", "central", "--json") == exit_codes.OK
    refreshed = _entry(process_keyring)
    assert refreshed["access_token"] != first["access_token"]
    assert refreshed["expires_at"] > 0

    # A token on the command line is not accepted at all.
    with pytest.raises(SystemExit) as exc:
        _run(monkeypatch, "find", "central", "--token", refreshed["access_token"])
    assert exc.value.code == exit_codes.USAGE

    assert _run(monkeypatch, "logout") == exit_codes.OK
    assert not process_keyring.secrets
    assert _run(monkeypatch, "find", "central", "--json") == exit_codes.FORBIDDEN
    # The central ended the session: the old refresh token no longer works.
    from workstation.auth.central_client import CentralAuthClient
    from workstation.auth.errors import AuthError

    client = CentralAuthClient(auth_api.url, timeout=10)
    with pytest.raises(AuthError):
        client.refresh(refreshed["refresh_token"])
    client.close()


def test_token_stdin_for_scripts(
    home: Path, orthanc: Any, process_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = orthanc.token("admin")
    assert _run(monkeypatch, "find", "central", "--json", "--token-stdin",
                stdin=token + "\n") == exit_codes.OK  # fmt: skip
    assert not process_keyring.secrets  # a script's token is not remembered
    assert _run(monkeypatch, "find", "central", "--json", "--token-stdin",
                stdin="not-a-token\n") == exit_codes.FORBIDDEN  # fmt: skip
