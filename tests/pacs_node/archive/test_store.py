"""Storing, querying and deleting on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from io import BytesIO

import pydicom
import pytest
from pydicom.uid import generate_uid

from tests.pacs_node.archive.conftest import settings_with
from tests.pacs_node.archive.synth import make_ct
from workstation.pacs_node.archive import Archive, ChangeEvent, StoreStatus, StudyQuery
from workstation.pacs_node.archive.errors import NotFoundError


def test_store_dataset_is_durable_and_indexed(archive: Archive) -> None:
    ds = make_ct(patient_name="DOE^JANE", instance_number=3)
    result = archive.store_dataset(ds, source="c-store", calling_aet="MODALITY")
    assert result.status is StoreStatus.STORED
    assert result.sop_instance_uid == ds.SOPInstanceUID
    assert result.study_instance_uid == ds.StudyInstanceUID
    assert archive.counts() == {"patients": 1, "studies": 1, "series": 1, "instances": 1}
    path = archive.instance_file(ds.SOPInstanceUID)
    raw = path.read_bytes()
    assert raw[:128] == b"\x00" * 128 and raw[128:132] == b"DICM"
    assert ds.SOPInstanceUID not in str(path)
    back = pydicom.dcmread(path)
    assert back.PatientName == "DOE^JANE"
    assert back.pixel_array.tolist() == ds.pixel_array.tolist()
    inst = archive.get_instance(ds.SOPInstanceUID)
    assert inst.instance_number == 3
    assert inst.image_position_patient == (0.0, 0.0, 3.0)
    assert inst.image_orientation_patient == (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
    assert (inst.rows, inst.columns) == (16, 16)


def test_preamble_is_zeroed(archive: Archive) -> None:
    buf = BytesIO()
    ds = make_ct()
    ds.preamble = b"MZ" + b"\x90" * 126  # an executable's header in the preamble
    ds.save_as(buf, enforce_file_format=True)
    assert buf.getvalue()[:2] == b"MZ"
    result = archive.store_bytes(buf.getvalue(), source="import")
    assert result.status is StoreStatus.STORED
    assert archive.instance_file(ds.SOPInstanceUID).read_bytes()[:128] == b"\x00" * 128


def test_duplicate_and_conflict_keep(archive: Archive) -> None:
    ds = make_ct()
    assert archive.store_dataset(ds, source="import").status is StoreStatus.STORED
    again = archive.store_dataset(ds, source="import")
    assert again.status is StoreStatus.DUPLICATE
    ds.StudyDescription = "SOMETHING ELSE"
    conflict = archive.store_dataset(ds, source="import")
    assert conflict.status is StoreStatus.CONFLICT
    assert conflict.reason
    assert conflict.quarantine_path is not None and conflict.quarantine_path.is_file()
    assert conflict.quarantine_path.with_suffix(".txt").read_text().startswith("reason:")
    assert archive.counts()["instances"] == 1
    assert archive.get_study(ds.StudyInstanceUID).study_description == "CHEST"


def test_conflict_replace_policy(backend_settings) -> None:  # type: ignore[no-untyped-def]
    a = Archive.open(settings_with(backend_settings, conflict_policy="replace"))
    try:
        ds = make_ct()
        a.store_dataset(ds, source="import")
        old_path = a.instance_file(ds.SOPInstanceUID)
        ds.SeriesDescription = "NEWER"
        ds.InstanceNumber = 9
        seen: list[ChangeEvent] = []
        a.subscribe(seen.extend)
        result = a.store_dataset(ds, source="import")
        assert result.status is StoreStatus.STORED and result.replaced
        assert a.get_instance(ds.SOPInstanceUID).instance_number == 9
        assert not old_path.exists()
        assert pydicom.dcmread(a.instance_file(ds.SOPInstanceUID)).SeriesDescription == "NEWER"
        assert a.counts()["instances"] == 1
        assert any(c.change_type == "instance_replaced" for c in seen)
    finally:
        a.close()


def test_patient_identity_conflict_is_flagged_not_merged(archive: Archive) -> None:
    first = archive.store_dataset(make_ct(patient_name="PETROV^IVAN"), source="import")
    second = archive.store_dataset(
        make_ct(patient_name="SIDOROV^PYOTR", birth_date="19800505"), source="import"
    )
    assert first.status is second.status is StoreStatus.STORED
    assert second.patient_conflict and not first.patient_conflict
    assert archive.counts()["patients"] == 2
    conflicts = archive.patient_conflicts()
    assert len(conflicts) == 1
    c = conflicts[0]
    assert (c.patient_id, c.existing_name, c.new_name) == (
        "PID0001",
        "PETROV^IVAN",
        "SIDOROV^PYOTR",
    )
    # The same identity again is not a new conflict.
    archive.store_dataset(make_ct(patient_name="PETROV^IVAN"), source="import")
    assert len(archive.patient_conflicts()) == 1


def test_rejects_without_uids_and_quarantines(archive: Archive) -> None:
    ds = make_ct()
    del ds.StudyInstanceUID
    buf = BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    result = archive.store_bytes(buf.getvalue(), source="import", origin="test input")
    assert result.status is StoreStatus.REJECTED
    assert "Study Instance UID" in result.reason
    assert result.quarantine_path is not None and result.quarantine_path.is_file()
    assert "test input" in result.quarantine_path.with_suffix(".txt").read_text()
    junk = archive.store_bytes(b"hello, not dicom" * 20, source="import")
    assert junk.status is StoreStatus.REJECTED and junk.quarantine_path is None
    assert archive.counts()["instances"] == 0


def test_storage_full_is_a_status(backend_settings) -> None:  # type: ignore[no-untyped-def]
    a = Archive.open(settings_with(backend_settings, min_free_bytes=1 << 62))
    try:
        result = a.store_dataset(make_ct(), source="c-store")
        assert result.status is StoreStatus.STORAGE_FULL
        assert a.counts()["instances"] == 0
    finally:
        a.close()


def _populate(archive: Archive) -> dict[str, str]:
    uids = {}
    people = [
        ("Иванов^Иван", "RU1", "20240110", "CT", "Грудная клетка"),
        ("MÜLLER^JÜRGEN", "DE1", "20240220", "MR", "Kopf"),
        ("O'BRIEN^SEAN", "IE1", "20230305", "CT", "ABDOMEN"),
        ("SMITH^ANNA", "US1", "20240305", "US", "Obstetric"),
    ]
    for i, (name, pid, date, modality, desc) in enumerate(people):
        ds = make_ct(
            patient_name=name,
            patient_id=pid,
            study_date=date,
            modality=modality,
            description=desc,
            accession=f"A{i}",
        )
        assert archive.store_dataset(ds, source="import").status is StoreStatus.STORED
        uids[pid] = ds.StudyInstanceUID
    # A second series (SR) in the Russian study: modalities in study = CT + SR.
    sr = make_ct(patient_name="Иванов^Иван", patient_id="RU1", study_uid=uids["RU1"], modality="SR")
    archive.store_dataset(sr, source="import")
    return uids


def _pids(archive: Archive, **kw: object) -> list[str]:
    return sorted(s.patient_id for s in archive.find_studies(StudyQuery(**kw)))  # type: ignore[arg-type]


def test_study_search(archive: Archive) -> None:
    uids = _populate(archive)
    assert _pids(archive, patient_name="иванов") == ["RU1"]
    assert _pids(archive, patient_name="ИВАН*") == ["RU1"]
    assert _pids(archive, patient_name="muller") == ["DE1"]
    assert _pids(archive, patient_name="Müller^Jürgen") == ["DE1"]
    assert _pids(archive, patient_name="o'b?ien*") == ["IE1"]
    assert _pids(archive, patient_name="*an*") == ["IE1", "US1"]  # Latin "an" only
    assert _pids(archive, patient_name="*ван*") == ["RU1"]
    assert _pids(archive, modality="CT") == ["IE1", "RU1"]
    assert _pids(archive, modality="SR") == ["RU1"]
    assert _pids(archive, modality="MR,US") == ["DE1", "US1"]
    assert _pids(archive, date_from="20240101", date_to="20240229") == ["DE1", "RU1"]
    assert _pids(archive, date_from="20240301") == ["US1"]
    assert _pids(archive, patient_id="IE1") == ["IE1"]
    assert _pids(archive, patient_id="*1") == ["DE1", "IE1", "RU1", "US1"]
    assert _pids(archive, accession_number="A1") == ["DE1"]
    assert _pids(archive, description="грудная") == ["RU1"]
    assert _pids(archive, patient_name="nobody") == []
    ru = archive.get_study(uids["RU1"])
    assert ru.modalities == ("CT", "SR") and ru.num_series == 2 and ru.num_instances == 2
    assert ru.patient_name == "Иванов^Иван"
    dates = [s.study_date for s in archive.find_studies(StudyQuery())]
    assert dates == sorted(dates, reverse=True)
    assert len(archive.find_studies(StudyQuery(limit=2))) == 2
    assert len(archive.find_studies(StudyQuery(limit=2, offset=3))) == 1


def test_cfind_matching(archive: Archive) -> None:
    uids = _populate(archive)
    rows = archive.query(
        "STUDY", {"PatientName": "иванов*", "StudyInstanceUID": "", "ModalitiesInStudy": ""}
    )
    assert len(rows) == 1
    assert rows[0]["StudyInstanceUID"] == uids["RU1"]
    assert rows[0]["ModalitiesInStudy"] == ["CT", "SR"]
    assert rows[0]["PatientName"] == "Иванов^Иван"
    # Without a wildcard a name must match exactly (case/accents aside).
    assert archive.query("STUDY", {"PatientName": "MULLER"}) == []
    assert len(archive.query("STUDY", {"PatientName": "muller^jurgen"})) == 1
    assert len(archive.query("STUDY", {"StudyDate": "20240101-20241231"})) == 3
    assert len(archive.query("STUDY", {"StudyDate": "-20231231"})) == 1
    assert len(archive.query("STUDY", {"ModalitiesInStudy": "US"})) == 1
    both = f"{uids['RU1']}\\{uids['DE1']}"
    assert len(archive.query("STUDY", {"StudyInstanceUID": both})) == 2
    series = archive.query("SERIES", {"StudyInstanceUID": uids["RU1"], "Modality": ""})
    assert sorted(r["Modality"] for r in series) == ["CT", "SR"]
    images = archive.query(
        "IMAGE", {"StudyInstanceUID": uids["RU1"], "Modality": "SR", "SOPInstanceUID": ""}
    )
    assert len(images) == 1
    patients = archive.query("PATIENT", {"PatientID": "RU1", "NumberOfPatientRelatedStudies": ""})
    assert patients[0]["NumberOfPatientRelatedStudies"] == 1
    assert len(archive.query("STUDY", {}, limit=2)) == 2
    files = archive.match_instances("STUDY", {"StudyInstanceUID": uids["RU1"]})
    assert len(files) == 2 and all(f.path.is_file() for f in files)


def test_series_and_instances_order_and_delete(archive: Archive) -> None:
    study, series = generate_uid(), generate_uid()
    for n in (3, 1, 2):
        archive.store_dataset(
            make_ct(study_uid=study, series_uid=series, instance_number=n), source="import"
        )
    (s,) = archive.find_series(study)
    assert s.num_instances == 3 and s.modality == "CT"
    instances = archive.find_instances(series)
    assert [i.instance_number for i in instances] == [1, 2, 3]
    paths = [i.path for i in instances]
    seen: list[object] = []
    unsubscribe = archive.subscribe(seen.extend)
    assert archive.delete_study(study) == 3
    unsubscribe()
    assert not any(p.exists() for p in paths)
    assert archive.counts() == {"patients": 0, "studies": 0, "series": 0, "instances": 0}
    assert [e.change_type for e in seen] == ["study_deleted"]
    with pytest.raises(NotFoundError):
        archive.get_study(study)
    with pytest.raises(NotFoundError):
        archive.instance_file(instances[0].sop_instance_uid)


def test_subscribers_hear_each_change_in_order(archive: Archive) -> None:
    events: list[ChangeEvent] = []
    archive.subscribe(events.extend)
    ds = make_ct()
    archive.store_dataset(ds, source="import")
    archive.store_dataset(
        make_ct(study_uid=ds.StudyInstanceUID, series_uid=ds.SeriesInstanceUID, instance_number=2),
        source="import",
    )
    kinds = [(e.change_type, e.study_instance_uid) for e in events]
    study = ds.StudyInstanceUID
    assert kinds == [("series_added", study), ("study_added", study), ("study_updated", study)]
    assert events[0].series_instance_uid == ds.SeriesInstanceUID
    # The index keeps no change log (dropped in 0004): subscribers are the way to learn.
    with archive.engine.connect() as conn:
        assert not archive.engine.dialect.has_table(conn, "changes")


def test_concurrent_store_dataset_from_many_threads(archive: Archive) -> None:
    study, series = generate_uid(), generate_uid()
    datasets = [
        make_ct(study_uid=study, series_uid=series, instance_number=i) for i in range(1, 81)
    ]
    # Every dataset twice, from 8 threads at once: 80 stored, 80 duplicates.
    barrier = threading.Barrier(8)

    def store(ds):  # type: ignore[no-untyped-def]
        try:
            barrier.wait(timeout=5)
        except threading.BrokenBarrierError:
            pass
        return archive.store_dataset(ds, source="c-store").status

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(store, datasets + datasets))
    assert statuses.count(StoreStatus.STORED) == 80
    assert statuses.count(StoreStatus.DUPLICATE) == 80
    assert archive.counts()["instances"] == 80
    assert archive.get_study(study).num_instances == 80
    assert archive.find_series(study)[0].num_instances == 80


@pytest.mark.parametrize("charset", ["ISO_IR 144", "ISO_IR 192", "ISO 2022 IR 144"])
def test_cyrillic_in_8bit_charsets_decodes_and_searches(archive: Archive, charset: str) -> None:
    ds = make_ct(patient_name="Петров^Пётр", charset=charset, description="ГОЛОВА")
    buf = BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    assert "Петров".encode() not in buf.getvalue() or charset == "ISO_IR 192"
    assert archive.store_bytes(buf.getvalue(), source="import").status is StoreStatus.STORED
    (hit,) = archive.find_studies(StudyQuery(patient_name="петр"))
    assert hit.patient_name == "Петров^Пётр"
    assert archive.find_studies(StudyQuery(patient_name="ПЕТРОВ ПЕТР"))  # ё folds to е
    assert archive.find_studies(StudyQuery(description="голова"))
