"""Fixtures of the DICOM node suite: our node on a free loopback port, dcmtk peers."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.harness.ports import free_port, port_open, wait_until
from workstation.config import PeerNode, Settings

#: AE title dcmtk tools call us with (a peer in the table that may query and retrieve).
DCMTK_AET = "DCMTK"
NODE_AET = "WSNODE"


def needs(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        pytest.skip(f"dcmtk tools missing: {', '.join(missing)} (see scripts/test.sh)")


def node_settings(settings: Settings, **node: Any) -> Settings:
    """``settings`` with [node] fields replaced."""
    return dataclasses.replace(settings, node=dataclasses.replace(settings.node, **node))


@pytest.fixture
def dcmtk_port() -> int:
    """Where dcmtk's own store SCP (movescu --port, storescp) listens in a test."""
    return free_port()


@pytest.fixture
def node_config(settings: Settings, dcmtk_port: int) -> Settings:
    peers = (
        PeerNode(
            name="dcmtk", ae_title=DCMTK_AET, host="127.0.0.1", port=dcmtk_port,
            may_store=True, may_query=True, may_retrieve=True, move_destination=True,
        ),
    )  # fmt: skip
    return node_settings(
        settings, ae_title=NODE_AET, port=free_port(), bind_address="127.0.0.1", peers=peers,
        acse_timeout=10.0, dimse_timeout=20.0, network_timeout=10.0,
    )  # fmt: skip


@pytest.fixture
def archive(node_config: Settings) -> Iterator[Any]:
    from workstation.pacs_node.archive.archive import Archive

    a = Archive.open(node_config)
    yield a
    a.close()


@pytest.fixture
def node(node_config: Settings, archive: Any) -> Iterator[Any]:
    from workstation.pacs_node.dimse.service import start_node_service

    svc = start_node_service(node_config, archive)
    wait_until(lambda: port_open(svc.port), 10, "our DICOM node")
    yield svc
    svc.stop()


def run(
    args: list[str], *, timeout: float = 120, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a dcmtk tool; its output is in the result (and in the test log on failure)."""
    return subprocess.run(
        args, capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})},
        check=False,
    )  # fmt: skip


@pytest.fixture
def storescp(tmp_path: Path, dcmtk_port: int) -> Iterator[Callable[..., Path]]:
    """``start(*options) -> folder``: dcmtk storescp (TCP_NODELAY=1) on ``dcmtk_port``."""
    needs("storescp")
    procs: list[subprocess.Popen[bytes]] = []

    def start(*options: str, aet: str = DCMTK_AET) -> Path:
        out = tmp_path / "storescp"
        out.mkdir(exist_ok=True)
        proc = subprocess.Popen(
            ["storescp", "-aet", aet, "-od", str(out), *options, str(dcmtk_port)],
            env={**os.environ, "TCP_NODELAY": "1"},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        procs.append(proc)
        wait_until(lambda: port_open(dcmtk_port), 10, "storescp")
        return out

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(timeout=10)


def received_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def wait_for_files(folder: Path, count: int, timeout: float = 30) -> list[Path]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        files = received_files(folder)
        if len(files) >= count:
            return files
        time.sleep(0.1)
    return received_files(folder)
