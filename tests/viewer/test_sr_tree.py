"""An SR as a readable tree, compared item by item with dcmtk's ``dsrdump`` (positions,
relationships, value types, concept names, values and units) on an SR our viewer wrote
(TID 1500), one dcmtk's ``xml2dsr`` wrote, and the public SRs in the test data; and the
caps that keep a hostile SR finite."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from tests.viewer import synthetic
from workstation.viewer.sr_tree import MAX_DEPTH, SrNode, read_sr_tree

TESTDATA_SRS = (
    "sr-comprehensive.dcm",
    "sr-basic-text-collectiveminds.dcm",
    "sr-basic-text-reportsi.dcm",
    "sr-basic-text-reportki.dcm",
)
_LINE = re.compile(r"^(?P<pos>\d+(?:\.\d+)*)\s+<(?P<body>.*)>(?:\s+\{[^}]*\})?$")
_ITEM = re.compile(
    r'^(?:(?P<rel>[a-z ]+?) )?(?P<type>[A-Z0-9]+):(?:\(,,"(?P<concept>.*?)"\))?=(?P<value>.*)$'
)
_BY_REFERENCE = re.compile(r"^(?P<rel>[a-z ]+) (?P<ref>\d+(?:\.\d+)*)$")

XML_SR = """<?xml version="1.0" encoding="UTF-8"?>
<report type="Enhanced SR">
<sopclass uid="1.2.840.10008.5.1.4.1.1.88.22">EnhancedSRStorage</sopclass>
<charset>ISO_IR 192</charset>
<modality>SR</modality>
<patient><id>DCMTK-1</id><name><first>Анна</first><last>Иванова</last></name></patient>
<study uid="1.2.826.0.1.3680043.8.498.1001"><description>dcmtk-made study</description></study>
<series uid="1.2.826.0.1.3680043.8.498.1002"><number>77</number></series>
<instance uid="1.2.826.0.1.3680043.8.498.1003"><number>1</number></instance>
<document>
<completion flag="COMPLETE"/>
<verification flag="UNVERIFIED"/>
<content>
<date>2026-12-01</date>
<time>10:20:30</time>
<container flag="SEPARATE">
<concept><value>18748-4</value><scheme><designator>LN</designator></scheme>
<meaning>Diagnostic imaging report</meaning></concept>
<container flag="SEPARATE">
<relationship>CONTAINS</relationship>
<concept><value>121071</value><scheme><designator>DCM</designator></scheme>
<meaning>Finding</meaning></concept>
<text>
<relationship>CONTAINS</relationship>
<concept><value>121071</value><scheme><designator>DCM</designator></scheme>
<meaning>Finding</meaning></concept>
<value>Узел в правом лёгком</value>
</text>
<num>
<relationship>CONTAINS</relationship>
<concept><value>410668003</value><scheme><designator>SCT</designator></scheme>
<meaning>Length</meaning></concept>
<value>12.5</value>
<unit><value>mm</value><scheme><designator>UCUM</designator></scheme>
<meaning>millimeter</meaning></unit>
</num>
<code>
<relationship>CONTAINS</relationship>
<concept><value>363698007</value><scheme><designator>SCT</designator></scheme>
<meaning>Finding site</meaning></concept>
<value>39607008</value><scheme><designator>SCT</designator></scheme><meaning>Lung</meaning>
</code>
</container>
<text>
<relationship>CONTAINS</relationship>
<concept><value>121076</value><scheme><designator>DCM</designator></scheme>
<meaning>Conclusion</meaning></concept>
<value>Follow-up CT in 3 months.</value>
</text>
</container>
</content>
</document>
</report>
"""


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (Debian dcmtk; scripts/test.sh installs it)")
    return path


def dsrdump_items(path: Path) -> dict[str, dict[str, str]]:
    """dsrdump's tree: position -> rel, type, concept, value (or ref)."""
    out = subprocess.run(
        [_tool("dsrdump"), "-q", "-Ph", "+Pn", "+Pl", "+U8", "-Ee", "-Ev", "-Ec", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    items: dict[str, dict[str, str]] = {}
    for line in out.stdout.splitlines():
        m = _LINE.match(line.strip())
        if not m:
            continue
        body = m["body"]
        item = _ITEM.match(body) or _BY_REFERENCE.match(body)
        assert item is not None, line
        items[m["pos"]] = {k: v or "" for k, v in item.groupdict().items()}
    assert items, out.stdout
    return items


def _escaped(text: str) -> str:
    return text.replace("\r", "\\r").replace("\n", "\\n")


def assert_same_tree(root: SrNode, reference: dict[str, dict[str, str]]) -> int:
    ours = {node.position: node for node in root.walk()}
    assert set(ours) == set(reference)
    for position, ref in reference.items():
        node = ours[position]
        assert node.relationship == ref["rel"], position
        if "ref" in ref:  # a by-reference item: points at another position
            assert node.reference == ref["ref"], position
            continue
        assert node.value_type == ref["type"], position
        assert node.concept == ref["concept"], position
        value = ref["value"]
        if node.value_type == "TEXT":
            assert f'"{_escaped(node.value)}"' == value, position
        elif node.value_type == "NUM" and value.startswith('"'):
            number, _sep, unit = value.partition(" (")
            assert node.value.split(" ")[0] == number.strip('"'), position
            assert node.units == unit.split(",")[0], position
        elif node.value_type == "CODE":
            assert value.endswith(f'"{node.value}")'), (position, value)
    return len(ours)


def _sr_from_our_viewer(tmp_path: Path) -> Path:
    pytest.importorskip("highdicom")
    from workstation.imaging.decode import decode_frame
    from workstation.imaging.frame import FrameRef
    from workstation.viewer.annotations import Annotation, Kind, evaluate
    from workstation.viewer.frames import FrameSlot
    from workstation.viewer.imaging_source import to_display_frame
    from workstation.viewer.sr_export import write_measurement_report

    (path,) = synthetic.write_ct_series(tmp_path / "ct", n=1, shuffle=False)
    ds = pydicom.dcmread(path)
    frame = to_display_frame(decode_frame(path), FrameSlot(FrameRef.of(path), ds.SOPInstanceUID))
    sop = ds.SOPInstanceUID
    anns = [
        evaluate(Annotation(Kind.LENGTH, ((10, 10), (40, 50)), sop), frame),
        evaluate(Annotation(Kind.ELLIPSE, ((65, 50), (95, 78)), sop), frame),
        evaluate(Annotation(Kind.TEXT, ((30, 20),), sop, text="nodule?"), frame),
    ]
    header = pydicom.dcmread(path, stop_before_pixels=True)
    return write_measurement_report(anns, {sop: header}, tmp_path / "sr.dcm")


def test_our_tid1500_report_reads_as_dsrdump_reads_it(tmp_path: Path) -> None:
    path = _sr_from_our_viewer(tmp_path)
    doc = read_sr_tree(path)
    assert doc.root is not None and doc.template == "1500" and doc.left_out == 0
    assert assert_same_tree(doc.root, dsrdump_items(path)) > 20
    groups = [n for n in doc.root.walk() if n.is_measurement_group]
    assert len(groups) == 3
    length = next(n for n in groups[0].children if n.concept == "Length")
    assert length.units == "mm" and length.value.endswith(" mm")
    area = next(n for n in groups[1].children if n.concept == "Area")
    assert area.units == "mm2"


def test_dcmtk_made_report_reads_as_dsrdump_reads_it(tmp_path: Path) -> None:
    xml = tmp_path / "report.xml"
    xml.write_text(XML_SR, encoding="utf-8")
    path = tmp_path / "dcmtk-sr.dcm"
    made = subprocess.run(
        [_tool("xml2dsr"), str(xml), str(path)], capture_output=True, text=True, timeout=60
    )
    assert made.returncode == 0, made.stderr
    doc = read_sr_tree(path)
    assert doc.root is not None and doc.title == "Diagnostic imaging report"
    assert assert_same_tree(doc.root, dsrdump_items(path)) == 6
    finding = doc.root.children[0]
    assert [c.value for c in finding.children] == ["Узел в правом лёгком", "12.5 mm", "Lung"]


@pytest.mark.parametrize("name", TESTDATA_SRS)
def test_public_reports_read_as_dsrdump_reads_them(testdata: Path, name: str) -> None:
    path = testdata / "documents" / name
    doc = read_sr_tree(path)
    assert doc.root is not None and doc.kind == "Structured report"
    assert assert_same_tree(doc.root, dsrdump_items(path)) >= 2


def _nested_sr(path: Path, depth: int, width: int = 1) -> Path:
    """A Basic Text SR whose containers nest ``depth`` deep, ``width`` texts at the top."""

    def concept(meaning: str) -> DicomSequence:
        code = Dataset()
        code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning = "1", "99TEST", meaning
        return DicomSequence([code])

    ds = Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.88.11"
    ds.SOPInstanceUID = generate_uid()
    ds.Modality = "SR"
    ds.ValueType = "CONTAINER"
    ds.ContinuityOfContent = "SEPARATE"
    ds.ConceptNameCodeSequence = concept("Root")
    items = []
    for i in range(width):
        text = Dataset()
        text.RelationshipType, text.ValueType = "CONTAINS", "TEXT"
        text.ConceptNameCodeSequence = concept("Line")
        text.TextValue = f"line {i}"
        items.append(text)
    inner = None
    for level in range(depth - 1):
        item = Dataset()
        item.RelationshipType, item.ValueType = "CONTAINS", "CONTAINER"
        item.ContinuityOfContent = "SEPARATE"
        item.ConceptNameCodeSequence = concept(f"Level {level}")
        if inner is not None:
            item.ContentSequence = DicomSequence([inner])
        inner = item
    if inner is not None:
        items.append(inner)
    ds.ContentSequence = DicomSequence(items)
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.save_as(path, enforce_file_format=True)
    return path


def _depth(node: SrNode) -> int:
    return 1 + max((_depth(c) for c in node.children), default=0)


def test_nesting_is_capped_and_what_is_left_out_is_counted(tmp_path: Path) -> None:
    path = _nested_sr(tmp_path / "deep.dcm", depth=MAX_DEPTH + 40)
    doc = read_sr_tree(path)
    assert doc.root is not None
    assert _depth(doc.root) == MAX_DEPTH
    assert doc.left_out == 40


def test_item_count_is_capped(tmp_path: Path) -> None:
    path = _nested_sr(tmp_path / "wide.dcm", depth=1, width=300)
    doc = read_sr_tree(path, max_nodes=101)
    assert doc.root is not None and len(list(doc.root.walk())) == 101
    assert doc.left_out == 200


def test_oversized_and_non_sr_files_are_refused(tmp_path: Path) -> None:
    path = _nested_sr(tmp_path / "small.dcm", depth=2)
    with pytest.raises(ValueError, match="too large"):
        read_sr_tree(path, max_bytes=100)
    junk = tmp_path / "junk.dcm"
    junk.write_bytes(b"%PDF-1.4 this is not DICOM")
    with pytest.raises(ValueError, match="cannot be read"):
        read_sr_tree(junk)
    (ct,) = synthetic.write_ct_series(tmp_path / "ct", n=1, shuffle=False)
    doc = read_sr_tree(ct)
    assert doc.root is None and doc.problems
