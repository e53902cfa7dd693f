"""save_strictly: a value its character set cannot hold fails the write, and pydicom's global
writing mode is what it was afterwards (also after a failure)."""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest
from pydicom import config
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage, generate_uid

from workstation.imaging.strict_write import save_strictly


def _dataset() -> Dataset:
    ds = Dataset()
    ds.SOPClassUID = SecondaryCaptureImageStorage
    ds.SOPInstanceUID = generate_uid()
    ds.PatientID = "STRICT-1"
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    return ds


def test_a_valid_dataset_is_written_and_reads_back(tmp_path: Path) -> None:
    ds = _dataset()
    save_strictly(ds, tmp_path / "ok.dcm")
    back = pydicom.dcmread(tmp_path / "ok.dcm")
    assert back.SOPInstanceUID == ds.SOPInstanceUID and back.PatientID == "STRICT-1"


def test_an_invalid_value_fails_and_the_global_mode_is_restored(tmp_path: Path) -> None:
    before = config.settings.writing_validation_mode
    ds = _dataset()
    ds.SpecificCharacterSet = "ISO_IR 100"  # Latin-1 has no Cyrillic
    ds.PatientName = "Иванов^Иван"
    # pydicom's UnicodeEncodeError comes out of its tag_in_exception() re-raise as a
    # TypeError (it cannot rebuild a UnicodeEncodeError from one message): either fails.
    with pytest.raises((ValueError, TypeError)):
        save_strictly(ds, tmp_path / "bad.dcm")
    assert config.settings.writing_validation_mode == before
    assert before != config.RAISE  # so the default write keeps going, with replacements
    ds.save_as(tmp_path / "lax.dcm", enforce_file_format=True)
    assert "?" in str(pydicom.dcmread(tmp_path / "lax.dcm").PatientName)
