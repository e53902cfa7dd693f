"""``workstation send`` to a foreign DICOM peer (dcmtk storescp) goes through the services:
the send is audited with the channel, the OS user and the peer's answer, and a refused
send (wrong password) sends nothing."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Any

from tests.cli.workstation_process import workstation
from tests.harness.ports import wait_until
from tests.pacs_node.archive.synth import write_series
from tests.pacs_node.dimse.conftest import DCMTK_AET, received_files
from workstation.cli import exit_codes


def test_send_to_storescp_is_audited_and_a_refused_send_sends_nothing(
    tmp_path: Path,
    storescp: Any,
    dcmtk_port: int,
) -> None:
    out = storescp()
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    (home / "config" / "workstation.toml").write_text(
        f'[[node.peers]]\nname = "dcmtk"\nae_title = "{DCMTK_AET}"\nhost = "127.0.0.1"\n'
        f"port = {dcmtk_port}\n",
        encoding="utf-8",
    )
    write_series(tmp_path / "in", 3)
    assert workstation(home, "import", str(tmp_path / "in")).code == exit_codes.OK
    (study,) = workstation(home, "studies", "--json").json()
    uid = study["study_instance_uid"]
    # A wrong password is refused before anything is sent.
    workstation(home, "users", "add", "admin", "--role", "admin", "--password-stdin",
                stdin="Admin-password-1\n")  # fmt: skip
    refused = workstation(home, "send", "dcmtk", uid, "--user", "admin", "--password-stdin",
                          stdin="wrong\n")  # fmt: skip
    assert refused.code == exit_codes.FORBIDDEN and received_files(out) == []
    sent = workstation(home, "send", "dcmtk", uid, "--json")
    assert sent.code == exit_codes.OK, sent.err
    wait_until(lambda: len(received_files(out)) == 3, 30, "storescp files")
    events = workstation(home, "audit", "--json", "--action", "study_send").json()
    (event,) = events
    assert (event["channel"], event["os_user"]) == ("cli", getpass.getuser())
    assert event["study_instance_uid"] == uid and event["outcome"] == "success"
    assert event["detail"]["node"] == "dcmtk" and event["detail"]["completed"] == 3
