"""The OS keyring for real: a private D-Bus session bus with GNOME Keyring's Secret
Service (unlocked with a known password), keyring's SecretService backend, and a
login -> refresh -> logout round trip against the real central auth API.  The tokens
live in the Secret Service (read back over D-Bus), and no password or token is in clear
in any file under the data directory or the home directory (which holds the encrypted
keyring file)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from tests.auth.test_central_login import scan_for_secrets
from workstation.auth.audit import AuditLog
from workstation.auth.authenticator import Authenticator
from workstation.auth.central_client import CentralAuthClient
from workstation.auth.clock import ManualClock
from workstation.auth.keyring_store import SERVICE, SecretStore

pytestmark = pytest.mark.network

SECRETS_BUS_NAME = "org.freedesktop.secrets"
KEYRING_PASSWORD = "keyring-unlock-password"

#: A session bus with no service directories: nothing is D-Bus-activated behind our
#: back (a second, locked keyring daemon would make the backend prompt and hang).
BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


def _stop(proc: subprocess.Popen[Any]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _secrets_owned() -> bool:
    import secretstorage
    from jeepney.bus_messages import message_bus
    from jeepney.io.blocking import Proxy

    with closing(secretstorage.dbus_init()) as conn:
        return bool(Proxy(message_bus, conn).NameHasOwner(SECRETS_BUS_NAME)[0] == 1)


@pytest.fixture
def secret_service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A running, unlocked Secret Service on a private session bus; the HOME it uses."""
    missing = [t for t in ("dbus-daemon", "gnome-keyring-daemon") if shutil.which(t) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed (Debian: dbus-daemon, gnome-keyring)")
    pytest.importorskip("secretstorage", reason="secretstorage not installed")
    home, run = tmp_path / "home", tmp_path / "run"
    home.mkdir()
    run.mkdir(mode=0o700)
    env = {
        "HOME": str(home),
        "XDG_RUNTIME_DIR": str(run),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "DBUS_SESSION_BUS_ADDRESS": f"unix:path={run / 'bus'}",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    # tests/conftest.py pins the null backend; here keyring finds its backend itself (on
    # this private bus and HOME, never the developer's own keyring)
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    config = tmp_path / "session-bus.conf"
    config.write_text(BUS_CONFIG.format(socket=run / "bus"), encoding="utf-8")
    child_env = dict(os.environ)
    bus = subprocess.Popen(
        ["dbus-daemon", "--nofork", f"--config-file={config}"],
        env=child_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    daemon: subprocess.Popen[Any] | None = None
    try:
        _wait(lambda: (run / "bus").exists() or bus.poll() is not None, "the session bus")
        assert bus.poll() is None, bus.stderr.read() if bus.stderr else ""
        daemon = subprocess.Popen(
            ["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"],
            env=child_env,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        assert daemon.stdin is not None
        daemon.stdin.write(KEYRING_PASSWORD.encode())
        daemon.stdin.close()
        _wait(lambda: _secrets_owned() or daemon.poll() is not None, "the Secret Service")
        assert daemon.poll() is None, "gnome-keyring-daemon exited"
        yield home
    finally:
        if daemon is not None:
            _stop(daemon)
        _stop(bus)


def _wait(check: Any, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not come up within {timeout:.0f} s")
        time.sleep(0.05)


def _stored_secrets() -> list[tuple[dict[str, str], str]]:
    """Every item of our service in the Secret Service, read back over D-Bus."""
    import secretstorage

    with closing(secretstorage.dbus_init()) as conn:
        collection = secretstorage.get_default_collection(conn)
        assert not collection.is_locked()
        return [
            (item.get_attributes(), item.get_secret().decode("utf-8"))
            for item in collection.search_items({"service": SERVICE})
        ]


def test_default_keyring_is_the_secret_service(secret_service: Path) -> None:
    """A fresh process (the app at start) picks the Secret Service by itself and the
    store calls it usable."""
    code = (
        "from workstation.auth.keyring_store import SecretStore\n"
        "s = SecretStore()\n"
        "print(s.available, s.backend_name)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    ).stdout.split()
    assert out[0] == "True" and "SecretService" in out[1], out


def test_login_refresh_logout_in_the_real_secret_service(
    secret_service: Path, auth_api: Any, tmp_path: Path, clock: ManualClock
) -> None:
    from keyring.backends.SecretService import Keyring as SecretServiceKeyring

    from workstation.auth.db import AuthDatabase

    home, data = secret_service, tmp_path / "data"
    data.mkdir()
    store = SecretStore(SecretServiceKeyring())
    assert store.available
    db = AuthDatabase.open(f"sqlite:///{data / 'auth.sqlite3'}")
    audit = AuditLog(db, clock=clock)
    auth = Authenticator(
        audit=audit,
        store=store,
        central=CentralAuthClient(auth_api.url, timeout=10),
        clock=clock,
        offline_login_days=7,
    )
    name, password = auth_api.user_for("doctor")
    try:
        session = auth.login(name, password)
        first = session.tokens
        assert first is not None
        stored = _stored_secrets()
        blob = "\n".join(secret for _attrs, secret in stored)
        assert first.refresh_token in blob and first.access_token in blob
        assert password not in blob  # only the offline verifier (a hash) is kept
        assert len(stored) == 2  # the tokens and the offline verifier
        assert not any(name in v for attrs, _s in stored for v in attrs.values())

        second = auth.refresh_now(session)
        assert second.refresh_token != first.refresh_token
        blob = "\n".join(secret for _attrs, secret in _stored_secrets())
        assert second.refresh_token in blob and first.refresh_token not in blob
        # another client of the same Secret Service sees the same secret
        other = SecretStore(SecretServiceKeyring())
        key = next(a["username"] for a, s in _stored_secrets() if second.refresh_token in s)
        assert second.refresh_token in (other.get(key) or "")

        auth.logout(session)
        blob = "\n".join(secret for _attrs, secret in _stored_secrets())
        assert second.refresh_token not in blob and second.access_token not in blob
        assert len(_stored_secrets()) == 1  # the offline verifier stays for offline login
    finally:
        auth.close()
        db.close()

    secrets_seen = {
        password,
        KEYRING_PASSWORD,
        first.access_token,
        first.refresh_token,
        second.access_token,
        second.refresh_token,
    }
    keyring_files = list((home / ".local" / "share" / "keyrings").glob("*.keyring"))
    assert keyring_files  # the Secret Service wrote its (encrypted) file under HOME
    assert scan_for_secrets([home, data], secrets_seen) == []
    assert any(p.is_file() for p in data.rglob("*"))
