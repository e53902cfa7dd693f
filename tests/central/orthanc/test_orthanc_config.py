"""The rendered Orthanc configuration keeps its security promises."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.harness.orthanc import CONFIG_RENDERER, orthanc_config_module

cfg = orthanc_config_module()


def test_defaults_lock_everything_down(tmp_path: Path) -> None:
    config = cfg.render(cfg.OrthancSettings(storage_dir=tmp_path))
    assert config["RemoteAccessAllowed"] is False
    assert config["AuthenticationEnabled"] is False  # the token filter authenticates
    assert config["RegisteredUsers"] == {}
    always_allow = {k: v for k, v in config.items() if k.startswith("DicomAlwaysAllow")}
    assert set(always_allow) >= {
        "DicomAlwaysAllowEcho", "DicomAlwaysAllowStore", "DicomAlwaysAllowFind",
        "DicomAlwaysAllowFindWorklist", "DicomAlwaysAllowGet", "DicomAlwaysAllowMove",
    }  # fmt: skip
    assert not any(always_allow.values())
    assert config["DicomCheckCalledAet"] and config["DicomCheckModalityHost"]
    assert config["DicomModalities"] == {}
    assert not config["WebDavEnabled"] and not config["WebDavUploadAllowed"]
    assert not config["OrthancExplorerEnabled"]
    assert not config["ExecuteLuaEnabled"] and not config["RestApiWriteToFileSystemEnabled"]
    assert not config["HttpDescribeErrors"]
    assert config["PythonScript"].endswith("klinika_token_filter.py")
    assert Path(config["PythonScript"]).is_file()
    assert [Path(p).name for p in config["Plugins"]] == [
        "libOrthancDicomWeb.so",
        "libOrthancPython.so",
    ]
    assert config["KlinikaTokenFilter"]["Issuer"] == "klinika-central"
    assert config["KlinikaTokenFilter"]["Audience"] == "klinika"
    assert cfg.ORTHANC_ENVIRONMENT == {"TCP_NODELAY": "1"}


def test_postgresql_index_and_plain_variant(tmp_path: Path) -> None:
    pg = cfg.PostgresIndex("127.0.0.1", 5433, "orthanc", "u", "secret")
    config = cfg.render(cfg.OrthancSettings(storage_dir=tmp_path, postgres=pg, token_filter=None))
    assert config["PostgreSQL"]["EnableIndex"] is True
    assert config["PostgreSQL"]["EnableStorage"] is False
    assert config["PostgreSQL"]["Port"] == 5433
    assert "PythonScript" not in config and "KlinikaTokenFilter" not in config
    assert [Path(p).name for p in config["Plugins"]] == [
        "libOrthancDicomWeb.so",
        "libOrthancPostgreSQLIndex.so",
    ]


def test_modality_entries_grant_only_what_is_named() -> None:
    entry = cfg.modality_entry("CT1", "10.0.0.5", 104)
    assert entry["AllowStore"] and entry["AllowEcho"]
    assert not (entry["AllowFind"] or entry["AllowMove"] or entry["AllowGet"])
    assert cfg.modality_entry("QR", "10.0.0.6", 104, AllowFind=True)["AllowFind"]
    with pytest.raises(ValueError, match="unknown modality permissions"):
        cfg.modality_entry("CT1", "10.0.0.5", 104, AllowEverything=True)


def test_command_line_renders_from_the_environment(tmp_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem_path = tmp_path / "auth.pub.pem"
    pem_path.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "KLINIKA_PG_HOST": "db",
        "KLINIKA_PG_PASSWORD": "pw",
        "KLINIKA_JWKS_URL": "https://auth.example/.well-known/jwks.json",
        "KLINIKA_TOKEN_PUBLIC_KEY_FILE": str(pem_path),
        "KLINIKA_ORTHANC_AET": "CENTRAL",
        "KLINIKA_ORTHANC_REMOTE_ACCESS": "1",
    }
    out = tmp_path / "orthanc.json"
    # The deployment runs it with whatever python3 is there: the system one here.
    run = subprocess.run(
        ["python3", str(CONFIG_RENDERER), "--out", str(out)],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600  # it holds the database password
    config = json.loads(out.read_text())
    assert config["PostgreSQL"]["Host"] == "db"
    assert config["DicomModalitiesInDatabase"] is True
    assert config["DicomAet"] == "CENTRAL"
    assert config["RemoteAccessAllowed"] is True
    assert config["KlinikaTokenFilter"]["JwksUrl"] == env["KLINIKA_JWKS_URL"]
    assert "BEGIN PUBLIC KEY" in config["KlinikaTokenFilter"]["PublicKeys"][0]["pem"]

    refused = subprocess.run(
        [sys.executable, str(CONFIG_RENDERER)],
        env={"PATH": env["PATH"]}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert refused.returncode == 2
    assert "KLINIKA_JWKS_URL" in refused.stderr
