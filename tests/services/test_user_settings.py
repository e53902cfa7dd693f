from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from tests.auth.standalone_session import standalone_session
from workstation.auth.audit import AuditLog
from workstation.auth.db import AuthDatabase
from workstation.auth.errors import AuthError, PermissionDenied
from workstation.auth.permissions import Role
from workstation.auth.session import Session
from workstation.config import load_settings
from workstation.services.user_settings import can_edit, save_user_settings, write_toml


def _session(role: Role) -> Session:
    return standalone_session(role.value, role)


@pytest.fixture
def audit(settings):  # type: ignore[no-untyped-def]
    db = AuthDatabase.from_settings(settings)
    yield AuditLog(db)
    db.close()


def test_admin_saves_nodes_and_they_load_back(settings, audit: AuditLog) -> None:  # type: ignore[no-untyped-def]
    admin = _session(Role.ADMIN)
    peers = [
        {
            "name": "CENTRAL",
            "ae_title": "ORTHANC",
            "host": "10.0.0.5",
            "port": 4242,
            "may_store": True,
            "may_query": True,
            "may_retrieve": False,
        }
    ]
    path = save_user_settings(
        settings,
        admin,
        {"node.peers": peers, "security.idle_lock_minutes": 3, "central.dicomweb_url": 'x"y'},
        audit,
    )
    again = load_settings()
    assert again.node.peers[0].ae_title == "ORTHANC" and again.node.peers[0].port == 4242
    assert again.security.idle_lock_minutes == 3 and again.central.dicomweb_url == 'x"y'
    assert path == settings.user_config_file
    event = audit.events(action="settings_change")[-1]
    assert event.detail["keys"] == [
        "central.dicomweb_url",
        "node.peers",
        "security.idle_lock_minutes",
    ]


def test_roles_and_site_locks(
    settings,
    audit: AuditLog,
    tmp_path: Path,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    operator = _session(Role.OPERATOR)
    assert can_edit(settings, operator, "general.language") == (True, "")
    assert not can_edit(settings, operator, "node.peers")[0]
    with pytest.raises(PermissionDenied):
        save_user_settings(settings, operator, {"node.port": 104}, audit)
    denied = audit.events(action="permission_denied")[-1]
    assert denied.outcome == "denied" and denied.actor == operator.username
    assert denied.detail["permission"] == "nodes.manage"
    assert denied.detail["keys"] == ["node.port"]
    save_user_settings(settings, operator, {"general.language": "en"}, audit)
    site = tmp_path / "site.toml"
    site.write_text('locked = ["central.auth_url"]\n[central]\nauth_url = "https://c"\n')
    monkeypatch.setenv("WORKSTATION_SITE_CONFIG", str(site))
    locked = load_settings()
    ok, why = can_edit(locked, _session(Role.ADMIN), "central.auth_url")
    assert not ok and "site" in why
    with pytest.raises(AuthError):
        save_user_settings(locked, _session(Role.ADMIN), {"central.auth_url": ""}, audit)


def test_toml_writer_round_trips(tmp_path: Path) -> None:
    data = {
        "node": {"ae_title": "WS1", "port": 11112, "peers": [{"name": "A", "may_store": True}]},
        "central": {"auth_url": "https://x/\\\\y", "verify_tls": False},
        "general": {"language": "ru", "note": 'кириллица "quoted"\nnext line'},
    }
    path = tmp_path / "user.toml"
    write_toml(path, data)
    assert tomllib.loads(path.read_text(encoding="utf-8")) == data
    assert not list(tmp_path.glob(".settings-*"))  # the temporary file is gone
