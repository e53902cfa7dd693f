"""Data sets as a DICOM peer sends them (``store_bytes(..., received=...)``), and the
store path a waiting sender takes: inline commits, files fsynced while the statements
run, and never a row for a file that is not durable."""

from __future__ import annotations

import errno
import threading
from concurrent.futures import Future
from io import BytesIO
from typing import Any

import pydicom
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian, generate_uid

from tests.pacs_node.archive.synth import make_ct
from workstation.pacs_node.archive import Archive, Received, StoreStatus, part10
from workstation.pacs_node.archive.indexing import Prepared


def _sent(ds: Any, syntax: str = ExplicitVRLittleEndian) -> tuple[bytes, Received]:
    """The data set bytes a peer sends in ``syntax`` (no file meta), and its request."""
    ds.file_meta.TransferSyntaxUID = syntax
    buf = BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    raw = buf.getvalue()
    end = part10.meta_end(raw)
    assert end is not None
    return raw[end:], Received(syntax, str(ds.SOPClassUID), str(ds.SOPInstanceUID))


def test_a_received_data_set_is_stored_as_sent_behind_our_meta(archive: Archive) -> None:
    ds = make_ct(patient_name="SENT^AS^IS", instance_number=7)
    for syntax in (ExplicitVRLittleEndian, ImplicitVRLittleEndian):
        ds.SOPInstanceUID = generate_uid()
        body, received = _sent(ds, syntax)
        result = archive.store_bytes(body, source="c-store", received=received)
        assert result.status is StoreStatus.STORED, result.reason
        inst = archive.get_instance(received.sop_instance_uid)
        assert inst.transfer_syntax_uid == syntax and inst.instance_number == 7
        raw = inst.path.read_bytes()
        assert raw.endswith(body) and raw[128:132] == b"DICM"  # body byte for byte
        back = pydicom.dcmread(inst.path)
        assert back.PatientName == "SENT^AS^IS"
        assert back.file_meta.TransferSyntaxUID == syntax


def test_a_data_set_that_is_not_what_its_request_says_is_refused(archive: Archive) -> None:
    ds = make_ct()
    body, received = _sent(ds)
    other_uid = Received(received.transfer_syntax_uid, received.sop_class_uid, generate_uid())
    result = archive.store_bytes(body, source="c-store", received=other_uid)
    assert result.status is StoreStatus.MISMATCH and "Instance UID" in result.reason
    other_class = Received(
        received.transfer_syntax_uid, "1.2.840.10008.5.1.4.1.1.4", ds.SOPInstanceUID
    )
    result = archive.store_bytes(body, source="c-store", received=other_class)
    assert result.status is StoreStatus.MISMATCH and "Class UID" in result.reason
    assert archive.counts()["instances"] == 0
    # (the file a new instance's data set gets before its header is read is gone again)
    assert list(archive.blobs.iter_uuids()) == []


def test_same_instance_in_another_syntax_is_a_duplicate_other_content_a_conflict(
    archive: Archive,
) -> None:
    ds = make_ct()
    body, received = _sent(ds, ExplicitVRLittleEndian)
    assert archive.store_bytes(body, source="c-store", received=received).status is (
        StoreStatus.STORED
    )
    again = archive.store_bytes(body, source="c-store", received=received)
    assert again.status is StoreStatus.DUPLICATE
    implicit_body, implicit = _sent(ds, ImplicitVRLittleEndian)
    other_syntax = archive.store_bytes(implicit_body, source="c-move", received=implicit)
    assert other_syntax.status is StoreStatus.DUPLICATE
    ds.StudyDescription = "CHANGED"
    changed_body, changed = _sent(ds, ExplicitVRLittleEndian)
    conflict = archive.store_bytes(changed_body, source="c-store", received=changed)
    assert conflict.status is StoreStatus.CONFLICT
    assert archive.counts()["instances"] == 1


def test_an_unreadable_received_data_set_is_quarantined_as_a_dicom_file(
    archive: Archive,
) -> None:
    uid = generate_uid()
    junk = b"\x08\x00\x16\x00UI\xff\xff" + b"\x01" * 40  # an element running past the end
    received = Received(ExplicitVRLittleEndian, "1.2.840.10008.5.1.4.1.1.2", uid)
    result = archive.store_bytes(junk, source="c-store", received=received)
    assert result.status is StoreStatus.REJECTED and result.sop_instance_uid == uid
    assert result.quarantine_path is not None
    kept = result.quarantine_path.read_bytes()
    assert kept[128:132] == b"DICM" and kept.endswith(junk)
    assert list(archive.blobs.iter_uuids()) == []


def test_waiting_stores_from_many_threads_each_land_once(archive: Archive) -> None:
    """Inline commits (writer idle) and queued group commits mix; nothing is lost."""
    study, series = generate_uid(), generate_uid()
    sent = [
        _sent(make_ct(study_uid=study, series_uid=series, instance_number=i + 1)) for i in range(80)
    ]
    results: list[Any] = []
    lock = threading.Lock()

    def worker(k: int) -> None:
        for body, received in sent[k::8]:
            r = archive.store_bytes(body, source="c-store", received=received)
            with lock:
                results.append(r)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.status.value for r in results) == ["stored"] * 80
    study_rec = archive.get_study(study)
    assert (study_rec.num_instances, study_rec.num_series) == (80, 1)
    assert len(archive.find_instances(series)) == 80


def test_a_row_is_never_committed_for_a_file_that_did_not_become_durable(
    sqlite_archive: Archive,
) -> None:
    """The index commits only after each file's fsync; one that failed (here: the fsync
    result replaced by EIO) fails that instance alone and leaves no row and no file."""
    archive = sqlite_archive
    prepared: list[Prepared] = []
    for i in range(3):
        body, received = _sent(make_ct(instance_number=i + 1, patient_id=f"D{i}"))
        item = archive.preparer.prepare(body, "c-store", "", "", None, None, received, False)
        assert isinstance(item, Prepared) and item.durable is not None
        prepared.append(item)
    prepared[0].durable.result()
    failed: Future[None] = Future()
    failed.set_exception(OSError(errno.EIO, "Input/output error"))
    prepared[1].durable = failed
    futures = [archive._writer.submit(item) for item in prepared]
    results = [f.result() for f in futures]
    assert [r.status for r in results] == [
        StoreStatus.STORED,
        StoreStatus.FAILURE,
        StoreStatus.STORED,
    ]
    assert "Input/output error" in results[1].reason
    assert not archive.blobs.path(prepared[1].file_uuid).exists()
    assert archive.known_file_uuids(p.file_uuid for p in prepared) == {
        prepared[0].file_uuid,
        prepared[2].file_uuid,
    }


def test_consecutive_files_share_a_folder_and_ids_stay_unique(sqlite_archive: Archive) -> None:
    blobs = sqlite_archive.blobs
    ids = [blobs.new_uuid() for _ in range(blobs.LEAF_RUN * 2 + 10)]
    assert len(set(ids)) == len(ids)
    assert all(len(u) == 32 and int(u, 16) >= 0 for u in ids)
    folders = [u[:4] for u in ids]
    assert len(set(folders)) <= 3  # one folder per LEAF_RUN ids
    assert len(set(folders[: blobs.LEAF_RUN - 1])) == 1
