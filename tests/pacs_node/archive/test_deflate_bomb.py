"""A deflate bomb beside good files costs none of them (issue 16, Build 1).

The bomb is a Deflated Explicit VR CT of about 4 MB whose data set inflates to 3.75 GiB.
pydicom inflates such a data set whole; the archive inflates it in bounded steps,
counts it against ``archive.max_inflated_bytes`` and refuses it, and every good file
beside it is stored, in every run.
"""

from __future__ import annotations

import dataclasses
import json
import os
import resource
import shutil
import subprocess
import sys
import zlib
from pathlib import Path

import pydicom
import pytest

from tests.pacs_node.archive.conftest import settings_with
from tests.pacs_node.archive.hostile import deflate_bomb, deflated_ct
from tests.pacs_node.archive.synth import write_series
from workstation.config import Settings
from workstation.pacs_node.archive import Archive, part10
from workstation.pacs_node.archive.errors import InvalidDicomError
from workstation.pacs_node.archive.importing import Importer
from workstation.pacs_node.archive.inflate import InflateLimitError, inflate_header
from workstation.pacs_node.archive.results import Received, StoreStatus

GOOD_FILES = 20


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return deflate_bomb(tmp_path_factory.mktemp("bomb") / "bomb.dcm")


@pytest.fixture
def bomb_folder(tmp_path: Path, bomb: Path) -> tuple[Path, set[str]]:
    folder = tmp_path / "series"
    good = write_series(folder, GOOD_FILES, size=64)
    shutil.copyfile(bomb, folder / "IM00000.dcm")  # the importer meets it among the first
    uids = {str(pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID) for p in good}
    return folder, uids


def _fresh(settings: Settings, run: int, **changes: object) -> Settings:
    home = settings.home / f"run{run}"
    return settings_with(dataclasses.replace(settings, home=home), **changes)


def _import_once(settings: Settings, folder: Path) -> tuple[set[str], list]:
    with Archive.open(settings) as archive:
        summary = Importer(archive).run([folder])
        stored = {
            i.sop_instance_uid
            for s in archive.find_studies()
            for i in archive.study_instances(s.study_instance_uid)
        }
    return stored, summary.rejected


def test_the_bomb_folder_imports_every_good_file_in_every_run(
    settings: Settings, bomb_folder: tuple[Path, set[str]], soak: int
) -> None:
    folder, good_uids = bomb_folder
    # CI: 20 runs with a 64 MiB cap (the bomb is refused after 64 MiB of inflation) and
    # one with the default 1 GiB cap; KLINIKA_FULL=1: all 20 with the default cap.
    caps = [None] * 20 if soak > 1 else [64 * 1024**2] * 20 + [None]
    for run, cap in enumerate(caps):
        changes = {} if cap is None else {"max_inflated_bytes": cap}
        stored, rejected = _import_once(_fresh(settings, run, **changes), folder)
        assert stored == good_uids, f"run {run}: {len(good_uids - stored)} good files lost"
        assert [Path(r.origin).name for r in rejected] == ["IM00000.dcm"], run
        limit = cap or settings.archive.max_inflated_bytes
        assert f"more than {limit} bytes" in rejected[0].reason
        assert "max_inflated_bytes" in rejected[0].reason
        # Kept in quarantine as it came, beside its reason.
        assert (
            rejected[0].quarantine_path.read_bytes() == folder.joinpath("IM00000.dcm").read_bytes()
        )


def test_a_memory_capped_import_process_survives_the_bomb(
    tmp_path: Path, bomb_folder: tuple[Path, set[str]]
) -> None:
    """The real command in a process limited to 1.2 GB of address space: before the fix
    the bomb's inflation (and 4 GiB read buffers) made every file fail with MemoryError."""
    folder, _good = bomb_folder
    deflated_ct(folder / "honest-deflated.dcm", patient_id="DEFL")
    cap = 1200 * 1024**2

    def limit_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    env = {**os.environ, "WORKSTATION_HOME": str(tmp_path / "home"), "MALLOC_ARENA_MAX": "2"}
    proc = subprocess.run(
        [sys.executable, "-m", "workstation", "import", str(folder), "--json"],
        env=env, capture_output=True, text=True, timeout=300, preexec_fn=limit_memory,
        check=False,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr[-2000:]
    summary = json.loads(proc.stdout)
    assert summary["stored"] == GOOD_FILES + 1, proc.stdout[-3000:]
    assert [Path(r["origin"]).name for r in summary["rejected_files"]] == ["IM00000.dcm"]
    assert "MemoryError" not in proc.stderr


def test_honest_deflated_files_are_read_like_pydicom_reads_them(
    sqlite_archive: Archive, tmp_path: Path, testdata_or_none: Path | None
) -> None:
    files = [deflated_ct(tmp_path / "a.dcm", patient_name="Иванов^Иван", charset="ISO_IR 192")]
    if testdata_or_none is not None:
        files += sorted((testdata_or_none / "transfer-syntaxes").rglob("*.dcm"))
        files = [p for p in files if _is_deflated(p)]
        assert len(files) >= 3
    for path in files:
        result = sqlite_archive.store_file(path)
        assert result.status in (StoreStatus.STORED, StoreStatus.DUPLICATE), (path, result.reason)
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        record = sqlite_archive.get_instance(str(ds.SOPInstanceUID))
        assert record.series_instance_uid == str(ds.SeriesInstanceUID)
        study = sqlite_archive.get_study(str(ds.StudyInstanceUID))
        assert study.patient_name == str(ds.get("PatientName", ""))
        # Stored as it came: the deflated body unchanged.
        assert record.path.read_bytes().endswith(path.read_bytes()[-1000:])


def _is_deflated(path: Path) -> bool:
    meta = part10.read_meta(path.read_bytes())
    return meta is not None and meta[1].get(0x0010) == "1.2.840.10008.1.2.1.99"


@pytest.fixture
def testdata_or_none() -> Path | None:
    from tests.conftest import TESTDATA

    return TESTDATA


def test_a_received_bomb_is_refused_with_the_same_cap(settings: Settings, bomb: Path) -> None:
    """A C-STORE data set (no file meta) in the deflated syntax takes the same bounded path."""
    with Archive.open(settings_with(settings, max_inflated_bytes=64 * 1024**2)) as archive:
        _store_received_bomb(archive, bomb)


def _store_received_bomb(sqlite_archive: Archive, bomb: Path) -> None:
    data = bomb.read_bytes()
    meta = part10.read_meta(data)  # (pydicom would inflate the whole bomb to read it)
    assert meta is not None
    body_at, values = meta
    received = Received("1.2.840.10008.1.2.1.99", values[0x0002], values[0x0003])
    result = sqlite_archive.store_bytes(data[body_at:], source="c-store", received=received)
    assert result.status is StoreStatus.REJECTED
    assert "max_inflated_bytes" in result.reason
    assert sqlite_archive.counts()["instances"] == 0
    assert not list(sqlite_archive.store_root.glob("??/??/*.dcm"))  # nothing half-written


def test_inflate_header_keeps_the_head_and_counts_the_rest() -> None:
    payload = b"head" * 1000 + bytes(10 * 1024**2)
    packer = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    stream = packer.compress(payload) + packer.flush()
    assert inflate_header(stream, len(payload), keep=4000) == payload[:4000]
    assert inflate_header(stream + b"\0", len(payload)) == payload  # padding ignored
    with pytest.raises(InflateLimitError):
        inflate_header(stream, len(payload) - 1)
    with pytest.raises(InvalidDicomError):
        inflate_header(b"\xff" * 64, 1024)
