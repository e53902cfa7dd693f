"""Shared by the sync tests against a real central Orthanc: the workstation's settings
pointed at it, a sync worker with a short backoff, and what the central holds of a
study (asked over DICOMweb as its admin)."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from workstation.config import Settings, load_settings
from workstation.pacs_node.dicomweb.tokens import StaticTokenProvider
from workstation.pacs_node.sync.jobs import Backoff
from workstation.pacs_node.sync.queue import SyncQueue
from workstation.pacs_node.sync.remotes import remote_resolver
from workstation.pacs_node.sync.worker import SyncWorker


def settings_for_central(home: Path, dicomweb_url: str, **central: Any) -> Settings:
    """The settings of a workstation at ``home`` whose central is ``dicomweb_url``
    (other ``central`` fields, e.g. ``timeout_seconds``, replaced too)."""
    s = load_settings(home=home)
    return dataclasses.replace(
        s, central=dataclasses.replace(s.central, dicomweb_url=dicomweb_url, **central)
    )


def sync_worker(
    settings: Settings, archive: Any, token: str, backoff: Backoff
) -> tuple[SyncQueue, SyncWorker]:
    """The archive's sync queue and a worker on it that sends with ``token``, polling
    every 0.1 s in batches of 5."""
    queue = SyncQueue(archive.engine)
    worker = SyncWorker(
        queue, archive, remote_resolver(settings, archive, StaticTokenProvider(token)),
        backoff=backoff, poll_s=0.1, batch_size=5,
    )  # fmt: skip
    return queue, worker


def orthanc_study_instances(server: Any, study_uid: str) -> list[str]:
    """The SOP Instance UIDs the central Orthanc holds of the study (none: [])."""
    rsp = server.session("admin").get(
        f"{server.dicomweb_url}/studies/{study_uid}/instances", timeout=30
    )
    if rsp.status_code == 404:
        return []
    rsp.raise_for_status()
    return [item["00080018"]["Value"][0] for item in rsp.json()]


#: ``workstation sync run`` as a user starts it: drain the outbox, the token on stdin.
SYNC_RUN = [sys.executable, "-m", "workstation", "sync", "run", "--until-empty", "--timeout",
            "120", "--token-stdin"]  # fmt: skip


def start_sync_run(home: Path, token: str) -> subprocess.Popen[str]:
    """``workstation sync run`` of the workstation at ``home``, started in the background
    with ``token`` (ending in a newline) on its standard input."""
    proc = subprocess.Popen(
        SYNC_RUN, env={**os.environ, "WORKSTATION_HOME": str(home)}, stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    assert proc.stdin is not None
    proc.stdin.write(token)
    proc.stdin.close()
    return proc


def finish_sync_run(home: Path, token: str) -> subprocess.CompletedProcess[str]:
    """``workstation sync run --json`` of the workstation at ``home`` to its end."""
    return subprocess.run(
        [*SYNC_RUN, "--json"], env={**os.environ, "WORKSTATION_HOME": str(home)}, input=token,
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
