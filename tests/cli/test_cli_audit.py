"""The CLI acts through the services: every verb that reads out, changes or sends patient
data is permission-checked and audited with the channel ``cli`` and the OS user; the
``audit`` and ``users`` verbs.  The real ``workstation`` command, run as a subprocess."""

from __future__ import annotations

import getpass
import os
from pathlib import Path

import pytest

from tests.cli.workstation_process import workstation
from tests.pacs_node.archive.synth import write_series
from workstation.cli import exit_codes

ADMIN_PW = "Admin-password-1"
OPERATOR_PW = "Operator-password-1"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "ws-home"


@pytest.fixture
def study_uid(home: Path, tmp_path: Path) -> str:
    """One synthetic CT study imported by the command line."""
    write_series(tmp_path / "in", 3, patient_name="Test^Audit", patient_id="A1")
    assert workstation(home, "import", str(tmp_path / "in")).code == exit_codes.OK
    (study,) = workstation(home, "studies", "--json").json()
    return str(study["study_instance_uid"])


def _events(home: Path, *args: str) -> list[dict[str, object]]:
    run = workstation(home, "audit", "--json", *args)
    assert run.code == exit_codes.OK, run.err
    events: list[dict[str, object]] = run.json()
    return events


def test_archive_export_from_a_shell_shows_in_audit_json_with_channel_and_os_user(
    home: Path, study_uid: str, tmp_path: Path
) -> None:
    run = workstation(home, "archive", "export", study_uid, "--to", str(tmp_path / "x.zip"))
    assert run.code == exit_codes.OK, run.err
    (event,) = _events(home, "--action", "study_export")
    assert event["study_instance_uid"] == study_uid
    assert event["channel"] == "cli"
    assert event["os_user"] == getpass.getuser()
    assert event["actor"] == getpass.getuser() and event["account"] is None
    assert event["outcome"] == "success" and event["detail"]["files"] == 3  # type: ignore[index]
    # The import that brought the study in is there too, on the same channel.
    (imported,) = _events(home, "--action", "study_import")
    assert imported["channel"] == "cli" and imported["study_instance_uid"] == study_uid


def test_export_into_a_missing_folder_is_refused_and_creates_nothing(
    home: Path, study_uid: str, tmp_path: Path
) -> None:
    target = tmp_path / "no" / "such" / "dir" / "x.zip"
    run = workstation(home, "archive", "export", study_uid, "--to", str(target))
    assert run.code == exit_codes.NOT_FOUND
    assert str(tmp_path / "no") in run.err and "does not exist" in run.err
    assert not (tmp_path / "no").exists()
    # A new folder inside an existing one is fine.
    assert (
        workstation(home, "archive", "export", study_uid, "--to", str(tmp_path / "out")).code == 0
    )
    assert len(list((tmp_path / "out").rglob("*.dcm"))) == 3


def test_accounts_roles_and_refusals_are_checked_and_audited(
    home: Path, study_uid: str, tmp_path: Path
) -> None:
    # The very first administrator needs no --user; the next account does.
    first = workstation(home, "users", "add", "alice", "--role", "admin", "--password-stdin",
                        stdin=ADMIN_PW + "\n")  # fmt: skip
    assert first.code == exit_codes.OK, first.err
    no_user = workstation(home, "users", "add", "bob", "--role", "operator", "--password-stdin",
                          stdin=OPERATOR_PW + "\n")  # fmt: skip
    assert no_user.code == exit_codes.FORBIDDEN
    added = workstation(
        home, "users", "add", "bob", "--role", "operator", "--user", "alice",
        "--password-stdin", stdin=f"{ADMIN_PW}\n{OPERATOR_PW}\n",
    )  # fmt: skip
    assert added.code == exit_codes.OK, added.err
    listed = workstation(home, "users", "list", "--json").json()
    assert {(u["username"], u["role"]) for u in listed} == {("alice", "admin"), ("bob", "operator")}

    # An operator may not export: refused, exit 7, and the refusal is audited.
    out = tmp_path / "bob.zip"
    refused = workstation(home, "archive", "export", study_uid, "--to", str(out),
                          "--user", "bob", "--password-stdin", stdin=OPERATOR_PW + "\n")  # fmt: skip
    assert refused.code == exit_codes.FORBIDDEN and "operator" in refused.err
    assert not out.exists()
    (denied,) = _events(home, "--action", "permission_denied")
    assert (denied["actor"], denied["account"], denied["channel"]) == ("bob", "bob", "cli")
    assert denied["outcome"] == "denied" and denied["study_instance_uid"] == study_uid
    # A wrong password: refused and audited as a failed login.
    wrong = workstation(home, "archive", "export", study_uid, "--to", str(out),
                        "--user", "alice", "--password-stdin", stdin="nope\n")  # fmt: skip
    assert wrong.code == exit_codes.FORBIDDEN and not out.exists()
    assert _events(home, "--action", "login_failed")[0]["actor"] == "alice"
    # The administrator exports; the event names the account and the OS user.
    ok = workstation(home, "archive", "export", study_uid, "--to", str(out),
                     "--user", "alice", "--password-stdin", stdin=ADMIN_PW + "\n")  # fmt: skip
    assert ok.code == exit_codes.OK, ok.err
    export = _events(home, "--action", "study_export")[0]
    assert (export["actor"], export["account"], export["os_user"]) == (
        "alice", "alice", getpass.getuser()
    )  # fmt: skip
    # The operator cannot read the audit log; deleting is for administrators.
    assert workstation(home, "audit", "--user", "bob", "--password-stdin",
                       stdin=OPERATOR_PW + "\n").code == exit_codes.FORBIDDEN  # fmt: skip
    assert workstation(home, "archive", "delete", study_uid, "--yes", "--user", "bob",
                       "--password-stdin", stdin=OPERATOR_PW + "\n").code == exit_codes.FORBIDDEN  # fmt: skip
    gone = workstation(home, "archive", "delete", study_uid, "--yes", "--user", "alice",
                       "--password-stdin", stdin=ADMIN_PW + "\n")  # fmt: skip
    assert gone.code == exit_codes.OK and workstation(home, "studies", "--json").json() == []
    assert _events(home, "--action", "study_delete")[0]["account"] == "alice"


