"""A signed report read in the real ``workstation`` process (issue 14, item 4): a study
whose folder holds a doctor's signed report as an Encapsulated PDF instance is imported,
opened; the report's entry in the series strip is chosen with the mouse and the keyboard
and its pages show under the green signature line, checked against the clinic CA the
site shares.  Screenshots: the study in the browser with its DOC series, and the report
open in the viewer."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from tests.e2e.test_app_process import (
    LAUNCH_S,
    START_S,
    _import_folder,
    _quit,
    _wait_engine_ready,
)
from tests.e2e.xdriver import XDriver
from tests.reports.conftest import Site, signing_site, site  # noqa: F401 (fixtures)
from workstation.reports.encapsulated_pdf import report_instance_uid

LOGIN = r"Log in$"
MAIN = r"^Klinika Workstation$"


def _study_folder(where: Site, folder: Path) -> str:
    """The study's images and its signed report, as files in a folder to import."""
    doctor = where.reports("dora")
    report = doctor.create(where.study_uid, "ct_chest", "en", {"impression": "No finding."})
    final = doctor.sign(report.report_id)
    folder.mkdir()
    for record in where.archive.study_instances(where.study_uid):
        shutil.copy(where.archive.instance_file(record.sop_instance_uid), folder)
    return report_instance_uid(final.report_id)


def test_signed_report_opens_in_the_app_with_its_signature(
    x: XDriver,
    app_process: Any,
    signing_site: Site,  # noqa: F811
    tmp_path: Path,
    shots: Path,
) -> None:
    folder = tmp_path / "to-import"
    sop_uid = _study_folder(signing_site, folder)
    # This workstation belongs to the same clinic: it has the clinic CA (no keys of doctors).
    home = tmp_path / "home0"
    ca = signing_site.settings.signing_dir / "ca"  # type: ignore[attr-defined]
    shutil.copytree(ca, home / "signing" / "ca")
    proc = app_process()
    assert proc.home == home
    login = proc.wait_window(x, LOGIN, LAUNCH_S)
    _wait_engine_ready(proc)
    x.focus(login)
    x.type("admin")
    x.key("Tab")
    x.type("Admin-pass-1")
    x.key("Tab")
    x.type("Admin-pass-1")
    x.key("Return")
    proc.wait_log(r"audit login success", timeout=START_S)
    main = proc.wait_window(x, MAIN, START_S)
    x.xdotool("windowsize", "--sync", main, "1600", "1000")
    _import_folder(x, proc, main, folder)
    dialog = x.wait_window(r"^Import studies$")
    x.focus(dialog)
    x.key("Escape")
    x.wait_gone(r"^Import studies$")
    # The browser lists the study with its report series (Modality: CT, DOC).
    proc.stays_up(1.0)
    x.screenshot(shots / "app-browser-report-series.png", main)

    x.focus(main)
    x.key("ctrl+o")
    proc.wait_log(r"first image on screen", timeout=120)
    view = x.settled_leaf(main)
    x.screenshot(shots / "app-study-with-report-series.png", main)
    # The series strip is left of the images: pick its first entry, go to the last one
    # (the report series comes after the acquired ones) and press Enter.
    x.click(view.x - 70, view.y + 40)
    x.key("End")
    x.key("Return")
    try:
        proc.wait_log(rf"document {sop_uid} shown: 1 of 1 pages", timeout=120)
        proc.wait_log(r"document signature: valid", timeout=120)
    except AssertionError:
        x.screenshot(shots / "failed-report-open.png", main)
        raise
    proc.stays_up(1.5)  # the banner and the page repaint
    x.screenshot(shots / "app-report-pdf-signed.png", main)
    _quit(x, proc, main)
    assert "Traceback" not in proc.log()
