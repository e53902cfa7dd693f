"""Where VTK cannot draw, the app lists the opened study's series and says why instead of
crashing: the real main window in a child process on Qt's offscreen platform with no X
display (the setting in which VTK's Qt widget draws nothing or aborts)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from workstation.app.viewer_area import viewer_unavailable_reason

pytestmark = pytest.mark.qt

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import json, sys, time
from pathlib import Path

from PySide6.QtWidgets import QApplication

app = QApplication([])

from tests.app.synthetic import write_study
from tests.auth.conftest import MemoryKeyring
from workstation.app.main_window import MainWindow
from workstation.auth.keyring_store import SecretStore
from workstation.config import ensure_home, load_settings
from workstation.services.workstation import WorkstationServices

home = Path(sys.argv[1])
settings = load_settings({}, home=home)
ensure_home(settings)
services = WorkstationServices(settings, store=SecretStore(MemoryKeyring()), start_node=False)
archive = services.archive
session = services.authenticator.create_first_admin("chief", "Correct horse 1")
services.after_login(session)
uid = write_study(home / "in", patient_name="NO^SCREEN", patient_id="N-1", series=2)
for f in sorted((home / "in").iterdir()):
    assert archive.store_file(f).ok
window = MainWindow(services, session)
window.show()
window.open_study(uid)
deadline = time.monotonic() + 30
while window.viewer.current_study_uid != uid and time.monotonic() < deadline:
    app.processEvents()
    time.sleep(0.01)
area = window.viewer
print(json.dumps({
    "platform": app.platformName(),
    "opened": area.current_study_uid == uid,
    "page": area.pages.currentIndex(),
    "series": area.series_list.count(),
    "message": area.message.text() if area.message.isVisibleTo(window) else "",
    "viewer": area.image_viewer is not None,
    "vtk_loaded": "vtkmodules" in sys.modules,
    "opens": len(services.audit.events(action="study_open", study_uid=uid)),
}))
window.close()
services.authenticator.logout(session)
services.close()
"""


def test_no_screen_lists_the_series_and_says_why(tmp_path: Path) -> None:
    from workstation.app.viewer_area import SERIES_PAGE

    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update(QT_QPA_PLATFORM="offscreen", WORKSTATION_HOME=str(tmp_path / "home"))
    env.pop("VTK_DEFAULT_OPENGL_WINDOW", None)
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "home")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert out["platform"] == "offscreen"
    assert out["opened"] and out["opens"] == 1  # guarded and audited as always
    assert out["page"] == SERIES_PAGE and out["series"] == 2
    assert not out["viewer"] and not out["vtk_loaded"]  # VTK never touched
    assert "Images cannot be shown here" in out["message"]
    assert "no screen" in out["message"]


def test_which_platforms_the_viewer_can_draw_on() -> None:
    assert viewer_unavailable_reason("xcb", {"DISPLAY": ":1"}) == ""
    assert viewer_unavailable_reason("windows", {}) == ""
    assert viewer_unavailable_reason("cocoa", {}) == ""
    assert "no screen" in viewer_unavailable_reason("offscreen", {})
    # offscreen draws through OSMesa/EGL, but not with an X display around (X errors)
    osmesa = {"VTK_DEFAULT_OPENGL_WINDOW": "vtkOSOpenGLRenderWindow"}
    assert viewer_unavailable_reason("offscreen", osmesa) == ""
    assert viewer_unavailable_reason("offscreen", {**osmesa, "DISPLAY": ":1"}) != ""
    assert "QT_QPA_PLATFORM=xcb" in viewer_unavailable_reason("wayland", {})
