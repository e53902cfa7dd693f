"""The MPR / 3-D window in the real ``workstation`` process, driven with real keys
(xdotool): open the imported CT, M opens the MPR window, its 3-D view prepares, S stores
the 3-D picture as a Secondary Capture in the study (audited like an export)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.e2e.test_app_process import START_S, _quit, first_start_and_import
from tests.e2e.xdriver import XDriver


def test_mpr_window_stores_a_3d_snapshot_in_the_study(
    x: XDriver, app_process: Any, testdata: Path, shots: Path
) -> None:
    proc = app_process()
    main = first_start_and_import(x, proc, testdata / "series" / "ct-lung-petctdx-30sl", shots)
    x.focus(main)
    x.key("ctrl+o")
    proc.wait_log(r"first image on screen", timeout=START_S)
    view = x.settled_leaf(main)
    x.click(*view.center)  # focus the image view (window/level: a click changes nothing)
    x.key("m")
    proc.wait_log(r"3-D view: first picture on screen", timeout=300)
    mpr = x.wait_window(r"^MPR / 3-D$", timeout=60)
    x.focus(mpr)
    x.key("s")
    proc.wait_log(r"3-D snapshot \S+ stored in study \S+", timeout=120)
    proc.wait_log(r"audit study_export success", timeout=30)
    proc.stays_up(1.0)
    x.screenshot(shots / "app-mpr-window.png", mpr)
    _quit(x, proc, main)
    assert "Traceback" not in proc.log()
