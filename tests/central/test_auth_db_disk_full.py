"""The central auth API's PostgreSQL out of disk (issue 16, loose end).

The API runs on a database of the session's real PostgreSQL whose tablespace sits on a
small tmpfs (its WAL stays on the server's own disk, as on a site whose data volume
fills).  The tmpfs is filled to the last byte, then sign-ins, token renewals and audit
batches are sent until each is refused: every refusal is **507** ``storage_full`` with
``Retry-After``, nothing answered 2xx is missing afterwards and nothing refused was
kept (audit batches are idempotent by ``client_event_id``: sent again, the refused ones
are "recorded", the accepted ones "duplicate"; a refused renewal leaves its refresh
token valid).  The API process does not crash and, once the ballast is deleted, takes
the same requests again without a restart.

What the workstation shows meanwhile: ``workstation login`` ends with exit 5 and
"the central server at URL cannot store anything at the moment (its disk is full);
nothing was saved. Try again later."; a session's renewal keeps the user logged in with
``Session.central_problem`` saying so; a sign-in with the offline fall-back (the app's
login window) gives an offline session whose ``central_problem`` (the main window's
central banner) says the same; the audit forwarder keeps its events pending with the
same sentence.

Needs root to mount (skipped with the reason otherwise); the mount, tablespace and
database are removed even when the test fails.
"""

from __future__ import annotations

import io
import os
import secrets
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.auth.conftest import MemoryKeyring
from tests.harness.auth_api import AuthApiServer
from tests.harness.full_disk import fill_disk

pytestmark = [pytest.mark.network, pytest.mark.postgres]

TMPFS_MB = 24  # a new database copies template1 (about 8 MB) into the tablespace
MAX_TRIES = 400
STORAGE_FULL_TEXT = "cannot store anything at the moment (its disk is full)"


def _psql(postgres: Any, sql: str) -> None:
    import psycopg

    with psycopg.connect(
        host=postgres.host, port=postgres.port, user=postgres.user,
        password=postgres.password, dbname="postgres", autocommit=True,
    ) as conn:  # fmt: skip
        conn.execute(sql)


def _mount_tmpfs(point: Path, size_mb: int) -> str:
    """'' when mounted, else why not."""
    if os.name != "posix" or shutil.which("mount") is None or os.geteuid() != 0:
        return "mounting a tmpfs needs root on a POSIX system with mount(8)"
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_mb}m,mode=0755", "tmpfs", str(point)],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    return "" if done.returncode == 0 else f"cannot mount a tmpfs here: {done.stderr.strip()}"


@pytest.fixture
def small_disk_api(postgres: Any) -> Iterator[tuple[AuthApiServer, Path]]:
    """(auth API on a database in a tablespace on a small tmpfs, that tmpfs)."""
    root = Path(tempfile.mkdtemp(prefix="klinika-pg-full-"))
    os.chmod(root, 0o755)  # the postgres user walks into it
    mount = root / "small"
    mount.mkdir()
    why = _mount_tmpfs(mount, TMPFS_MB)
    if why:
        shutil.rmtree(root, ignore_errors=True)
        pytest.skip(why)
    suffix = secrets.token_hex(4)
    space, database = f"small_{suffix}", f"auth_full_{suffix}"
    server: AuthApiServer | None = None
    try:
        location = mount / "pg"
        location.mkdir()
        if os.geteuid() == 0:
            shutil.chown(location, "postgres", "postgres")
        _psql(postgres, f"CREATE TABLESPACE {space} LOCATION '{location}'")
        _psql(postgres, f'CREATE DATABASE "{database}" TABLESPACE {space}')
        server = AuthApiServer(
            root=root / "auth", database_url=postgres.url(database),
            name="auth_api_pg_disk_full", workers=1,
        )  # fmt: skip
        server.data_dir.mkdir(parents=True)
        yield server.start(), mount
    finally:
        if server is not None:
            server.stop()
        for sql in (f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)',
                    f"DROP TABLESPACE IF EXISTS {space}"):  # fmt: skip
            try:
                _psql(postgres, sql)
            except Exception as exc:  # noqa: BLE001 - the unmount must still run
                print(f"cleanup: {sql}: {exc}")
        subprocess.run(["umount", "-l", str(mount)], capture_output=True, timeout=30,
                       check=False)  # fmt: skip
        shutil.rmtree(root, ignore_errors=True)


