"""Synthetic CT series written as DICOM files, and independent references read back.

A phantom is HU values ``hu[k, j, i]`` (slice, row, column) written one CT slice per
file at the positions given; nothing here calls the code under test. The reference side
(:func:`read_reference`) reads the files with pydicom alone and builds the index-to-LPS
affine straight from Image Position/Orientation and Pixel Spacing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from pydicom.uid import generate_uid
from scipy.ndimage import map_coordinates

from tests.imaging.synthetic import ct_slice, save


def write_series(
    directory: Path,
    hu: np.ndarray,
    *,
    orientation: Sequence[float] = (1, 0, 0, 0, 1, 0),
    pixel_spacing: Sequence[float] = (0.8, 0.7),
    origin: Sequence[float] = (-20.0, -30.0, 40.0),
    positions: Sequence[Sequence[float]] | None = None,
    slice_spacing: float = 1.5,
    instance_numbers: Sequence[int] | None = None,
) -> list[Path]:
    """One file per slice of `hu`; positions default to a regular stack along the normal."""
    directory.mkdir(parents=True, exist_ok=True)
    row, col = np.asarray(orientation[:3], float), np.asarray(orientation[3:], float)
    normal = np.cross(row, col)
    if positions is None:
        positions = [np.asarray(origin) + k * slice_spacing * normal for k in range(hu.shape[0])]
    series_uid, study_uid = generate_uid(), generate_uid()
    paths = []
    for k, pos in enumerate(positions):
        ds = ct_slice(
            hu[k].astype(np.int16),
            position=[float(v) for v in pos],
            orientation=orientation,
            spacing=pixel_spacing,
            series_uid=series_uid,
            InstanceNumber=(instance_numbers[k] if instance_numbers else k + 1),
        )
        ds.StudyInstanceUID = study_uid
        paths.append(save(ds, directory / f"s{k:04d}.dcm"))
    return paths


@dataclass
class Reference:
    hu: np.ndarray  # (k, j, i) float64, sorted along the normal
    affine: np.ndarray  # 4x4 index -> LPS from the headers


def read_reference(paths: Sequence[Path]) -> Reference:
    """HU and affine from the files alone (pydicom; regular or sheared stacks)."""
    sets = [pydicom.dcmread(p) for p in paths]
    iop = np.asarray(sets[0].ImageOrientationPatient, float)
    normal = np.cross(iop[:3], iop[3:])
    sets.sort(key=lambda d: float(np.dot(normal, np.asarray(d.ImagePositionPatient, float))))
    hu = np.stack(
        [
            d.pixel_array * float(d.get("RescaleSlope", 1)) + float(d.get("RescaleIntercept", 0))
            for d in sets
        ]
    ).astype(np.float64)
    ipp0 = np.asarray(sets[0].ImagePositionPatient, float)
    ipp_last = np.asarray(sets[-1].ImagePositionPatient, float)
    dr, dc = (float(v) for v in sets[0].PixelSpacing)
    affine = np.eye(4)
    affine[:3, 0] = iop[:3] * dc
    affine[:3, 1] = iop[3:] * dr
    affine[:3, 2] = (ipp_last - ipp0) / max(len(sets) - 1, 1)
    affine[:3, 3] = ipp0
    return Reference(hu, affine)


def load_frames(paths: Sequence[Path]) -> list:
    """Decoded frames through the imaging core (the input the MPR engine takes)."""
    from workstation.imaging.decode import decode_frame
    from workstation.imaging.frame import Frame

    frames = [decode_frame(p, 0) for p in paths]
    assert all(isinstance(f, Frame) for f in frames), frames
    return frames


def random_hu(shape: tuple[int, int, int], seed: int = 7) -> np.ndarray:
    """Smooth structure plus noise, -1000..2000 HU."""
    rng = np.random.default_rng(seed)
    k, j, i = np.meshgrid(*(np.arange(n) for n in shape), indexing="ij")
    smooth = 800 * np.sin(i / 5.0) * np.cos(j / 7.0) + 300 * np.sin(k / 3.0)
    return np.clip(smooth + rng.integers(-200, 200, shape), -1000, 2000).astype(np.int16)


def plane_points(plane: Any, offset_mm: float = 0.0) -> np.ndarray:
    """LPS of every pixel of `plane`, written out from the plane's definition."""
    w, h = plane.size
    c, r = np.meshgrid(np.arange(w), np.arange(h))
    centre = np.asarray(plane.centre_mm) + offset_mm * np.cross(plane.row, plane.column)
    return (
        centre
        + ((c - (w - 1) / 2) * plane.spacing_mm)[..., None] * np.asarray(plane.row)
        + ((r - (h - 1) / 2) * plane.spacing_mm)[..., None] * np.asarray(plane.column)
    )


def reference_sample(ref: Reference, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(values, inside mask) by trilinear interpolation in the header-derived index space."""
    ijk = (points.reshape(-1, 3) - ref.affine[:3, 3]) @ np.linalg.inv(ref.affine[:3, :3]).T
    coords = ijk[:, ::-1].T  # (k, j, i) order of the array
    values = map_coordinates(ref.hu, coords, order=1, mode="nearest")
    shape = np.array(ref.hu.shape)[:, None]
    inside = np.all((coords >= 1e-6) & (coords <= shape - 1 - 1e-6), axis=0)
    return values.reshape(points.shape[:2]), inside.reshape(points.shape[:2])
