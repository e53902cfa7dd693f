"""An MPR/slab stack exported as a derived series: strict DICOM, dciodvfy-clean, the
geometry and values re-imported against independent references, audited."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pydicom
import pytest

from tests.mpr.phantoms import load_frames, plane_points, read_reference, reference_sample
from workstation.auth.audit import AuditLog
from workstation.auth.db import AuthDatabase
from workstation.mpr.geometry import PlaneKind, Slab, SlabMode
from workstation.mpr.reformat import ReformatRequest, reformat_planes
from workstation.mpr.volume import MprVolume, build_mpr_volume
from workstation.services.mpr_actions import Actor, export_reformat

pytestmark = pytest.mark.vtk

CASES = {
    "thin coronal": (ReformatRequest(PlaneKind.CORONAL, spacing_mm=0.6, step_mm=3.0), "113072"),
    "MIP sagittal": (
        ReformatRequest(PlaneKind.SAGITTAL, step_mm=4.0, slab=Slab(6.0, SlabMode.MIP, 0.5)),
        "113078",
    ),
    "MinIP oblique": (
        ReformatRequest(
            PlaneKind.OBLIQUE, normal=(0.2, 0.4, 0.9), step_mm=4.0,
            slab=Slab(4.0, SlabMode.MINIP, 0.5),
        ),
        "113079",
    ),
    "average axial": (
        ReformatRequest(PlaneKind.AXIAL, step_mm=5.0, slab=Slab(5.0, SlabMode.AVERAGE, 0.5)),
        "113072",
    ),
}  # fmt: skip


@pytest.fixture
def audit(tmp_path: Path) -> AuditLog:
    return AuditLog(AuthDatabase.open(f"sqlite:///{tmp_path / 'audit.sqlite3'}"))


def _expected(ref, plane, slab):  # type: ignore[no-untyped-def]
    if slab is None:
        return reference_sample(ref, plane_points(plane))
    samples, masks = zip(
        *(reference_sample(ref, plane_points(plane, off)) for off in slab.offsets_mm()),
        strict=True,
    )
    combine = {SlabMode.MIP: np.max, SlabMode.MINIP: np.min, SlabMode.AVERAGE: np.mean}
    return combine[slab.mode](np.stack(samples), axis=0), np.all(masks, axis=0)


@pytest.mark.parametrize("case", list(CASES))
def test_export_reimports_exactly(
    case: str, oblique_series: list[Path], tmp_path: Path, audit: AuditLog
) -> None:
    request, code = CASES[case]
    volume = build_mpr_volume(load_frames(oblique_series))
    assert isinstance(volume, MprVolume)
    source = pydicom.dcmread(oblique_series[0], stop_before_pixels=True)
    result = export_reformat(
        volume, source, request, tmp_path / "out", audit=audit, actor=Actor(name="tester")
    )
    planes = reformat_planes(volume, request)
    assert result.planes == len(planes) == len(result.paths) >= 3
    ref = read_reference(oblique_series)
    source_uids = {
        pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID for p in oblique_series
    }
    sops = set()
    for path, plane in zip(result.paths, planes, strict=True):
        ds = pydicom.dcmread(path)
        sops.add(ds.SOPInstanceUID)
        assert ds.SeriesInstanceUID == result.series_instance_uid != source.SeriesInstanceUID
        assert ds.StudyInstanceUID == source.StudyInstanceUID
        assert ds.FrameOfReferenceUID == source.FrameOfReferenceUID
        assert list(ds.ImageType[:2]) == ["DERIVED", "SECONDARY"]
        assert ds.DerivationCodeSequence[0].CodeValue == code
        assert ds.DerivationCodeSequence[0].CodingSchemeDesignator == "DCM"
        refs = {item.ReferencedSOPInstanceUID for item in ds.SourceImageSequence}
        assert refs and refs <= source_uids
        # geometry, exact to 1e-3 mm
        assert np.allclose(ds.ImagePositionPatient, plane.origin_mm, atol=1e-3)
        assert np.allclose(ds.ImageOrientationPatient, plane.image_orientation(), atol=1e-6)
        assert np.allclose(ds.PixelSpacing, [plane.spacing_mm] * 2, atol=1e-6)
        # values, in HU through Rescale Slope/Intercept, against the independent reference
        hu = ds.pixel_array * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
        expected, inside = _expected(ref, plane, request.slab)
        if inside.sum() > 50:
            err = np.abs(hu - expected)[inside]
            assert np.percentile(err, 99) <= 1.0, (case, np.percentile(err, 99))
    assert len(sops) == len(result.paths) and not sops & source_uids
    events = audit.events(action="study_export")
    assert len(events) == 1
    assert events[0].detail["kind"] == "mpr"
    assert events[0].detail["derived_series_uid"] == result.series_instance_uid
    assert events[0].actor == "tester" and events[0].study_uid == source.StudyInstanceUID


def test_exported_stack_reimports_as_a_volume(
    oblique_series: list[Path], tmp_path: Path, audit: AuditLog
) -> None:
    volume = build_mpr_volume(load_frames(oblique_series))
    assert isinstance(volume, MprVolume)
    request = ReformatRequest(PlaneKind.SAGITTAL, spacing_mm=0.7, step_mm=1.0)
    source = pydicom.dcmread(oblique_series[0], stop_before_pixels=True)
    result = export_reformat(volume, source, request, tmp_path, audit=audit, actor=Actor())
    again = build_mpr_volume(load_frames(list(result.paths)))
    assert isinstance(again, MprVolume), again
    planes = reformat_planes(volume, request)
    for k in (0, len(planes) // 2, len(planes) - 1):
        assert np.allclose(again.index_to_patient([0, 0, k]), planes[k].origin_mm, atol=1e-3)
    assert again.spacing_mm == pytest.approx((0.7, 0.7, 1.0), abs=1e-3)
    assert not again.warnings


@pytest.mark.skipif(shutil.which("dciodvfy") is None, reason="dicom3tools not installed")
def test_exported_objects_pass_dciodvfy(
    oblique_series: list[Path], tmp_path: Path, audit: AuditLog
) -> None:
    volume = build_mpr_volume(load_frames(oblique_series))
    assert isinstance(volume, MprVolume)
    source = pydicom.dcmread(oblique_series[0], stop_before_pixels=True)
    for name, (request, _code) in CASES.items():
        result = export_reformat(
            volume, source, request, tmp_path / name, audit=audit, actor=Actor()
        )
        run = subprocess.run(
            ["dciodvfy", str(result.paths[0])], capture_output=True, text=True, timeout=60
        )
        errors = [
            line for line in (run.stdout + run.stderr).splitlines() if line.startswith("Error")
        ]
        assert not errors, (name, errors)
