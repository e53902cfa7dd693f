"""Synthetic studies for the DICOM node tests: plain and compressed transfer syntaxes."""

from __future__ import annotations

from pathlib import Path

from pydicom.uid import JPEG2000Lossless, RLELossless, generate_uid

from tests.pacs_node.archive.synth import make_ct


def write_study(
    folder: Path,
    count: int,
    *,
    syntaxes: tuple[str | None, ...] = (None,),
    size: int = 16,
    **fields: object,
) -> list[Path]:
    """``count`` CT instances of one new study/series; the i-th uses ``syntaxes[i % n]``
    (None: Explicit VR Little Endian)."""
    folder.mkdir(parents=True, exist_ok=True)
    study_uid = str(fields.pop("study_uid", None) or generate_uid())
    series_uid = str(fields.pop("series_uid", None) or generate_uid())
    paths = []
    for i in range(count):
        ds = make_ct(
            study_uid=study_uid, series_uid=series_uid, instance_number=i + 1, size=size,
            **fields,  # type: ignore[arg-type]
        )  # fmt: skip
        syntax = syntaxes[i % len(syntaxes)]
        if syntax is not None:
            ds.compress(syntax, generate_instance_uid=False)
        path = folder / f"IM{i + 1:05d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


COMPRESSED = (None, RLELossless, JPEG2000Lossless)
