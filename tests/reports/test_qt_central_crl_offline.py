"""Central mode, the central stopped: the editor's verification panel fetches the CRL
off the GUI thread.  While the fetch waits for a frozen central (SIGSTOP: the connection
is taken, no answer comes, the client's 5 s timeout runs out) and then for a central that
is shut down, the panel says "checking…", the GUI thread never stalls for more than
200 ms, and the answer comes from the CRL kept on the last fetch: a revocation the
central published before it stopped still shows (the PDF's own CRL predates it)."""

from __future__ import annotations

import itertools
import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6")

from tests.reports.central_workstation import central_workstation
from tests.reports.editor_window import shown_editor
from workstation.services.signing_actions import SigningActions

pytestmark = [pytest.mark.qt, pytest.mark.network]

#: The longest the GUI thread may be kept from its event loop while a check runs.
MAX_STALL_SECONDS = 0.2


def _process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (the gunicorn master and its workers), from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    tree, frontier = [pid], [pid]
    while frontier:
        children = [c for c, p in parents.items() if p in frontier]
        tree += children
        frontier = children
    return tree


@contextmanager
def _frozen(pid: int) -> Iterator[None]:
    """The central's processes stopped (SIGSTOP): connections queue, nothing answers."""
    pids = _process_tree(pid)
    for p in pids:
        os.kill(p, signal.SIGSTOP)
    try:
        yield
    finally:
        for p in pids:
            os.kill(p, signal.SIGCONT)


def _watch_gui_thread(qtbot: Any, editor: Any, report: Any) -> tuple[float, float, str]:
    """Show ``report`` and wait for the panel's answer, ticking a 10 ms timer on the GUI
    thread; gives (longest gap between ticks, seconds to the answer, what the panel
    said right after show_report returned)."""
    from PySide6.QtCore import QTimer

    ticks: list[float] = []
    timer = QTimer(editor, interval=10)
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start()
    start = time.monotonic()
    ticks.append(start)
    editor.show_report(report)
    right_after = editor.signature.text()
    qtbot.waitUntil(lambda: not editor.signature_checking, timeout=60000)
    done = time.monotonic()
    timer.stop()
    ticks.append(done)
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    return max(gaps), done - start, right_after


def test_panel_checks_off_the_gui_thread_with_the_central_stopped(  # type: ignore[no-untyped-def]
    qtbot, auth_api_factory, settings: Any, tmp_path: Path, artifacts_dir: Path
) -> None:
    central = auth_api_factory(name="report_crl_offline", ca_key_passphrase="Crl-CA-pass-4-tests")
    made = central.cli("ca", "init", "--name", "Klinika Central Offline CA")
    assert made.returncode == 0, made.stderr
    with central_workstation(
        settings, central, tmp_path / "study", patient_name="IVANOVA^OLGA", patient_id="C-9"
    ) as ws:
        uid = ws.study_uid
        session, name, _password = ws.sign_in_new_user(central, "doctor")
        cert = SigningActions(session, ws.audit, ws.settings, ws.secrets).enroll()
        actions = ws.reports(session)
        report = actions.create(uid, "ct_chest", "ru", {"impression": "Без патологии."})
        report = actions.sign(report.report_id)

        editor = shown_editor(qtbot, actions, uid)
        qtbot.waitUntil(lambda: not editor.signature_checking, timeout=30000)
        assert editor.signature.text().startswith(f"Signed by {name}"), editor.signature.text()

        # The administrator revokes; the panel's next check (central up) keeps that CRL.
        revoked = central.request(
            "POST",
            "/admin/ca/revoke",
            token=central.admin_token(),
            json={"serial": format(cert.serial_number, "x")},
        )
        assert revoked.status_code == 200, revoked.text
        _watch_gui_thread(qtbot, editor, report)
        assert "revoked" in editor.signature.text(), editor.signature.text()

        assert central.proc is not None
        with _frozen(central.proc.pid):
            stall, took, first = _watch_gui_thread(qtbot, editor, report)
        assert first == "Checking the signature…", first
        assert took > 3.0, f"the frozen central answered? check took {took:.2f} s"
        assert stall < MAX_STALL_SECONDS, f"GUI thread stalled {stall * 1000:.0f} ms"
        text = editor.signature.text()
        assert text.startswith("NOT SIGNED") and "revoked" in text, text
        assert "#c00000" in editor.signature.styleSheet()
        out = artifacts_dir / "reports"
        out.mkdir(exist_ok=True)
        editor.signature.grab().save(str(out / "panel_central_frozen_kept_crl.png"))

        central.stop()
        stall, took, first = _watch_gui_thread(qtbot, editor, report)
        assert first == "Checking the signature…", first
        assert stall < MAX_STALL_SECONDS, f"GUI thread stalled {stall * 1000:.0f} ms"
        text = editor.signature.text()
        assert text.startswith("NOT SIGNED") and "revoked" in text, text