def test_render_of_an_archived_file_is_audited_and_of_a_loose_file_is_not(
    home: Path, study_uid: str, tmp_path: Path
) -> None:
    stored = next((home / "store").rglob("*.dcm"))
    run = workstation(home, "render", str(stored), "--out", str(tmp_path / "a.png"))
    assert run.code == exit_codes.OK, run.err
    (event,) = [e for e in _events(home, "--action", "study_export")]
    assert event["detail"]["format"] == "png" and event["channel"] == "cli"  # type: ignore[index]
    assert event["study_instance_uid"] == study_uid
    loose = next((tmp_path / "in").glob("*.dcm"))
    assert workstation(home, "render", str(loose), "--out", str(tmp_path / "b.png")).code == 0
    assert len(_events(home, "--action", "study_export")) == 1


@pytest.mark.skipif(not hasattr(os, "getuid") or os.getuid() != 0, reason="needs root to chown")
def test_an_os_user_who_does_not_own_the_data_directory_must_name_an_account(
    home: Path, study_uid: str, tmp_path: Path
) -> None:
    workstation(home, "users", "add", "alice", "--role", "admin", "--password-stdin",
                stdin=ADMIN_PW + "\n")  # fmt: skip
    os.chown(home, 65534, 65534)
    try:
        anon = workstation(home, "archive", "export", study_uid, "--to", str(tmp_path / "y"))
        assert anon.code == exit_codes.FORBIDDEN and "--user" in anon.err
        assert workstation(home, "audit").code == exit_codes.FORBIDDEN
        named = workstation(home, "archive", "export", study_uid, "--to", str(tmp_path / "y"),
                            "--user", "alice", "--password-stdin", stdin=ADMIN_PW + "\n")  # fmt: skip
        assert named.code == exit_codes.OK, named.err
    finally:
        os.chown(home, 0, 0)


def test_audit_since_and_action_filters(home: Path, study_uid: str) -> None:
    assert [e["action"] for e in _events(home)] == ["study_import"]
    assert _events(home, "--since", "2999-01-01") == []
    assert len(_events(home, "--since", "2000-01-01T00:00+00:00")) == 1
    assert _events(home, "--action", "study_delete") == []
    bad = workstation(home, "audit", "--since", "yesterday")
    assert bad.code == exit_codes.USAGE and "yesterday" in bad.err


def test_users_add_in_central_mode_points_to_the_central(home: Path) -> None:
    (home / "config").mkdir(parents=True)
    (home / "config" / "workstation.toml").write_text(
        '[central]\nauth_url = "https://127.0.0.1:9/"\n', encoding="utf-8"
    )
    run = workstation(home, "users", "add", "x", "--role", "admin", "--password-stdin",
                      stdin="Some-password-1\n")  # fmt: skip
    assert run.code == exit_codes.USAGE and "central" in run.err


def test_sync_queue_is_audited_as_a_queued_send(home: Path, study_uid: str) -> None:
    run = workstation(home, "sync", "queue", study_uid, "--to", "central", "--json")
    assert run.code == exit_codes.OK, run.err
    (event,) = _events(home, "--action", "study_send")
    assert event["channel"] == "cli" and event["study_instance_uid"] == study_uid
    assert event["detail"]["queued"] is True and event["detail"]["node"] == "central"  # type: ignore[index]
