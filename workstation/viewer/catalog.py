"""Where the viewer finds series and files: the local archive, or a list of files.

:class:`StudyCatalog` is what the viewer needs; :class:`ArchiveCatalog` adapts the local
archive (``find_series``, ``find_instances``, ``instance_file``) and
:class:`FileCatalog` indexes loose files by reading their headers (for the command line
and for tests).  Paths come only from the archive's own records or from the caller,
never from DICOM values.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SeriesEntry:
    series_instance_uid: str
    study_instance_uid: str
    modality: str = ""
    series_number: int | None = None
    series_description: str = ""
    frame_of_reference_uid: str = ""
    num_instances: int = 0


@dataclass(frozen=True)
class InstanceEntry:
    sop_instance_uid: str
    series_instance_uid: str
    path: Path
    instance_number: int | None = None
    number_of_frames: int | None = None
    image_position: tuple[float, ...] | None = None
    image_orientation: tuple[float, ...] | None = None


class StudyCatalog(Protocol):
    def series(self, study_uid: str) -> list[SeriesEntry]: ...

    def instances(self, series_uid: str) -> list[InstanceEntry]: ...


def _get(obj: Any, *names: str, default: Any = None) -> Any:
    for n in names:
        v = getattr(obj, n, None)
        if v is not None:
            return v
    return default


class ArchiveCatalog:
    """The local archive seen as a :class:`StudyCatalog`."""

    def __init__(self, archive: Any) -> None:
        self.archive = archive

    def series(self, study_uid: str) -> list[SeriesEntry]:
        out = []
        for s in self.archive.find_series(study_uid):
            out.append(
                SeriesEntry(
                    series_instance_uid=s.series_instance_uid,
                    study_instance_uid=_get(s, "study_instance_uid", default=study_uid),
                    modality=_get(s, "modality", default=""),
                    series_number=_get(s, "series_number"),
                    series_description=_get(s, "series_description", default=""),
                    frame_of_reference_uid=_get(s, "frame_of_reference_uid", default=""),
                    num_instances=_get(s, "num_instances", default=0),
                )
            )
        return sort_series(out)

    def study_of(self, series_uid: str) -> str:
        """The study a series belongs to ("" when the archive does not know it)."""
        try:
            rows = self.archive.query(
                "SERIES", {"SeriesInstanceUID": series_uid, "StudyInstanceUID": ""}, limit=1
            )
        except Exception:
            logger.warning("series %s: study lookup failed", series_uid, exc_info=True)
            return ""
        return str(rows[0].get("StudyInstanceUID", "")) if rows else ""

    def instances(self, series_uid: str) -> list[InstanceEntry]:
        out = []
        for i in self.archive.find_instances(series_uid):
            path = _get(i, "path")
            if path is None:
                path = self.archive.instance_file(i.sop_instance_uid)
            out.append(
                InstanceEntry(
                    sop_instance_uid=i.sop_instance_uid,
                    series_instance_uid=series_uid,
                    path=Path(path),
                    instance_number=_get(i, "instance_number"),
                    number_of_frames=_get(i, "number_of_frames"),
                    image_position=_get(i, "image_position_patient", "image_position"),
                    image_orientation=_get(i, "image_orientation_patient", "image_orientation"),
                )
            )
        return out


def sort_series(series: list[SeriesEntry]) -> list[SeriesEntry]:
    return sorted(series, key=lambda s: (s.series_number is None, s.series_number or 0))


#: Reading order along each patient axis (LPS): +1 = increasing coordinate first.
#: Axial stacks start head-most (+z is head, so decreasing z), coronal anterior-most
#: (+y is posterior), sagittal right-most (+x is left): the convention radiologists
#: expect, so that the wheel turned down (next image) goes feet-ward, back-ward, left-ward.
READING_DIRECTION = (1.0, 1.0, -1.0)


def reading_sign(normal: np.ndarray) -> float:
    """+1 or -1: multiply a position along ``normal`` by it to sort in reading order
    (the patient axis closest to ``normal`` decides, so oblique stacks follow it)."""
    axis = int(np.argmax(np.abs(normal)))
    return float(np.sign(normal[axis]) or 1.0) * READING_DIRECTION[axis]


def sort_instances(items: list[InstanceEntry], *, reverse: bool = False) -> list[InstanceEntry]:
    """Spatial reading order (:data:`READING_DIRECTION`) when every instance has a plane;
    else by number.  ``reverse`` (setting ``viewer.stack_order = "reversed"``) flips it.

    Axial: image 1 is the head-most slice, whatever order the scanner sent them in.
    """
    planed = [i for i in items if i.image_position and i.image_orientation]
    if len(planed) == len(items) and len(items) > 1:
        iop = np.asarray(items[0].image_orientation, dtype=float)
        normal = np.cross(iop[:3], iop[3:])
        sign = reading_sign(normal) * (-1.0 if reverse else 1.0)
        return sorted(
            items,
            key=lambda i: (
                sign * float(np.asarray(i.image_position, dtype=float) @ normal),
                i.instance_number or 0,
            ),
        )
    if reverse:
        return sorted(
            items,
            key=lambda i: (
                i.instance_number is None,
                -(i.instance_number or 0),
                i.sop_instance_uid,
            ),
        )
    return sorted(
        items, key=lambda i: (i.instance_number is None, i.instance_number or 0, i.sop_instance_uid)
    )


def _floats(value: Any) -> tuple[float, ...] | None:
    if value is None:
        return None
    try:
        return tuple(float(v) for v in value)
    except (TypeError, ValueError):
        return None


def _int(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


class FileCatalog:
    """A few loose DICOM files (from the command line or a test) as a catalog."""

    def __init__(self, paths: Iterable[Path]) -> None:
        import pydicom

        self._series: dict[str, SeriesEntry] = {}
        self._instances: dict[str, list[InstanceEntry]] = {}
        for path in paths:
            try:
                with warnings.catch_warnings():
                    # Read leniently: odd values are the decoder's and the tile's business.
                    warnings.simplefilter("ignore", UserWarning)
                    ds = pydicom.dcmread(path, stop_before_pixels=True)
            except (OSError, pydicom.errors.InvalidDicomError, ValueError):
                # Paths from removable media may carry patient names: DEBUG only.
                logger.warning("a file that is not readable DICOM was skipped")
                logger.debug("skipped file: %s", path)
                continue
            series_uid = str(ds.get("SeriesInstanceUID", ""))
            study_uid = str(ds.get("StudyInstanceUID", ""))
            if not series_uid or "SOPInstanceUID" not in ds:
                logger.warning("a file without study/series/instance UIDs was skipped")
                logger.debug("skipped file: %s", path)
                continue
            if series_uid not in self._series:
                self._series[series_uid] = SeriesEntry(
                    series_instance_uid=series_uid,
                    study_instance_uid=study_uid,
                    modality=str(ds.get("Modality", "")),
                    series_number=_int(ds.get("SeriesNumber")),
                    series_description=str(ds.get("SeriesDescription", "")),
                    frame_of_reference_uid=str(ds.get("FrameOfReferenceUID", "")),
                )
            self._instances.setdefault(series_uid, []).append(
                InstanceEntry(
                    sop_instance_uid=str(ds.SOPInstanceUID),
                    series_instance_uid=series_uid,
                    path=Path(path),
                    instance_number=_int(ds.get("InstanceNumber")),
                    number_of_frames=_int(ds.get("NumberOfFrames")),
                    image_position=_floats(ds.get("ImagePositionPatient")),
                    image_orientation=_floats(ds.get("ImageOrientationPatient")),
                )
            )

    def study_of(self, series_uid: str) -> str:
        s = self._series.get(series_uid)
        return s.study_instance_uid if s is not None else ""

    def studies(self) -> list[str]:
        return sorted({s.study_instance_uid for s in self._series.values()})

    def series(self, study_uid: str) -> list[SeriesEntry]:
        return sort_series(
            [
                SeriesEntry(
                    **{**s.__dict__, "num_instances": len(self._instances[s.series_instance_uid])}
                )
                for s in self._series.values()
                if s.study_instance_uid == study_uid
            ]
        )

    def instances(self, series_uid: str) -> list[InstanceEntry]:
        return list(self._instances.get(series_uid, []))
