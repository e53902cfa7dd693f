"""Our SCP against dcmtk as the foreign peer: echo, store (compressed as sent), find,
get and move, with the AE table deciding who may do what."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from pydicom import dcmread
from pydicom.uid import JPEG2000Lossless, RLELossless

from tests.pacs_node.dimse.conftest import (
    DCMTK_AET,
    NODE_AET,
    needs,
    received_files,
    run,
)
from tests.pacs_node.dimse.data import write_study

pytestmark = [pytest.mark.network, pytest.mark.dcmtk]


def _store(node: Any, files: list[Path], *options: str, aet: str = DCMTK_AET) -> Any:
    needs("storescu")
    return run(
        ["storescu", "-aet", aet, "-aec", NODE_AET, *options, "127.0.0.1", str(node.port),
         *map(str, files)]
    )  # fmt: skip


def _find(
    node: Any, out: Path, *keys: str, aet: str = DCMTK_AET, root: str = "-S", log: str = "-v"
) -> tuple[Any, list[Any]]:
    needs("findscu")
    out.mkdir(parents=True, exist_ok=True)
    args = ["findscu", log, "-aet", aet, "-aec", NODE_AET, root, "-X", "-od", str(out)]
    for key in keys:
        args += ["-k", key]
    result = run([*args, "127.0.0.1", str(node.port)])
    return result, [dcmread(p) for p in sorted(out.glob("rsp*.dcm"))]


def test_echoscu(node: Any) -> None:
    needs("echoscu")
    result = run(["echoscu", "-aet", "ANYONE", "-aec", NODE_AET, "127.0.0.1", str(node.port)])
    assert result.returncode == 0, result.stderr


def test_storescu_many_files_stored_as_sent(node: Any, archive: Any, tmp_path: Path) -> None:
    plain = write_study(tmp_path / "plain", 20, patient_id="P-PLAIN")
    rle = write_study(tmp_path / "rle", 8, syntaxes=(RLELossless,), patient_id="P-RLE")
    j2k = write_study(
        tmp_path / "j2k", 6, syntaxes=(JPEG2000Lossless,), size=64, patient_id="P-J2K"
    )
    for files, option in ((plain, "-xe"), (rle, "-xr"), (j2k, "-xv")):
        result = _store(node, files, option, aet="MODALITY1")  # unknown AE may store
        assert result.returncode == 0, result.stderr
    assert archive.counts()["instances"] == 34
    for path in plain + rle + j2k:
        sent = dcmread(path, stop_before_pixels=True)
        stored = archive.get_instance(sent.SOPInstanceUID)
        assert stored.transfer_syntax_uid == sent.file_meta.TransferSyntaxUID
        assert dcmread(stored.path).PixelData == dcmread(path).PixelData


def test_storescu_real_jpeg_lossless_series(node: Any, archive: Any, testdata: Path) -> None:
    files = sorted((testdata / "series" / "ct-chest-ricord-255sl-jpegll").glob("*.dcm"))[:40]
    result = _store(node, files, "-xs")
    assert result.returncode == 0, result.stderr
    assert archive.counts()["instances"] == len(files)
    first = archive.get_instance(dcmread(files[0], stop_before_pixels=True).SOPInstanceUID)
    assert first.transfer_syntax_uid == "1.2.840.10008.1.2.4.70"


def test_findscu_study_series_image_levels(node: Any, archive: Any, tmp_path: Path) -> None:
    files = write_study(tmp_path / "s", 3, patient_name="ORLOV^IVAN", patient_id="P-FIND")
    write_study(tmp_path / "t", 2, patient_name="PETROV^PETR", patient_id="P-OTHER")
    assert _store(node, files + sorted((tmp_path / "t").glob("*.dcm"))).returncode == 0
    study_uid = dcmread(files[0]).StudyInstanceUID

    result, matches = _find(
        node, tmp_path / "r1", "QueryRetrieveLevel=STUDY", "PatientName=ORL*",
        "StudyInstanceUID", "NumberOfStudyRelatedInstances", "ModalitiesInStudy",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert [m.StudyInstanceUID for m in matches] == [study_uid]
    assert int(matches[0].NumberOfStudyRelatedInstances) == 3
    assert "CT" in matches[0].ModalitiesInStudy

    result, matches = _find(
        node, tmp_path / "r2", "QueryRetrieveLevel=SERIES", f"StudyInstanceUID={study_uid}",
        "SeriesInstanceUID", "Modality",
    )  # fmt: skip
    assert result.returncode == 0 and len(matches) == 1 and matches[0].Modality == "CT"

    result, matches = _find(
        node, tmp_path / "r3", "QueryRetrieveLevel=IMAGE", f"StudyInstanceUID={study_uid}",
        f"SeriesInstanceUID={matches[0].SeriesInstanceUID}", "SOPInstanceUID",
    )  # fmt: skip
    assert result.returncode == 0
    assert sorted(m.SOPInstanceUID for m in matches) == sorted(
        dcmread(f).SOPInstanceUID for f in files
    )

    result, matches = _find(
        node, tmp_path / "r4", "QueryRetrieveLevel=PATIENT", "PatientID=P-FIND", "PatientName",
        root="-P",
    )  # fmt: skip
    assert result.returncode == 0 and [str(m.PatientName) for m in matches] == ["ORLOV^IVAN"]


def test_find_from_unknown_ae_is_refused_but_it_may_still_store(
    node: Any, archive: Any, tmp_path: Path
) -> None:
    files = write_study(tmp_path / "s", 2)
    assert _store(node, files, aet="STRANGER").returncode == 0
    result, matches = _find(node, tmp_path / "r", "QueryRetrieveLevel=STUDY", aet="STRANGER")
    assert result.returncode != 0 and matches == []
    assert "Presentation Context" in result.stderr or "presentation context" in result.stderr
    assert archive.counts()["instances"] == 2


def test_find_results_are_capped_with_a_status(node_config: Any, tmp_path: Path) -> None:
    from workstation.pacs_node.archive.archive import Archive
    from workstation.pacs_node.dimse.service import start_node_service

    capped = dataclasses.replace(
        node_config, node=dataclasses.replace(node_config.node, max_find_results=2)
    )
    with Archive.open(capped) as archive, start_node_service(capped, archive) as svc:
        for i in range(4):
            assert _store(svc, write_study(tmp_path / f"s{i}", 1)).returncode == 0
        result, matches = _find(
            svc, tmp_path / "r", "QueryRetrieveLevel=STUDY", "StudyInstanceUID", log="-d"
        )
    assert len(matches) == 2
    assert "a700" in result.stderr.lower()
    assert "narrow the query" in result.stderr


@pytest.mark.parametrize(
    "pattern",
    [
        "%",
        "_",
        "%' OR '1'='1",
        "*' OR 1=1 --",
        "\\",
        "ORL%",
        "[A-Z]*",
        "*'; DROP TABLE studies; --",
    ],
)
def test_sql_looking_wildcards_match_literally(node: Any, tmp_path: Path, pattern: str) -> None:
    files = write_study(tmp_path / "s", 1, patient_name="ORLOV^IVAN", patient_id="P1")
    assert _store(node, files).returncode == 0
    result, matches = _find(
        node, tmp_path / "r", "QueryRetrieveLevel=STUDY", f"PatientName={pattern}", "PatientID"
    )
    assert matches == []
    assert result.returncode == 0, result.stderr
    echo = run(["echoscu", "-aec", NODE_AET, "127.0.0.1", str(node.port)])
    assert echo.returncode == 0


def test_getscu_retrieves_a_study(node: Any, tmp_path: Path) -> None:
    needs("getscu")
    files = write_study(tmp_path / "s", 5, syntaxes=(None, RLELossless))
    assert _store(node, files, "-xr").returncode == 0
    study_uid = dcmread(files[0]).StudyInstanceUID
    out = tmp_path / "got"
    out.mkdir()
    result = run(
        ["getscu", "-aet", DCMTK_AET, "-aec", NODE_AET, "-S", "-k", "QueryRetrieveLevel=STUDY",
         "-k", f"StudyInstanceUID={study_uid}", "-od", str(out), "127.0.0.1", str(node.port)]
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    got = {dcmread(p).SOPInstanceUID for p in received_files(out)}
    assert got == {dcmread(p).SOPInstanceUID for p in files}


def test_movescu_to_a_table_destination(node: Any, tmp_path: Path, dcmtk_port: int) -> None:
    needs("movescu")
    files = write_study(tmp_path / "s", 4)
    assert _store(node, files).returncode == 0
    study_uid = dcmread(files[0]).StudyInstanceUID
    out = tmp_path / "moved"
    out.mkdir()
    result = run(
        ["movescu", "-aet", DCMTK_AET, "-aec", NODE_AET, "-aem", DCMTK_AET, "--port",
         str(dcmtk_port), "-S", "-k", "QueryRetrieveLevel=STUDY", "-k",
         f"StudyInstanceUID={study_uid}", "-od", str(out), "127.0.0.1", str(node.port)],
        env={"TCP_NODELAY": "1"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert {dcmread(p).SOPInstanceUID for p in received_files(out)} == {
        dcmread(p).SOPInstanceUID for p in files
    }


def test_move_to_unknown_destination_is_a801(node: Any, tmp_path: Path) -> None:
    needs("movescu")
    files = write_study(tmp_path / "s", 1)
    assert _store(node, files).returncode == 0
    result = run(
        ["movescu", "-v", "-aet", DCMTK_AET, "-aec", NODE_AET, "-aem", "ELSEWHERE", "-S", "-k",
         "QueryRetrieveLevel=STUDY", "-k", f"StudyInstanceUID={dcmread(files[0]).StudyInstanceUID}",
         "127.0.0.1", str(node.port)]
    )  # fmt: skip
    assert "MoveDestinationUnknown" in result.stderr or "a801" in result.stderr.lower()
    assert node.stats.moves >= 1


def test_move_by_a_caller_that_may_not_retrieve(node: Any, tmp_path: Path) -> None:
    needs("movescu")
    files = write_study(tmp_path / "s", 1)
    assert _store(node, files).returncode == 0
    result = run(
        ["movescu", "-aet", "STRANGER", "-aec", NODE_AET, "-aem", DCMTK_AET, "-S", "-k",
         "QueryRetrieveLevel=STUDY", "-k", f"StudyInstanceUID={dcmread(files[0]).StudyInstanceUID}",
         "127.0.0.1", str(node.port)]
    )  # fmt: skip
    assert result.returncode != 0
    assert "Presentation Context" in result.stderr or "presentation context" in result.stderr


def test_table_caller_from_wrong_host_is_not_trusted(node_config: Any, tmp_path: Path) -> None:
    from workstation.config import PeerNode
    from workstation.pacs_node.archive.archive import Archive
    from workstation.pacs_node.dimse.service import start_node_service

    far = (PeerNode(name="far", ae_title=DCMTK_AET, host="192.0.2.7", may_query=True),)
    cfg = dataclasses.replace(node_config, node=dataclasses.replace(node_config.node, peers=far))
    with Archive.open(cfg) as archive, start_node_service(cfg, archive) as svc:
        _store(svc, write_study(tmp_path / "s", 1))
        result, matches = _find(svc, tmp_path / "r", "QueryRetrieveLevel=STUDY")
    assert result.returncode != 0 and matches == []
