"""Every rejected input leaves its reason in quarantine: a copy up to
``import.max_quarantine_bytes``, the reason alone (and a note saying so) above that or
when it was refused unread (zip slip, zip bomb)."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from tests.pacs_node.archive.conftest import settings_with
from tests.pacs_node.archive.synth import write_series
from workstation.pacs_node.archive import Archive
from workstation.pacs_node.archive.importing import Importer

OUR_ID = re.compile(r"[0-9a-f]{32}\.(dcm|txt)")


def _names(archive: Archive) -> set[str]:
    return {p.name for p in archive.quarantine.root.iterdir()}


def test_non_dicom_and_zip_refusals_are_recorded(sqlite_archive: Archive, tmp_path: Path) -> None:
    src = tmp_path / "media"
    good = write_series(src, 2)
    junk = bytes(range(256)) * 8
    (src / "autorun.inf").write_bytes(junk)
    zpath = tmp_path / "hostile.zip"
    with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(good[0], "ok/a.dcm")
        zf.writestr("../../escaped.dcm", good[1].read_bytes())
        zf.writestr("bomb.dcm", b"\0" * (50 * 1024 * 1024))
    sqlite_archive.settings = settings_with(sqlite_archive.settings)
    summary = Importer(sqlite_archive).run([src, zpath, tmp_path / "no-such-file"])

    by_origin = {Path(r.origin).name: r for r in summary.rejected}
    # Not DICOM beside the images: skipped with a note, nothing in quarantine for it.
    assert "autorun.inf" not in by_origin
    assert [Path(o).name for o in summary.skipped] == ["autorun.inf"]
    assert not any(p.read_bytes() == junk for p in sqlite_archive.quarantine.entries())

    zip_refusals = [r for r in summary.rejected if "zip slip" in r.reason or "zip bomb" in r.reason]
    assert len(zip_refusals) == 2
    for r in zip_refusals:
        assert r.quarantine_path is not None and r.quarantine_path.suffix == ".txt"
        text = r.quarantine_path.read_text()
        assert r.reason in text and "copy: none" in text
        assert "Not copied to quarantine" in r.quarantine_note
        assert r.to_json()["quarantine_note"] == r.quarantine_note
    # A path that does not exist is reported, not recorded.
    missing = by_origin["no-such-file"]
    assert missing.quarantine_path is None
    # Named by our own ids only; nothing from the inputs names a file.
    assert all(OUR_ID.fullmatch(n) for n in _names(sqlite_archive)), _names(sqlite_archive)
    assert not (tmp_path.parent / "escaped.dcm").exists()


def test_a_reject_over_the_cap_keeps_its_reason_without_a_copy(
    sqlite_archive: Archive, tmp_path: Path
) -> None:
    src = tmp_path / "media"
    src.mkdir()
    (src / "small.dcm").write_bytes(b"x" * 500)
    (src / "large.dcm").write_bytes(b"y" * 5000)
    sqlite_archive.settings = settings_with(sqlite_archive.settings, max_quarantine_bytes=1000)
    summary = Importer(sqlite_archive).run([src])

    by_name = {Path(r.origin).name: r for r in summary.rejected}
    small, large = by_name["small.dcm"], by_name["large.dcm"]
    assert small.quarantine_path is not None and small.quarantine_path.stat().st_size == 500
    assert large.quarantine_path is not None and large.quarantine_path.suffix == ".txt"
    assert "1000 bytes" in large.quarantine_note
    assert "copy: none (larger than 1000 bytes)" in large.quarantine_path.read_text()
    assert not any(p.stat().st_size == 5000 for p in sqlite_archive.quarantine.root.iterdir())
    # The same media again adds no second record.
    before = _names(sqlite_archive)
    Importer(sqlite_archive).run([src])
    assert _names(sqlite_archive) == before
