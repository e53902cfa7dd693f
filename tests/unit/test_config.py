from __future__ import annotations

from pathlib import Path

import pytest

from workstation.config import ConfigError, load_settings, parse_overrides


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_use_home(ws_home: Path) -> None:
    s = load_settings()
    assert s.home == ws_home
    assert s.database_url == f"sqlite:///{ws_home / 'archive.sqlite3'}"
    assert s.node.port == 11112
    assert s.sources == {}


def test_layers_in_order(ws_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = _write(
        tmp_path / "site.toml",
        '[node]\nae_title = "SITE"\nport = 1000\nmax_associations = 3\n'
        '[central]\nauth_url = "https://site"\n',
    )
    monkeypatch.setenv("WORKSTATION_SITE_CONFIG", str(site))
    _write(ws_home / "config" / "workstation.toml", "[node]\nport = 2000\nae_title = 'USER'\n")
    monkeypatch.setenv("WORKSTATION_NODE__AE_TITLE", "ENV")
    s = load_settings(parse_overrides(["node.max_associations=7"]))
    assert s.node.port == 2000
    assert s.node.ae_title == "ENV"
    assert s.node.max_associations == 7
    assert s.central.auth_url == "https://site"
    assert s.sources["node.port"] == "user"
    assert s.sources["node.max_associations"] == "command line"


def test_site_lock_wins(ws_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = _write(tmp_path / "site.toml", 'locked = ["node.port"]\n[node]\nport = 104\n')
    monkeypatch.setenv("WORKSTATION_SITE_CONFIG", str(site))
    monkeypatch.setenv("WORKSTATION_NODE__PORT", "5555")
    s = load_settings(parse_overrides(["node.port=6666"]))
    assert s.node.port == 104
    assert "node.port" in s.locked


def test_peers_table(ws_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    example = Path(__file__).resolve().parents[2] / "installer" / "site-config.example.toml"
    monkeypatch.setenv("WORKSTATION_SITE_CONFIG", str(example))
    s = load_settings()
    central = s.peer("CENTRAL")
    assert central is not None
    assert central.ae_title == "ORTHANC"
    assert central.may_retrieve
    assert s.peer("ORTHANC") == central
    assert "central.auth_url" in s.locked
    assert s.archive.fallback_charset == "cp1251"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[node]\nport = 'x'\n", "node].port"),
        ("[nod]\nport = 1\n", "unknown section"),
        ("[node]\nprot = 1\n", "unknown setting"),
        ("[node\n", "cannot be read"),
        ("[archive]\nfallback_charset = 'KOI-9'\n", "fallback_charset"),
    ],
)
def test_bad_files_say_what(
    ws_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, needle: str
) -> None:
    monkeypatch.setenv("WORKSTATION_SITE_CONFIG", str(_write(tmp_path / "s.toml", text)))
    with pytest.raises(ConfigError, match=needle.replace("[", r"\[").replace("]", r"\]")):
        load_settings()


def test_bad_override() -> None:
    with pytest.raises(ConfigError):
        parse_overrides(["nodeport=1"])
