"""Render the Orthanc configuration of the Klinika central archive.

One renderer for every place that runs Orthanc: the deployment (``python3
orthanc_config.py --from-env > orthanc.json``) and the test harness
(``tests/harness/orthanc.py`` imports this file). Standard library only, so any
``python3`` can run it next to Orthanc.

What the rendered configuration promises:

- HTTP answers only through the Klinika token filter (``plugin/klinika_token_filter.py``):
  Orthanc's own Basic auth is off (it would demand Basic credentials before a plugin
  filter sees the request), the filter checks the bearer JWT and the role rules.
- ``RemoteAccessAllowed`` is false unless the deployment turns it on (Orthanc behind a
  TLS proxy on another host).
- DIMSE peers come only from ``DicomModalities``: every ``DicomAlwaysAllow*`` is off,
  the called AE title and the peer's host are checked.
- The index lives in PostgreSQL (``index="postgresql"``) or, for a developer or a
  benchmark peer, in SQLite next to the storage.
- WebDAV, Lua execution, REST writes to the file system and the Orthanc Explorer
  (which cannot send bearer tokens) are off.

Orthanc 1.10 has no listen-address option; set ``TCP_NODELAY=1`` in Orthanc's
environment (``ORTHANC_ENVIRONMENT``) so dcmtk's accepted DICOM sockets do not stall on
Nagle's algorithm.

The host's own name must resolve from ``/etc/hosts`` (or ``/etc/hostid`` must exist):
DCMTK calls ``gethostid()`` for every UID Orthanc generates (each QIDO-RS answer, each
stored instance), and glibc then looks the host name up; through DNS that costs seconds
per call, and concurrent QIDO-RS requests stall (seen on a fresh Debian chroot without
``/etc/hosts``; the test harness preloads a ``gethostid()`` without lookup).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PLUGIN_DIR = Path("/usr/share/orthanc/plugins")
HERE = Path(__file__).resolve().parent
TOKEN_FILTER_SCRIPT = HERE / "plugin" / "klinika_token_filter.py"

# Environment Orthanc must run with (dcmtk's accepted sockets otherwise wait ~45 ms
# per C-STORE response on Nagle's algorithm).
ORTHANC_ENVIRONMENT = {"TCP_NODELAY": "1"}

# The permissions a DicomModalities entry gets unless the caller says otherwise: a
# modality sends images and verifies the link; query/retrieve must be granted by name.
DEFAULT_MODALITY_PERMISSIONS = {
    "AllowEcho": True,
    "AllowStore": True,
    "AllowFind": False,
    "AllowFindWorklist": False,
    "AllowMove": False,
    "AllowGet": False,
    "AllowStorageCommitment": False,
}


@dataclass
class PostgresIndex:
    """Where the PostgreSQL index plugin connects (``EnableIndex``; storage stays on disk)."""

    host: str
    port: int
    database: str
    username: str
    password: str
    lock: bool = True
    enable_ssl: bool = False
    connections: int = 1

    def section(self) -> dict[str, Any]:
        return {
            "EnableIndex": True,
            "EnableStorage": False,
            "Host": self.host,
            "Port": self.port,
            "Database": self.database,
            "Username": self.username,
            "Password": self.password,
            "Lock": self.lock,
            "EnableSsl": self.enable_ssl,
            "IndexConnectionsCount": self.connections,
            "MaximumConnectionRetries": 10,
            "ConnectionRetryInterval": 2,
        }


@dataclass
class TokenFilterSettings:
    """The ``KlinikaTokenFilter`` section read by the plugin (see plugin/klinika_filter.py).

    ``public_keys`` are PEM texts (SubjectPublicKeyInfo or PKCS#1), optionally paired
    with a ``kid``: ``[{"kid": "k1", "pem": "-----BEGIN PUBLIC KEY-----..."}]``.
    ``jwks_url`` is the auth API's ``/.well-known/jwks.json``; keys are cached and
    fetched again when a token names an unknown ``kid`` (at most every
    ``jwks_min_refresh_seconds``).
    """

    issuer: str = "klinika-central"
    audience: str = "klinika"
    jwks_url: str | None = None
    public_keys: list[dict[str, str]] = field(default_factory=list)
    leeway_seconds: int = 30
    max_token_lifetime_seconds: int = 86400
    jwks_cache_seconds: int = 300
    jwks_min_refresh_seconds: int = 10
    jwks_timeout_seconds: float = 3.0
    verified_token_cache_size: int = 4096
    verified_token_cache_seconds: int = 300

    def section(self) -> dict[str, Any]:
        return {
            "Issuer": self.issuer,
            "Audience": self.audience,
            "JwksUrl": self.jwks_url or "",
            "PublicKeys": list(self.public_keys),
            "LeewaySeconds": self.leeway_seconds,
            "MaxTokenLifetimeSeconds": self.max_token_lifetime_seconds,
            "JwksCacheSeconds": self.jwks_cache_seconds,
            "JwksMinRefreshSeconds": self.jwks_min_refresh_seconds,
            "JwksTimeoutSeconds": self.jwks_timeout_seconds,
            "VerifiedTokenCacheSize": self.verified_token_cache_size,
            "VerifiedTokenCacheSeconds": self.verified_token_cache_seconds,
        }


@dataclass
class OrthancSettings:
    """Everything that differs between one Orthanc of ours and another."""

    storage_dir: Path
    http_port: int = 8042
    dicom_port: int = 4242
    aet: str = "KLINIKA"
    name: str = "klinika-central"
    postgres: PostgresIndex | None = None
    token_filter: TokenFilterSettings | None = field(default_factory=TokenFilterSettings)
    modalities: dict[str, dict[str, Any]] = field(default_factory=dict)
    modalities_in_database: bool = False
    remote_access: bool = False
    describe_errors: bool = False
    save_jobs: bool = True
    http_threads: int = 50
    dicom_threads: int = 4
    concurrent_jobs: int = 2
    maximum_pdu_length: int = 131072
    plugin_dir: Path = PLUGIN_DIR
    filter_script: Path = TOKEN_FILTER_SCRIPT
    extra: dict[str, Any] = field(default_factory=dict)


def modality_entry(aet: str, host: str, port: int, **permissions: bool) -> dict[str, Any]:
    """One ``DicomModalities`` value: AE title, host, port and the allowed DIMSE services."""
    unknown = set(permissions) - set(DEFAULT_MODALITY_PERMISSIONS)
    if unknown:
        raise ValueError(f"unknown modality permissions: {sorted(unknown)}")
    return {"AET": aet, "Host": host, "Port": port, **DEFAULT_MODALITY_PERMISSIONS, **permissions}


def _plugins(s: OrthancSettings) -> list[str]:
    names = ["libOrthancDicomWeb.so"]
    if s.postgres is not None:
        names.append("libOrthancPostgreSQLIndex.so")
    if s.token_filter is not None:
        names.append("libOrthancPython.so")
    return [str(s.plugin_dir / n) for n in names]


def _dicom_section(s: OrthancSettings) -> dict[str, Any]:
    return {
        "DicomServerEnabled": True,
        "DicomAet": s.aet,
        "DicomPort": s.dicom_port,
        "DicomCheckCalledAet": True,
        "DicomCheckModalityHost": True,
        "StrictAetComparison": True,
        "DicomAlwaysAllowEcho": False,
        "DicomAlwaysAllowStore": False,
        "DicomAlwaysAllowFind": False,
        "DicomAlwaysAllowFindWorklist": False,
        "DicomAlwaysAllowGet": False,
        "DicomAlwaysAllowMove": False,
        "DicomEchoChecksFind": False,
        "DicomModalities": s.modalities,
        "DicomModalitiesInDatabase": s.modalities_in_database,
        "DicomThreadsCount": s.dicom_threads,
        "DicomScpTimeout": 30,
        "DicomScuTimeout": 10,
        "MaximumPduLength": s.maximum_pdu_length,
        "UnknownSopClassAccepted": False,
    }


def _http_section(s: OrthancSettings) -> dict[str, Any]:
    return {
        "HttpServerEnabled": True,
        "HttpPort": s.http_port,
        "RemoteAccessAllowed": s.remote_access,
        "AuthenticationEnabled": False,
        "RegisteredUsers": {},
        "HttpDescribeErrors": s.describe_errors,
        "HttpCompressionEnabled": True,
        "HttpThreadsCount": s.http_threads,
        "KeepAlive": True,
        "TcpNoDelay": True,
        "HttpRequestTimeout": 30,
        "OrthancExplorerEnabled": False,
        "WebDavEnabled": False,
        "WebDavDeleteAllowed": False,
        "WebDavUploadAllowed": False,
        "SslEnabled": False,
    }


def render(s: OrthancSettings) -> dict[str, Any]:
    """The Orthanc configuration (a JSON-ready dict) for ``s``."""
    storage = str(s.storage_dir)
    config: dict[str, Any] = {
        "Name": s.name,
        "StorageDirectory": storage,
        "IndexDirectory": storage,
        "StorageCompression": False,
        "Plugins": _plugins(s),
        "ConcurrentJobs": s.concurrent_jobs,
        **_http_section(s),
        **_dicom_section(s),
        "OrthancPeers": {},
        "OrthancPeersInDatabase": False,
        "HttpsVerifyPeers": True,
        "LuaScripts": [],
        "ExecuteLuaEnabled": False,
        "RestApiWriteToFileSystemEnabled": False,
        "OverwriteInstances": False,
        "SaveJobs": s.save_jobs,
        "StableAge": 60,
        "DeidentifyLogs": True,
        "MetricsEnabled": True,
        "DicomWeb": {
            "Enable": True,
            "Root": "/dicom-web/",
            "EnableWado": True,
            "WadoRoot": "/wado",
            "Ssl": False,
            "Servers": {},
            "StudiesMetadata": "Full",
            "SeriesMetadata": "Full",
        },
    }
    if s.postgres is not None:
        config["PostgreSQL"] = s.postgres.section()
    if s.token_filter is not None:
        config["PythonScript"] = str(s.filter_script)
        config["PythonVerbose"] = False
        config["KlinikaTokenFilter"] = s.token_filter.section()
    config.update(s.extra)
    return config


def write(s: OrthancSettings, path: Path) -> Path:
    """Write the configuration for ``s`` to ``path`` (mode 0600: it holds the DB password)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(render(s), fh, indent=2, sort_keys=True)
        fh.write("\n")
    return path


def settings_from_env(env: dict[str, str]) -> OrthancSettings:
    """Deployment settings from ``KLINIKA_ORTHANC_*`` / ``KLINIKA_PG_*`` variables."""

    def get(name: str, default: str | None = None) -> str | None:
        return env.get(name, default)

    postgres = None
    if get("KLINIKA_PG_HOST"):
        postgres = PostgresIndex(
            host=env["KLINIKA_PG_HOST"],
            port=int(get("KLINIKA_PG_PORT", "5432") or 5432),
            database=get("KLINIKA_PG_DATABASE", "orthanc") or "orthanc",
            username=get("KLINIKA_PG_USER", "orthanc") or "orthanc",
            password=env.get("KLINIKA_PG_PASSWORD", ""),
            enable_ssl=get("KLINIKA_PG_SSL", "0") == "1",
        )
    keys = []
    key_file = get("KLINIKA_TOKEN_PUBLIC_KEY_FILE")
    if key_file:
        keys.append({"pem": Path(key_file).read_text(encoding="ascii")})
    token = TokenFilterSettings(
        issuer=get("KLINIKA_TOKEN_ISSUER", "klinika-central") or "klinika-central",
        audience=get("KLINIKA_TOKEN_AUDIENCE", "klinika") or "klinika",
        jwks_url=get("KLINIKA_JWKS_URL"),
        public_keys=keys,
    )
    return OrthancSettings(
        storage_dir=Path(get("KLINIKA_ORTHANC_STORAGE", "/var/lib/orthanc/db") or "."),
        http_port=int(get("KLINIKA_ORTHANC_HTTP_PORT", "8042") or 8042),
        dicom_port=int(get("KLINIKA_ORTHANC_DICOM_PORT", "4242") or 4242),
        aet=get("KLINIKA_ORTHANC_AET", "KLINIKA") or "KLINIKA",
        name=get("KLINIKA_ORTHANC_NAME", "klinika-central") or "klinika-central",
        postgres=postgres,
        token_filter=token,
        modalities_in_database=postgres is not None,
        remote_access=get("KLINIKA_ORTHANC_REMOTE_ACCESS", "0") == "1",
        filter_script=Path(get("KLINIKA_ORTHANC_FILTER_SCRIPT", str(TOKEN_FILTER_SCRIPT)) or ""),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="write here (mode 0600) instead of stdout")
    args = parser.parse_args(argv)
    settings = settings_from_env(dict(os.environ))
    if not settings.token_filter or not (
        settings.token_filter.jwks_url or settings.token_filter.public_keys
    ):
        parser.error("set KLINIKA_JWKS_URL or KLINIKA_TOKEN_PUBLIC_KEY_FILE: the filter needs keys")
    if args.out:
        write(settings, args.out)
    else:
        json.dump(render(settings), sys.stdout, indent=2, sort_keys=True)
        sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
