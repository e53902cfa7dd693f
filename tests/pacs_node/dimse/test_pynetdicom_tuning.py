"""The pynetdicom tuning (dimse.pynetdicom_tuning) installs only when the node starts,
only over the pynetdicom it was written for, and the node receives correctly with it,
without it (setting off) and when it refuses (a faked version mismatch)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pynetdicom.association import Association
from pynetdicom.dul import DULServiceProvider

from tests.harness.ports import port_open, wait_until
from tests.pacs_node.dimse.conftest import DCMTK_AET, NODE_AET, needs, node_settings, run
from tests.pacs_node.dimse.data import write_study
from workstation.config import PeerNode, Settings
from workstation.pacs_node.dimse import pynetdicom_tuning, reactor

pytestmark = [pytest.mark.network, pytest.mark.dcmtk]


@pytest.fixture
def stock_pynetdicom() -> Iterator[None]:
    """pynetdicom as shipped for the test; the tuning installed again afterwards (other
    tests expect what a started node leaves)."""
    pynetdicom_tuning.uninstall_tuning()
    yield
    pynetdicom_tuning.uninstall_tuning()
    assert pynetdicom_tuning.install_tuning()


def _is_stock() -> bool:
    return (
        Association._run_reactor is not reactor._assoc_run_reactor
        and DULServiceProvider.run_reactor is not reactor._dul_run_reactor
    )


def _receive(settings: Settings, archive: Any, tmp_path: Path) -> None:
    """Start the node, send it 12 instances over one storescu association, check them."""
    from workstation.pacs_node.dimse.service import start_node_service

    needs("storescu")
    files = write_study(tmp_path / "sent", 12, patient_id="P-TUNING")
    with start_node_service(settings, archive) as node:
        wait_until(lambda: port_open(node.port), 10, "our DICOM node")
        result = run(
            ["storescu", "-aet", DCMTK_AET, "-aec", NODE_AET, "127.0.0.1", str(node.port),
             *map(str, files)]
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert node.stats.stored == 12
    assert archive.counts()["instances"] == 12


def test_the_tuning_matches_this_pynetdicom() -> None:
    import pynetdicom

    assert pynetdicom_tuning.differences(pynetdicom.__version__, pynetdicom_tuning.mirrored()) == []


def test_a_changed_function_or_version_is_a_difference() -> None:
    def _run_reactor(self: Any) -> None:  # same name, other code
        pass

    _run_reactor.__module__ = "pynetdicom.association"
    _run_reactor.__qualname__ = "Association._run_reactor"
    others = [f for f in pynetdicom_tuning.mirrored() if f.__name__ != "_run_reactor"]
    found = pynetdicom_tuning.differences("3.1.0", [*others, _run_reactor])
    assert found == [
        f"version 3.1.0 (tuned for {pynetdicom_tuning.TESTED_VERSION})",
        "pynetdicom.association.Association._run_reactor changed",
    ]
    assert pynetdicom_tuning.differences(pynetdicom_tuning.TESTED_VERSION, others) == [
        "pynetdicom.association.Association._run_reactor missing"
    ]


def test_a_client_does_not_install_it_the_node_does(
    stock_pynetdicom: None, node_config: Settings, archive: Any
) -> None:
    from workstation.pacs_node.dimse.scu import DimseNode
    from workstation.pacs_node.dimse.service import NodeService

    DimseNode(node_config, PeerNode(name="p", ae_title="P", host="127.0.0.1", port=104))
    service = NodeService(node_config, archive)
    assert _is_stock() and not pynetdicom_tuning.is_installed()
    service.start()
    try:
        assert pynetdicom_tuning.is_installed()
        assert Association._run_reactor is reactor._assoc_run_reactor
    finally:
        service.stop()


def test_the_node_receives_with_the_tuning_switched_off(
    stock_pynetdicom: None, node_config: Settings, archive: Any, tmp_path: Path
) -> None:
    _receive(node_settings(node_config, pynetdicom_tuning=False), archive, tmp_path)
    assert _is_stock() and not pynetdicom_tuning.is_installed()


def test_on_a_version_mismatch_it_warns_once_and_the_node_receives_on_stock_pynetdicom(
    stock_pynetdicom: None,
    node_config: Settings,
    archive: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(pynetdicom_tuning, "TESTED_VERSION", "2.9.9")
    with caplog.at_level(logging.WARNING, logger=pynetdicom_tuning.__name__):
        _receive(node_config, archive, tmp_path)
        assert not pynetdicom_tuning.install_tuning()  # a second node start: no new warning
    warnings = [r.getMessage() for r in caplog.records if r.name == pynetdicom_tuning.__name__]
    assert len(warnings) == 1, warnings
    assert "version 3.0.4 (tuned for 2.9.9)" in warnings[0]
    assert "stock pynetdicom" in warnings[0]
    assert _is_stock() and not pynetdicom_tuning.is_installed()