def _batch(n: int) -> dict[str, Any]:
    """Audit events with incompressible details (they need new pages, TOAST too)."""
    return {
        "events": [
            {
                "client_event_id": str(uuid.uuid4()),
                "occurred_at": "2026-12-01T08:00:00+00:00",
                "action": "study.opened",
                "details": {"note": secrets.token_hex(1500)},
            }
            for _ in range(n)
        ]
    }


def _assert_storage_full(rsp: requests.Response) -> None:
    assert rsp.status_code == 507, (rsp.status_code, rsp.text[:300])
    body = rsp.json()
    assert body["error"] == "storage_full", body
    assert "nothing of this request was saved" in body["message"], body
    assert rsp.headers["Retry-After"] == "60"


def _until_refused(send: Any, accepted: list[Any]) -> requests.Response:
    """Call ``send()`` until it is not 200; what it answered 200 goes to ``accepted``."""
    for _ in range(MAX_TRIES):
        rsp, item = send()
        if rsp.status_code != 200:
            return rsp  # type: ignore[no-any-return]
        accepted.append((item, rsp))
    pytest.fail(f"still accepted after {MAX_TRIES} tries on a full disk")


def test_postgres_out_of_disk_is_507_nothing_acknowledged_is_lost_and_it_recovers(
    small_disk_api: tuple[AuthApiServer, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import keyring

    from workstation.auth.audit import AuditLog
    from workstation.auth.audit_forwarder import AuditForwarder, ForwardError, central_poster
    from workstation.auth.authenticator import Authenticator
    from workstation.auth.central_client import CentralAuthClient
    from workstation.auth.clock import ManualClock
    from workstation.auth.db import AuthDatabase
    from workstation.auth.errors import CentralStorageFull
    from workstation.auth.keyring_store import SecretStore
    from workstation.auth.permissions import Permission
    from workstation.auth.session import SessionMode
    from workstation.cli import exit_codes, main

    server, mount = small_disk_api
    name, password = server.user_for("doctor")
    token = server.token_for("doctor")
    admin = server.admin_token()
    assert server.request("POST", "/audit/events", token=token, json=_batch(3)).status_code == 200
    # The workstation's side: a central session and a local audit log to forward.
    local = AuthDatabase.open(f"sqlite:///{tmp_path / 'ws-auth.sqlite3'}")
    clock = ManualClock()
    audit = AuditLog(local, clock=clock, workstation="disk-full-ws")
    client = CentralAuthClient(server.url, timeout=10)
    auth = Authenticator(audit=audit, store=SecretStore(MemoryKeyring()), clock=clock,
                         central=client)  # fmt: skip
    session = auth.login(name, password, allow_offline=False)
    assert session.tokens is not None
    forwarder = AuditForwarder(
        audit, central_poster(client, lambda: session.access_token), target="disk-full-test"
    )
    forwarder.forward_pending()
    assert forwarder.pending() == 0
    refresh_tokens = [server.login(name, password)["refresh_token"] for _ in range(2)]

    ballast = fill_disk(mount)
    try:
        # Audit batches until refused: each refusal is a 507 (no 500, no 2xx unkept).
        refused_batches: list[dict[str, Any]] = []
        accepted_batches: list[Any] = []

        def send_batch() -> tuple[requests.Response, dict[str, Any]]:
            batch = _batch(20)
            return server.request("POST", "/audit/events", token=token, json=batch), batch

        rsp = _until_refused(send_batch, accepted_batches)
        _assert_storage_full(rsp)
        for _ in range(3):  # and stays refused
            batch = _batch(20)
            again = server.request("POST", "/audit/events", token=token, json=batch)
            _assert_storage_full(again)
            refused_batches.append(batch)

        # Sign-ins until refused; each accepted one is a working login.
        accepted_logins: list[Any] = []

        def send_login() -> tuple[requests.Response, None]:
            body = {"username": name, "password": password}
            return server.request("POST", "/auth/login", json=body), None

        _assert_storage_full(_until_refused(send_login, accepted_logins))

        # Renewals until refused: the refused refresh token must stay valid.
        current = refresh_tokens[0]
        accepted_refreshes: list[Any] = []

        def send_refresh() -> tuple[requests.Response, str]:
            nonlocal current
            rsp = server.request("POST", "/auth/refresh", json={"refresh_token": current})
            if rsp.status_code == 200:
                current = rsp.json()["refresh_token"]
            return rsp, current

        _assert_storage_full(_until_refused(send_refresh, accepted_refreshes))
        refused_refresh = current
        with capsys.disabled():
            print(
                f"accepted on the full disk before the first 507: {len(accepted_batches)} audit "
                f"batches, {len(accepted_logins)} sign-ins, {len(accepted_refreshes)} renewals"
            )

        # Reads and the health check go on; the API process is alive.
        assert server.proc is not None and server.proc.poll() is None
        assert server.request("GET", "/health").status_code == 200
        assert server.request("GET", "/auth/me", token=token).status_code == 200
        assert server.request("GET", "/audit/events", token=admin).status_code == 200

        # What the workstation shows.  Its session renewal: still logged in, told why.
        with pytest.raises(CentralStorageFull):
            auth.refresh_now(session)
        assert session.active and session.can(Permission.STUDY_VIEW)
        assert STORAGE_FULL_TEXT in session.central_problem, session.central_problem
        assert "you stay logged in" in session.central_problem
        # A sign-in at the workstation (no offline fall-back asked for) says so.
        with pytest.raises(CentralStorageFull) as login_failed:
            auth.login(name, password, allow_offline=False)
        assert STORAGE_FULL_TEXT in str(login_failed.value) and "Try again later" in str(
            login_failed.value
        )
        # With the offline fall-back (the app's login window): an offline session that
        # says why (the main window's central banner shows ``central_problem``).
        offline = auth.login(name, password)
        assert offline.mode is SessionMode.OFFLINE
        assert STORAGE_FULL_TEXT in offline.central_problem, offline.central_problem
        auth.logout(offline)
        # Audit forwarding keeps its events, with the same sentence.
        audit.record("study.opened", actor=name, target="1.2.3")
        before = forwarder.pending()
        assert before > 0
        with pytest.raises(ForwardError, match="cannot store anything"):
            forwarder.forward_pending()
        assert forwarder.pending() == before
        # ``workstation login``: exit 5 (try again), the sentence, nothing in the keyring.
        home = tmp_path / "ws"
        (home / "config").mkdir(parents=True)
        (home / "config" / "workstation.toml").write_text(
            f'[central]\nauth_url = "{server.url}"\ntimeout_seconds = 10\n'
        )
        monkeypatch.setenv("WORKSTATION_HOME", str(home))
        monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
        ring = MemoryKeyring()
        previous = keyring.get_keyring()
        keyring.set_keyring(ring)
        try:
            code = main(["login", "--username", name, "--password-stdin"])
        finally:
            keyring.set_keyring(previous)
        err = capsys.readouterr().err
        assert code == exit_codes.PEER_ERROR, err
        assert f"Login failed: The central server at {server.url} {STORAGE_FULL_TEXT}" in err
        assert not ring.secrets
    finally:
        ballast.unlink()

    # Space is back: the same API process (no restart) takes everything again.
    assert server.proc is not None and server.proc.poll() is None
    for batch in refused_batches:  # never kept: recorded now, none a duplicate
        rsp = server.request("POST", "/audit/events", token=token, json=batch)
        assert rsp.status_code == 200, rsp.text[:300]
        assert (rsp.json()["recorded"], rsp.json()["duplicates"]) == (20, 0), rsp.json()
    for batch, _first in accepted_batches:  # all kept: duplicates
        rsp = server.request("POST", "/audit/events", token=token, json=batch)
        assert (rsp.json()["recorded"], rsp.json()["duplicates"]) == (0, 20), rsp.json()
    for _none, rsp in accepted_logins:  # every accepted sign-in works
        access = rsp.json()["access_token"]
        assert server.request("GET", "/auth/me", token=access).status_code == 200
    renewed = server.request("POST", "/auth/refresh", json={"refresh_token": refused_refresh})
    assert renewed.status_code == 200, renewed.text[:300]
    auth.refresh_now(session)
    assert session.central_problem == ""
    assert forwarder.forward_pending() >= 1 and forwarder.pending() == 0
    login = server.request("POST", "/auth/login", json={"username": name, "password": password})
    assert login.status_code == 200, login.text[:300]
    verified = server.cli("verify-audit", "--json")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    auth.logout(session)
    auth.close()
    local.close()
