"""``workstation reformat`` and ``workstation render3d`` through the real CLI process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pydicom
import pytest

from tests.imaging.test_render_cli import read_png
from tests.mpr.test_volume_stacks import _tilted_sphere

pytestmark = pytest.mark.vtk


def _cli(home: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "WORKSTATION_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "workstation", *args],
        capture_output=True, text=True, env=env, timeout=timeout, check=False,
    )  # fmt: skip


def test_reformat_a_folder_writes_the_series_and_audits(
    oblique_series: list[Path], tmp_path: Path
) -> None:
    home, out = tmp_path / "home", tmp_path / "out"
    run = _cli(home, "reformat", str(oblique_series[0].parent), "--plane", "oblique",
               "--normal", "0.2,0.4,0.9", "--slab", "4", "--mode", "minip", "--step", "3",
               "--to", str(out), "--json")  # fmt: skip
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    files = sorted(out.glob("*.dcm"))
    assert summary["files"] == len(files) >= 5
    ds = pydicom.dcmread(files[0])
    assert ds.SeriesInstanceUID == summary["series_instance_uid"]
    assert ds.DerivationCodeSequence[0].CodeValue == "113079"
    events = _exports(home)
    assert len(events) == 1 and events[0].detail["plane"] == "oblique"
    assert events[0].detail["channel"] == "cli"


def _exports(home: Path) -> list:
    from workstation.auth.audit import AuditLog
    from workstation.auth.db import AuthDatabase

    db = AuthDatabase.open(f"sqlite:///{home / 'auth.sqlite3'}")
    try:
        return [e for e in AuditLog(db).events(action="study_export") if "kind" in e.detail]
    finally:
        db.close()


def test_reformat_by_uid_from_the_archive_and_import(
    axial_series: list[Path], tmp_path: Path
) -> None:
    home = tmp_path / "home"
    assert _cli(home, "import", str(axial_series[0].parent)).returncode == 0
    uid = pydicom.dcmread(axial_series[0], stop_before_pixels=True).SeriesInstanceUID
    run = _cli(home, "reformat", uid, "--plane", "sagittal", "--step", "2",
               "--to", str(tmp_path / "out"), "--import", "--json")  # fmt: skip
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    assert summary["stored"] == summary["files"] > 0
    # the derived series is now in the archive: reformat it again by its UID
    again = _cli(home, "reformat", summary["series_instance_uid"], "--plane", "axial",
                 "--to", str(tmp_path / "again"), "--json")  # fmt: skip
    assert again.returncode == 0, again.stderr
    picture = _cli(home, "render3d", uid, "--size", "64x64", "--out", str(tmp_path / "a.png"))
    assert picture.returncode == 0, picture.stderr
    kinds = [e.detail["kind"] for e in _exports(home)]
    assert kinds == ["mpr", "mpr", "render3d"]


def test_reformat_refusals(tmp_path: Path) -> None:
    home = tmp_path / "home"
    missing = _cli(home, "reformat", "1.2.3.4.5", "--to", str(tmp_path / "o"))
    assert missing.returncode == 4
    bad = _cli(home, "reformat", str(tmp_path), "--plane", "oblique", "--to", str(tmp_path / "o"))
    assert bad.returncode == 2 and "--normal" in bad.stderr


def test_render3d_draws_the_sphere_and_crops(tmp_path: Path) -> None:
    paths = _tilted_sphere(tmp_path / "sphere", 0.0)
    home = tmp_path / "home"
    pictures = {}
    for name, extra in {"full": [], "cropped": ["--crop", "0,1,0,1,0,0.5"]}.items():
        out = tmp_path / f"{name}.png"
        run = _cli(home, "render3d", str(paths[0].parent), "--preset", "CT-Bone",
                   "--size", "200x160", "--out", str(out), "--json", *extra)  # fmt: skip
        assert run.returncode == 0, run.stderr
        assert json.loads(run.stdout)["preset"] == "CT-Bone"
        pictures[name] = read_png(out)
    full = pictures["full"]
    assert full.shape == (160, 200, 3)
    lit = full.max(axis=2) > 20
    rows, cols = np.nonzero(lit)
    # a sphere seen from the front: a round blob in the middle, as wide as high
    assert 0.8 < (np.ptp(cols) + 1) / (np.ptp(rows) + 1) < 1.25
    assert abs(cols.mean() - 100) < 10 and abs(rows.mean() - 80) < 10
    cropped_lit = pictures["cropped"].max(axis=2) > 20
    assert 0.2 < cropped_lit.sum() / lit.sum() < 0.8


def test_render3d_iso_surface_offscreen(tmp_path: Path) -> None:
    paths = _tilted_sphere(tmp_path / "sphere", 0.0)
    home = tmp_path / "home"
    lit = {}
    for name, extra in {"iso": [], "iso-cropped": ["--crop", "0,0.5,0,1,0,1"]}.items():
        out = tmp_path / f"{name}.png"
        run = _cli(home, "render3d", str(paths[0].parent), "--iso", "0", "--size", "160x160",
                   "--out", str(out), "--json", *extra)  # fmt: skip
        assert run.returncode == 0, run.stderr
        assert json.loads(run.stdout)["iso"] == 0.0
        lit[name] = read_png(out).max(axis=2) > 40
    rows, cols = np.nonzero(lit["iso"])
    assert 0.85 < (np.ptp(cols) + 1) / (np.ptp(rows) + 1) < 1.18  # the sphere's round outline
    assert abs(cols.mean() - 80) < 8 and abs(rows.mean() - 80) < 8
    # half the columns kept: the surface is cut, half the disc is drawn (the camera fits
    # what is left, so the half disc is half as wide as it is high)
    rows, cols = np.nonzero(lit["iso-cropped"])
    assert 0.4 < (np.ptp(cols) + 1) / (np.ptp(rows) + 1) < 0.65
    bad = _cli(home, "render3d", str(paths[0].parent), "--iso", "nan", "--out",
               str(tmp_path / "x.png"))  # fmt: skip
    assert bad.returncode == 2


def test_render3d_unknown_preset(tmp_path: Path) -> None:
    run = _cli(tmp_path / "home", "render3d", str(tmp_path), "--preset", "nope",
               "--out", str(tmp_path / "x.png"))  # fmt: skip
    assert run.returncode == 2 and "CT-Bone" in run.stderr
