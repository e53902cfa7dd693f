"""A 3-D picture exported as a Secondary Capture into the source study: strict DICOM,
dciodvfy-clean, pixels read back exactly, audited like an export."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pydicom
import pytest

from tests.mpr.phantoms import load_frames
from tests.mpr.test_volume_stacks import _tilted_sphere
from workstation.auth.audit import AuditLog
from workstation.auth.db import AuthDatabase
from workstation.mpr.presets import preset
from workstation.mpr.volume import MprVolume, build_mpr_volume
from workstation.services.mpr_actions import Actor, export_snapshot

pytestmark = pytest.mark.vtk


@pytest.fixture
def audit(tmp_path: Path) -> AuditLog:
    return AuditLog(AuthDatabase.open(f"sqlite:///{tmp_path / 'audit.sqlite3'}"))


def test_snapshot_is_a_valid_secondary_capture_in_the_study(
    tmp_path: Path, audit: AuditLog
) -> None:
    from workstation.mpr._vtk.vtk_volume_render import render_offscreen

    paths = _tilted_sphere(tmp_path / "src", 0.0)
    volume = build_mpr_volume(load_frames(paths))
    assert isinstance(volume, MprVolume)
    rgb = render_offscreen(volume, preset("CT-Bone"), size=(160, 120), azimuth_deg=30.0)
    assert (rgb.max(axis=2) > 30).mean() > 0.02  # something was drawn
    source = pydicom.dcmread(paths[0], stop_before_pixels=True)
    result = export_snapshot(
        rgb, source, "CT-Bone", tmp_path / "out", audit=audit, actor=Actor(name="tester")
    )
    ds = pydicom.dcmread(result.path)
    assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.7"
    assert ds.StudyInstanceUID == source.StudyInstanceUID == result.study_instance_uid
    assert ds.SeriesInstanceUID == result.series_instance_uid != source.SeriesInstanceUID
    assert ds.PatientID == source.PatientID
    assert list(ds.ImageType[:2]) == ["DERIVED", "SECONDARY"]
    assert ds.PhotometricInterpretation == "RGB" and (ds.Rows, ds.Columns) == (120, 160)
    assert np.array_equal(ds.pixel_array, rgb)
    again = export_snapshot(rgb, source, "CT-Bone", tmp_path / "out", audit=audit, actor=Actor())
    assert again.path != result.path and again.path.exists() and result.path.exists()
    events = audit.events(action="study_export")
    assert [e.detail["kind"] for e in events] == ["3d-snapshot"] * 2
    first = next(e for e in events if e.detail["derived_series_uid"] == result.series_instance_uid)
    assert first.actor == "tester" and first.study_uid == source.StudyInstanceUID
    if shutil.which("dciodvfy") is not None:
        run = subprocess.run(
            ["dciodvfy", str(result.path)], capture_output=True, text=True, timeout=60
        )
        out = run.stdout + run.stderr
        assert "SCImage" in out, out  # the SC IOD was the one checked
        errors = [line for line in out.splitlines() if line.startswith("Error")]
        assert not errors, errors


def test_snapshot_refuses_a_picture_that_is_not_rgb(tmp_path: Path, audit: AuditLog) -> None:
    source = pydicom.Dataset()
    source.StudyInstanceUID = pydicom.uid.generate_uid()
    with pytest.raises(ValueError):
        export_snapshot(
            np.zeros((4, 4), np.uint8), source, "x", tmp_path, audit=audit, actor=Actor()
        )
    events = audit.events(action="study_export")
    assert len(events) == 1 and events[0].outcome == "failure"
