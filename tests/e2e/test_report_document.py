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

from tests.e2e.test_app_process import _quit, first_start_and_import
from tests.e2e.xdriver import XDriver
from tests.reports.conftest import Site, signing_site, site  # noqa: F401 (fixtures)
from workstation.reports.encapsulated_pdf import report_instance_uid


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
    # Its first-start pictures stay with this test: the shared ones are the README's.
    main = first_start_and_import(x, proc, folder, tmp_path / "first-start")
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
