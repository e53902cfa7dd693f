"""Small pure functions: folding, wildcards, date ranges, media detection, Part-10, schema."""

from __future__ import annotations

from pathlib import Path

import pytest

from workstation.pacs_node.archive.importing.media import parse_proc_mounts
from workstation.pacs_node.archive.importing.zipsource import unsafe_member_name
from workstation.pacs_node.archive.normalize import (
    contains_pattern,
    fold,
    parse_date_range,
    wildcard_to_like,
)


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("Müller^Jürgen", "MULLER JURGEN"),
        ("  muller  jurgen ", "MULLER JURGEN"),
        ("Иванов^Иван^^^", "ИВАНОВ ИВАН"),
        ("Пётр", "ПЕТР"),
        ("Yamada^Tarou=山田^太郎=やまだ^たろう", "YAMADA TAROU 山田 太郎 やまた たろう"),
        ("", ""),
    ],
)
def test_fold(raw: str, folded: str) -> None:
    assert fold(raw) == folded


def test_wildcards_and_contains() -> None:
    assert wildcard_to_like("IVAN*") == "IVAN%"
    assert wildcard_to_like("I?AN") == "I_AN"
    assert wildcard_to_like("50%_off\\") == "50\\%\\_off\\\\"
    assert contains_pattern("ivan") == "*ivan*"
    assert contains_pattern("iv*") == "iv*"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("20240101-20240131", ("20240101", "20240131")),
        ("20240101-", ("20240101", None)),
        ("-20240131", (None, "20240131")),
        ("20240115", ("20240115", "20240115")),
        ("2024-01-01..2024-01-31", ("20240101", "20240131")),
        ("2024-01-15", ("20240115", "20240115")),
    ],
)
def test_date_ranges(text: str, expected: tuple[str | None, str | None]) -> None:
    assert parse_date_range(text) == expected


def test_bad_date_range() -> None:
    with pytest.raises(ValueError):
        parse_date_range("last week")


def test_zip_member_names() -> None:
    assert unsafe_member_name("../../etc/passwd")
    assert unsafe_member_name("/abs/file")
    assert unsafe_member_name("C:\\windows\\x.dcm")
    assert unsafe_member_name("a\\..\\..\\b")
    assert not unsafe_member_name("study/IM0001.dcm")
    assert not unsafe_member_name("a..b/c")


def test_removable_media_from_proc_mounts(tmp_path: Path) -> None:
    sys_block = tmp_path / "block"
    (sys_block / "sdb").mkdir(parents=True)
    (sys_block / "sdb" / "removable").write_text("1\n")
    (sys_block / "sda").mkdir()
    (sys_block / "sda" / "removable").write_text("0\n")
    mounts = "\n".join(
        [
            "/dev/sda1 / ext4 rw 0 0",
            "proc /proc proc rw 0 0",
            "/dev/sr0 /media/op/CDROM\\040DISK iso9660 ro 0 0",
            "/dev/sdb1 /run/media/op/USB vfat rw 0 0",
            "/dev/sdc1 /mnt/card exfat rw 0 0",
            "/dev/sda2 /home ext4 rw 0 0",
        ]
    )
    vols = parse_proc_mounts(mounts, sys_block)
    assert [(str(v.path), v.kind) for v in vols] == [
        ("/media/op/CDROM DISK", "optical"),
        ("/run/media/op/USB", "removable"),
        ("/mnt/card", "removable"),
    ]


def test_migrations_match_the_models(tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from workstation.pacs_node.archive.database import make_engine, upgrade_schema
    from workstation.pacs_node.archive.models import Base

    engine = make_engine(f"sqlite:///{tmp_path / 'm.sqlite3'}")
    upgrade_schema(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []
