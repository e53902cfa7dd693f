"""DIMSE peers come only from DicomModalities: dcmtk as the foreign modality."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.central.orthanc.samples import ct_image

pytestmark = [
    pytest.mark.orthanc,
    pytest.mark.postgres,
    pytest.mark.network,
    pytest.mark.dcmtk,
    pytest.mark.skipif(shutil.which("echoscu") is None, reason="dcmtk not installed"),
]


def _aet() -> str:
    return "T" + uuid.uuid4().hex[:10].upper()


def _run(tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([tool, *args], capture_output=True, text=True, timeout=60)


def _echo(orthanc, calling: str, called: str | None = None) -> bool:  # type: ignore[no-untyped-def]
    r = _run(
        "echoscu",
        "-aet",
        calling,
        "-aec",
        called or orthanc.aet,
        "127.0.0.1",
        str(orthanc.dicom_port),
    )
    return r.returncode == 0


def _store(orthanc, calling: str, path: Path) -> bool:  # type: ignore[no-untyped-def]
    r = _run(
        "storescu",
        "-aet",
        calling,
        "-aec",
        orthanc.aet,
        "127.0.0.1",
        str(orthanc.dicom_port),
        str(path),
    )
    return r.returncode == 0


def _stored(orthanc, sop_uid: str) -> bool:  # type: ignore[no-untyped-def]
    r = requests.post(
        f"{orthanc.http_url}/tools/lookup",
        data=sop_uid,
        headers=orthanc.headers("admin"),
        timeout=30,
    )
    r.raise_for_status()
    return any(item["Type"] == "Instance" for item in r.json())


@pytest.fixture
def ct_file(tmp_path: Path) -> tuple[Path, str]:
    ct = ct_image()
    path = tmp_path / "ct.dcm"
    path.write_bytes(ct.data)
    return path, ct.sop_uid


@pytest.fixture
def listed(orthanc) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """An AE title declared in DicomModalities (echo and store only) for this test."""
    aet = _aet()
    name = aet.lower()
    orthanc.add_modality(name, aet, 104, AllowEcho=True, AllowStore=True)
    yield aet
    orthanc.remove_modality(name)


def test_unlisted_ae_is_refused(orthanc, ct_file: tuple[Path, str]) -> None:  # type: ignore[no-untyped-def]
    path, sop_uid = ct_file
    stranger = _aet()
    assert not _echo(orthanc, stranger)
    assert not _store(orthanc, stranger, path)
    assert not _stored(orthanc, sop_uid)


def test_listed_ae_may_echo_and_store(orthanc, listed: str, ct_file: tuple[Path, str]) -> None:  # type: ignore[no-untyped-def]
    path, sop_uid = ct_file
    assert _echo(orthanc, listed)
    assert _store(orthanc, listed, path)
    assert _stored(orthanc, sop_uid)


def _find(orthanc, calling: str) -> str:  # type: ignore[no-untyped-def]
    r = _run(
        "findscu",
        "-S",
        "-aet",
        calling,
        "-aec",
        orthanc.aet,
        "-k",
        "QueryRetrieveLevel=STUDY",
        "-k",
        "StudyInstanceUID",
        "127.0.0.1",
        str(orthanc.dicom_port),
    )
    return r.stdout + r.stderr


def test_listed_ae_gets_only_the_services_it_was_given(orthanc, listed: str) -> None:  # type: ignore[no-untyped-def]
    assert "Find Failed" in _find(orthanc, listed)  # echo and store only
    finder = _aet()
    orthanc.add_modality(finder.lower(), finder, 104, AllowFind=True)
    try:
        output = _find(orthanc, finder)
        assert "Find Failed" not in output, output
        assert "Aborted" not in output and "aborted" not in output, output
    finally:
        orthanc.remove_modality(finder.lower())


def test_wrong_called_ae_title_is_refused(orthanc, listed: str) -> None:  # type: ignore[no-untyped-def]
    assert _echo(orthanc, listed)
    assert not _echo(orthanc, listed, called="NOT-KLINIKA")


def test_listed_ae_from_another_host_is_refused(orthanc) -> None:  # type: ignore[no-untyped-def]
    aet = _aet()
    orthanc.add_modality(aet.lower(), aet, 104, host="127.0.0.2", AllowEcho=True)
    try:
        assert not _echo(orthanc, aet)  # we call from 127.0.0.1
    finally:
        orthanc.remove_modality(aet.lower())


def test_modalities_are_admin_configuration(orthanc) -> None:  # type: ignore[no-untyped-def]
    aet = _aet()
    entry = {"AET": aet, "Host": "127.0.0.1", "Port": 104, "AllowEcho": True}
    for role in ("doctor", "operator", None):
        r = requests.put(
            f"{orthanc.http_url}/modalities/{aet.lower()}",
            json=entry,
            headers=orthanc.headers(role),
            timeout=30,
        )
        assert r.status_code == 403
    assert not _echo(orthanc, aet)
