"""What the node tells people: a port it cannot open (CLI: a reason and a fix, an exit
code, no traceback), every association and every refusal in its log, and a caller the
peer does not know told so."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.harness.ports import free_port
from tests.pacs_node.dimse.conftest import DCMTK_AET, NODE_AET, needs, run
from tests.pacs_node.dimse.data import write_study
from workstation.config import PeerNode, Settings
from workstation.pacs_node.dimse.errors import AssociationFailed

pytestmark = [pytest.mark.network, pytest.mark.dcmtk]

LOG = "workstation.pacs_node.dimse.association_log"


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port some other program listens on (all addresses, as the node would)."""
    with socket.socket() as other:
        other.bind(("0.0.0.0", 0))
        other.listen()
        yield other.getsockname()[1]


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "WORKSTATION_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "workstation", *args],
        capture_output=True, text=True, env=env, timeout=60, check=False, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def test_node_serve_on_a_busy_port_says_why_and_what_to_do(tmp_path: Path, busy_port: int) -> None:
    result = _cli(tmp_path, "node", "serve", "--port", str(busy_port), "--no-sync")
    assert result.returncode == 6, result.stderr
    assert f"Port {busy_port} is already in use by another program" in result.stderr
    assert "--set node.port=N" in result.stderr
    assert "Traceback" not in result.stderr


def test_node_serve_with_an_impossible_port_is_a_usage_error(tmp_path: Path) -> None:
    result = _cli(tmp_path, "node", "serve", "--port", "99999")
    assert result.returncode == 2
    assert "99999 is not a port number (1-65535)" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("port", ["busy", "99999"])
def test_headless_start_without_its_port_says_why_and_exits_6(
    tmp_path: Path, busy_port: int, port: str
) -> None:
    value = str(busy_port) if port == "busy" else port
    result = _cli(tmp_path, "--set", f"node.port={value}", "start", "--headless")
    assert result.returncode == 6, result.stdout + result.stderr
    assert "The DICOM node cannot start:" in result.stderr
    reason = "already in use" if port == "busy" else "99999 is not a port number"
    assert reason in result.stderr
    assert "Traceback" not in result.stderr


def _messages(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOG and r.levelno == level]


def test_every_association_and_refusal_is_logged_with_who_what_and_why(
    node: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    needs("storescu", "findscu")
    caplog.set_level(logging.INFO, logger=LOG)
    files = write_study(tmp_path / "sent", 2)
    stored = run(["storescu", "-aet", "MODALITY9", "-aec", NODE_AET, "127.0.0.1",
                  str(node.port), *map(str, files)])  # fmt: skip
    assert stored.returncode == 0, stored.stderr
    found = run(["findscu", "-S", "-aet", "STRANGER", "-aec", NODE_AET, "-k",
                 "QueryRetrieveLevel=STUDY", "127.0.0.1", str(node.port)])  # fmt: skip
    assert found.returncode != 0 or "No Acceptable Presentation Contexts" in found.stderr
    info = _messages(caplog, logging.INFO)
    warnings = _messages(caplog, logging.WARNING)
    assert any(
        m.startswith("Association from MODALITY9 at 127.0.0.1:") and "accepted: storage of" in m
        for m in info
    ), info
    assert any(m.startswith("Association from MODALITY9 at 127.0.0.1:") and m.endswith("released")
               for m in info), info  # fmt: skip
    assert any(
        m.startswith("Association from STRANGER at 127.0.0.1:")
        and "refused Study Root Query/Retrieve Information Model - FIND" in m
        and "this node does not know AE STRANGER" in m
        for m in warnings
    ), warnings


def test_a_table_caller_may_query_and_is_logged_without_refusals(
    node: Any, caplog: pytest.LogCaptureFixture
) -> None:
    needs("findscu")
    caplog.set_level(logging.INFO, logger=LOG)
    found = run(["findscu", "-S", "-aet", DCMTK_AET, "-aec", NODE_AET, "-k",
                 "QueryRetrieveLevel=STUDY", "127.0.0.1", str(node.port)])  # fmt: skip
    assert found.returncode == 0, found.stderr
    assert any(
        "accepted: Study Root Query/Retrieve Information Model - FIND" in m
        for m in _messages(caplog, logging.INFO)
    )
    assert not _messages(caplog, logging.WARNING)


def test_the_association_limit_is_logged_as_the_reason(
    node_config: Settings, archive: Any, caplog: pytest.LogCaptureFixture
) -> None:
    from pynetdicom import AE

    from tests.pacs_node.dimse.conftest import node_settings
    from workstation.pacs_node.dimse.service import start_node_service

    caplog.set_level(logging.INFO, logger=LOG)
    settings = node_settings(node_config, max_associations=1)
    with start_node_service(settings, archive) as svc:
        ae = AE(ae_title="HOLDER")
        ae.add_requested_context("1.2.840.10008.1.1")
        first = ae.associate("127.0.0.1", svc.port, ae_title=NODE_AET)
        try:
            second = ae.associate("127.0.0.1", svc.port, ae_title=NODE_AET)
            assert second.is_rejected
        finally:
            first.release()
            ae.shutdown()
    assert any(
        "rejected: association limit reached (node.max_associations)" in m
        for m in _messages(caplog, logging.WARNING)
    )


def test_find_says_the_peer_does_not_know_our_ae_title(node: Any, node_config: Settings) -> None:
    from tests.pacs_node.dimse.conftest import node_settings
    from workstation.pacs_node.dimse.scu import DimseNode
    from workstation.pacs_node.remote import QueryLevel

    ours = node_settings(node_config, ae_title="UNLISTED", port=free_port())
    peer = PeerNode(name="ws", ae_title=NODE_AET, host="127.0.0.1", port=node.port)
    with pytest.raises(AssociationFailed) as failed:
        DimseNode(ours, peer).find(QueryLevel.STUDY, {})
    message = str(failed.value)
    assert "does not know AE UNLISTED" in message
    assert "Study Root Query/Retrieve Information Model - FIND" in message
    assert "aborted" not in message
