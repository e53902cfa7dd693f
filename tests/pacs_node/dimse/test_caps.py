"""Caps on what peers may make us hold or open: C-FIND results, concurrent associations."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pynetdicom import AE
from pynetdicom.sop_class import Verification

from tests.harness.ports import wait_until
from tests.pacs_node.dimse.conftest import DCMTK_AET, NODE_AET, node_settings
from tests.pacs_node.dimse.data import write_study
from tests.pacs_node.dimse.test_scu import _node, client, served, served_node
from workstation.config import Settings
from workstation.pacs_node.remote import QueryLevel

pytestmark = pytest.mark.network
__all__ = ["client", "served", "served_node"]  # fixtures shared with test_scu


def _fill(archive: Any, tmp_path: Path, studies: int) -> None:
    for i in range(studies):
        assert archive.store_file(write_study(tmp_path / f"s{i}", 1)[0]).ok


def test_find_stops_at_the_default_cap_and_says_so(
    served_node: tuple[Settings, Any, Any], client: tuple[Settings, Any], tmp_path: Path
) -> None:
    _served, server_archive, _svc = served_node
    cs, client_archive = client
    _fill(server_archive, tmp_path, 12)
    capped = node_settings(cs, max_find_results=5)

    found = _node(capped, "node", client_archive).find(QueryLevel.STUDY, {})
    assert len(found) == 5 and found.truncated and found.cap == 5
    # Under the cap the answer is whole and not marked.
    whole = _node(node_settings(cs, max_find_results=50), "node").find(QueryLevel.STUDY, {})
    assert len(whole) == 12 and not whole.truncated
    # An explicit limit is what the caller asked for: not reported as truncated.
    limited = _node(capped, "node").find(QueryLevel.STUDY, {}, limit=3)
    assert len(limited) == 3 and not limited.truncated
    # After the C-CANCEL the peer still serves.
    assert _node(cs, "node").echo() == 0


def test_cli_find_reports_more_results_than_the_cap(
    served_node: tuple[Settings, Any, Any], client: tuple[Settings, Any], tmp_path: Path
) -> None:
    import json

    from tests.pacs_node.dimse.test_cli_node import _cli

    served, server_archive, _svc = served_node
    _fill(server_archive, tmp_path, 7)
    home = tmp_path / "clihome"
    (home / "config").mkdir(parents=True)
    (home / "config" / "workstation.toml").write_text("[node]\nmax_find_results = 4\n")
    peer = f"127.0.0.1:{served.node.port}:{NODE_AET}"
    # The served node's table knows CLIENT as a querying peer; call in as it.
    proc = _cli(home, "--set", "node.ae_title=CLIENT", "find", peer, "--json")
    assert proc.returncode == 1, proc.stderr
    assert len(json.loads(proc.stdout)) == 4
    assert "More results than 4; narrow the query." in proc.stderr
    ok = _cli(home, "--set", "node.ae_title=CLIENT", "find", peer, "--json", "--limit", "2")
    assert ok.returncode == 0, ok.stderr
    assert len(json.loads(ok.stdout)) == 2


@pytest.fixture
def small_node(node_config: Settings) -> Iterator[tuple[Settings, Any]]:
    from workstation.pacs_node.archive.archive import Archive
    from workstation.pacs_node.dimse.service import start_node_service

    cfg = node_settings(node_config, max_associations=2)
    with Archive.open(cfg) as archive, start_node_service(cfg, archive) as svc:
        # Probe with a whole association: a bare TCP probe would hold a slot until the
        # ACSE timeout.
        wait_until(lambda: _echo_once(svc.port), 10, "node")
        wait_until(lambda: not svc.ae.active_associations, 10, "the probe to end")
        yield cfg, svc


def _associate(port: int) -> Any:
    ae = AE(ae_title=DCMTK_AET)
    ae.add_requested_context(Verification)
    ae.acse_timeout = ae.network_timeout = 10
    return ae.associate("127.0.0.1", port, ae_title=NODE_AET)


def test_the_association_over_the_limit_is_refused_and_the_node_keeps_serving(
    small_node: tuple[Settings, Any],
) -> None:
    cfg, svc = small_node
    port = cfg.node.port
    held = [_associate(port) for _ in range(2)]
    try:
        assert all(a.is_established for a in held)
        extra = _associate(port)
        assert extra.is_rejected, "a third association was accepted with max_associations=2"
        rej = extra.acceptor.primitive
        # A-ASSOCIATE-RJ: transient (2), service provider (ACSE 2 / presentation 3),
        # local limit exceeded.
        assert rej.result == 0x02
        assert (rej.result_source, rej.diagnostic) in ((0x02, 0x02), (0x03, 0x02))
        # Those already open still work.
        assert all(int(a.send_c_echo().Status) == 0 for a in held)
        held.pop().release()
        wait_until(lambda: _echo_once(port), 10, "a free association slot")
    finally:
        for a in held:
            a.release()
    # All released: once the node has finished them (its side ends just after the
    # client's release returns), the full count is available again.
    wait_until(lambda: not svc.ae.active_associations, 10, "the released associations to end")
    again = [_associate(port) for _ in range(2)]
    assert all(a.is_established for a in again)
    for a in again:
        a.release()


def _echo_once(port: int) -> bool:
    assoc = _associate(port)
    if not assoc.is_established:
        return False
    ok = int(assoc.send_c_echo().Status) == 0
    assoc.release()
    return ok
