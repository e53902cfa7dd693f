"""Measurements exported as DICOM SR TID 1500, read back with pydicom and highdicom."""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest

from tests.viewer import synthetic
from workstation.imaging.decode import decode_frame
from workstation.imaging.frame import FrameRef
from workstation.viewer.annotations import Annotation, Kind, evaluate
from workstation.viewer.frames import FrameSlot
from workstation.viewer.imaging_source import to_display_frame

pytest.importorskip("highdicom")


def test_sr_holds_values_units_and_references(tmp_path: Path) -> None:
    import highdicom as hd

    (path,) = synthetic.write_ct_series(tmp_path / "ct", n=1, shuffle=False)
    ds = pydicom.dcmread(path)
    frame = to_display_frame(decode_frame(path), FrameSlot(FrameRef.of(path), ds.SOPInstanceUID))
    sop = ds.SOPInstanceUID
    anns = [
        evaluate(Annotation(Kind.LENGTH, ((10, 10), (40, 50)), sop), frame),
        evaluate(Annotation(Kind.ANGLE, ((30, 90), (60, 90), (60, 60)), sop), frame),
        evaluate(Annotation(Kind.COBB, ((0, 0), (10, 0), (0, 5), (10, 15)), sop), frame),
        evaluate(Annotation(Kind.ELLIPSE, ((65, 50), (95, 78)), sop), frame),
        evaluate(Annotation(Kind.RECTANGLE, ((70, 54), (90, 74)), sop), frame),
        evaluate(
            Annotation(Kind.FREEHAND, ((100, 40), (130, 45), (140, 70), (110, 90)), sop), frame
        ),
        evaluate(Annotation(Kind.PROBE, ((45, 37),), sop), frame),
        evaluate(Annotation(Kind.TEXT, ((30, 20),), sop, text="nodule?"), frame),
        evaluate(Annotation(Kind.ARROW, ((20, 110), (70, 70)), sop, text="here"), frame),
    ]
    from workstation.viewer.sr_export import write_measurement_report

    header = pydicom.dcmread(path, stop_before_pixels=True)
    out = write_measurement_report(anns, {sop: header}, tmp_path / "sr.dcm")
    sr = pydicom.dcmread(out)
    assert sr.SOPClassUID == "1.2.840.10008.5.1.4.1.1.88.34"  # Comprehensive 3D SR
    assert sr.StudyInstanceUID == ds.StudyInstanceUID
    assert sr.ContentTemplateSequence[0].TemplateIdentifier == "1500"
    report = hd.sr.srread(out)
    groups = report.content.get_planar_roi_measurement_groups()
    assert len(groups) == len(anns)
    by_id = {g.tracking_identifier: g for g in groups}
    length = by_id["length 1"].get_measurements()[0]
    assert length.value == pytest.approx(anns[0].results["length"])
    assert length.unit.value == "mm"
    ellipse = {m.name.meaning: m for m in by_id["ellipse 4"].get_measurements()}
    assert ellipse["Mean"].value == pytest.approx(0.0)
    assert ellipse["Mean"].unit.value == "[hnsf'U]"
    assert ellipse["Area"].value == pytest.approx(anns[3].results["area"])
    assert by_id["cobb 3"].get_measurements()[0].value == pytest.approx(anns[2].results["angle"])
    assert "nodule?" in by_id and "here" in by_id
    # The region points back at the image, in DICOM's pixel-corner convention (+0.5).
    region = by_id["length 1"].roi
    assert region.value[0] == pytest.approx(10.5)
    ref = (
        region.ReferencedImageSequence[0]
        if hasattr(region, "ReferencedImageSequence")
        else (region.ContentSequence[0].ReferencedSOPSequence[0])
    )
    assert ref.ReferencedSOPInstanceUID == sop
