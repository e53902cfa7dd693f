"""The central auth API on a full disk (issue 16, Build 3): HTTP 507, not 500.

The API's data directory (SQLite database, keys) is a real 16 MB tmpfs, filled to the
last byte with a ballast file, so SQLite's own ENOSPC path runs ("database or disk is
full").  Writes are answered 507 ``storage_full`` with ``Retry-After`` and keep nothing;
reads and the health check go on; once space is freed the same request succeeds and the
audit hash chain verifies.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness.auth_api import AuthApiServer
from tests.harness.full_disk import fill_disk

pytestmark = pytest.mark.network


def _mount(point: Path, size_mb: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(point)],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip


@pytest.fixture
def server_on_small_disk(tmp_path: Path) -> Iterator[AuthApiServer]:
    if os.name != "posix" or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs a POSIX system with mount(8)")
    server = AuthApiServer(root=tmp_path / "auth", name="auth_api_disk_full", workers=1)
    server.data_dir.mkdir(parents=True)
    done = _mount(server.data_dir, 16)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a 16 MB tmpfs here (root needed): {done.stderr.strip()}")
    try:
        yield server.start()
    finally:
        server.stop()
        subprocess.run(["umount", "-l", str(server.data_dir)], capture_output=True, timeout=30,
                       check=False)  # fmt: skip


def _events(n: int) -> dict[str, object]:
    return {
        "events": [
            {
                "client_event_id": str(uuid.uuid4()),
                "occurred_at": "2026-12-01T08:00:00+00:00",
                "action": "study.opened",
                "details": {"note": uuid.uuid4().hex * 200},  # 6.4 kB each
            }
            for _ in range(n)
        ]
    }


def test_writes_on_a_full_disk_are_507_and_succeed_once_space_is_freed(
    server_on_small_disk: AuthApiServer,
) -> None:
    server = server_on_small_disk
    token = server.token_for("doctor")
    admin = server.admin_token()
    name, password = server.user_for("operator")
    assert server.request("POST", "/audit/events", token=token, json=_events(5)).status_code == 200
    ballast = fill_disk(server.data_dir)

    statuses = []
    for _ in range(20):  # SQLite may still have free pages: write until it has none
        rsp = server.request("POST", "/audit/events", token=token, json=_events(100))
        statuses.append(rsp.status_code)
        if rsp.status_code != 200:
            break
    assert statuses[-1] == 507, statuses
    assert set(statuses) <= {200, 507}
    body = rsp.json()
    assert (
        body["error"] == "storage_full" and "nothing of this request was saved" in body["message"]
    )
    assert rsp.headers["Retry-After"] == "60"
    assert server.request("GET", "/health").status_code == 200
    # Reads go on; a sign-in (it writes a session) is refused the same way.
    assert server.request("GET", "/auth/me", token=token).status_code == 200
    assert server.request("GET", "/audit/events", token=admin).status_code == 200
    login = server.request("POST", "/auth/login", json={"username": name, "password": password})
    assert login.status_code == 507, login.text

    ballast.unlink()
    again = server.request("POST", "/audit/events", token=token, json=_events(100))
    assert again.status_code == 200, again.text
    assert again.json()["recorded"] == 100
    assert (
        server.request(
            "POST", "/auth/login", json={"username": name, "password": password}
        ).status_code
        == 200
    )
    verified = server.cli("verify-audit", "--json")
    assert verified.returncode == 0, verified.stdout + verified.stderr
