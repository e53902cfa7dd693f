"""Moved to :mod:`workstation.i18n.formatting` (locale-aware); this name stays for old imports."""

from workstation.i18n.formatting import byte_size, dicom_date, dicom_time, person_name

__all__ = ["byte_size", "dicom_date", "dicom_time", "person_name"]
