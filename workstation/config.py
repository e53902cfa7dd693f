"""Layered settings.

Order, lowest first: built-in defaults < the site file IT installs < the user's file <
environment variables < the command line.  A key the site file lists under ``locked``
cannot be changed by the layers above it; the settings screen shows it read-only.

``WORKSTATION_HOME`` moves the whole data directory (archive database, file store,
quarantine, logs and the user's configuration file) to one folder.

Site file locations (TOML), overridable with ``WORKSTATION_SITE_CONFIG``:

=========  ==========================================================
Linux      ``/etc/klinika/workstation.toml``
Windows    ``%PROGRAMDATA%\\Klinika\\workstation.toml``
macOS      ``/Library/Application Support/Klinika/workstation.toml``
=========  ==========================================================

Environment variables name a key as ``WORKSTATION_<SECTION>__<KEY>``, e.g.
``WORKSTATION_NODE__PORT=11112``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import tomllib
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

APP_NAME = "klinika-workstation"
ENV_HOME = "WORKSTATION_HOME"
ENV_SITE = "WORKSTATION_SITE_CONFIG"
ENV_PREFIX = "WORKSTATION_"


class ConfigError(ValueError):
    """A settings file or value is invalid; the message says which and why."""


@dataclass(frozen=True)
class GeneralSettings:
    #: "auto" follows the operating system; else one of workstation.i18n.LANGUAGES.
    language: str = "auto"
    log_level: str = "INFO"


@dataclass(frozen=True)
class ArchiveSettings:
    #: SQLAlchemy URL; empty means SQLite in the data directory.
    database_url: str = ""
    #: SQLite ``synchronous`` pragma.  FULL: in WAL mode every commit is fsynced, so a
    #: power cut cannot lose an instance we already acknowledged.  NORMAL is faster but
    #: may lose the last commits on power loss (not on a process crash).
    sqlite_synchronous: str = "FULL"
    #: Refuse new files when the store's disk has less free space than this.
    min_free_bytes: int = 512 * 1024 * 1024
    #: Character set for the text of files that declare none (no Specific Character Set,
    #: e.g. CDs from CIS-region modalities that write Windows-1251): a DICOM defined term
    #: ("ISO_IR 144", "ISO_IR 192", ...) or a Python codec name ("cp1251").  Empty: the
    #: standard's default (ASCII).  Studies read with it are marked (``charset_fallback``).
    fallback_charset: str = ""
    #: A Deflated Explicit VR data set that inflates to more than this is refused (a
    #: deflate bomb); it is inflated in steps and counted, never allocated whole.
    max_inflated_bytes: int = 1024**3
    #: A file cut short (pixel data shorter than the image size, an element past the
    #: end): "mark" stores it with an "incomplete" mark the browser, ``studies --json``
    #: and the viewer show; "quarantine" refuses it into quarantine.
    incomplete_policy: str = "mark"

    def __post_init__(self) -> None:
        if self.sqlite_synchronous.upper() not in ("OFF", "NORMAL", "FULL", "EXTRA"):
            raise ConfigError(
                "[archive].sqlite_synchronous must be one of OFF, NORMAL, FULL, EXTRA, "
                f"got {self.sqlite_synchronous!r}"
            )
        if self.fallback_charset and not python_codec(self.fallback_charset):
            raise ConfigError(
                f"[archive].fallback_charset: {self.fallback_charset!r} is neither a DICOM "
                "character set (e.g. 'ISO_IR 144') nor a Python codec (e.g. 'cp1251')"
            )


def python_codec(charset: str) -> str:
    """The Python codec for a DICOM defined term or a codec name; "" when unknown."""
    import codecs

    from pydicom.charset import python_encoding

    name = python_encoding.get(charset.strip(), charset.strip())
    try:
        return codecs.lookup(name).name if name else ""
    except LookupError:
        return ""


@dataclass(frozen=True)
class ImportSettings:
    max_file_bytes: int = 4 * 1024**3
    max_zip_total_bytes: int = 16 * 1024**3
    max_zip_entries: int = 200_000
    max_zip_nesting: int = 2
    max_zip_ratio: int = 200
    #: What to do when a SOP Instance UID is already stored with different content:
    #: "keep" (keep the stored one, report the newcomer as a conflict and quarantine it)
    #: or "replace" (the newcomer wins; the old file is kept in quarantine).
    conflict_policy: str = "keep"
    #: Rejected inputs up to this size are copied to quarantine; larger ones (and inputs
    #: refused unread, e.g. zip bombs) leave only the reason file there.
    max_quarantine_bytes: int = 256 * 1024**2
    batch_size: int = 200


@dataclass(frozen=True)
class PeerNode:
    """One entry of the AE table: a DICOM node we know by name."""

    name: str
    ae_title: str
    host: str = "127.0.0.1"
    port: int = 104
    may_store: bool = True
    may_query: bool = False
    may_retrieve: bool = False
    #: May be named as a C-MOVE destination.
    move_destination: bool = False
    tls: bool = False


@dataclass(frozen=True)
class NodeSettings:
    ae_title: str = "KLINIKA"
    port: int = 11112
    bind_address: str = "0.0.0.0"
    start_with_app: bool = True
    max_associations: int = 16
    max_pdu_bytes: int = 1024 * 1024
    max_instance_bytes: int = 2 * 1024**3
    max_find_results: int = 5000
    acse_timeout: float = 30.0
    #: Seconds a new connection to our SCP may take to ask for an association (its
    #: A-ASSOCIATE-RQ); until then it holds one of ``max_associations``.  Senders ask at
    #: once; a connection that says nothing is dropped after this, not ``acse_timeout``.
    request_timeout: float = 10.0
    dimse_timeout: float = 60.0
    network_timeout: float = 60.0
    #: Accept C-ECHO and C-STORE from callers not in the AE table.
    accept_unknown_store: bool = True
    #: A calling AE title from the table counts only when the connection comes from the
    #: host the table names for it (AE titles alone are easily spoofed).
    verify_peer_host: bool = True
    tls_certificate: str = ""
    tls_private_key: str = ""
    tls_ca_certificates: str = ""
    #: Install our tuning of pynetdicom's internals when the node starts (waiting
    #: reactors, cheap context copies, direct C-STORE responses); it installs only over
    #: the pynetdicom release it was written for.  Off: stock pynetdicom, slower.
    pynetdicom_tuning: bool = True
    peers: tuple[PeerNode, ...] = ()


@dataclass(frozen=True)
class CentralSettings:
    #: Base URL of the central auth API; empty means standalone (local accounts).
    auth_url: str = ""
    #: DICOMweb root of the central archive, e.g. https://pacs.example.org/dicom-web
    dicomweb_url: str = ""
    #: Name in the AE table of the central archive's DICOM node, if any.
    dimse_peer: str = ""
    verify_tls: bool = True
    ca_bundle: str = ""
    timeout_seconds: float = 30.0
    #: Largest WADO-RS part (one instance) we accept; each is held in memory while stored.
    max_part_bytes: int = 512 * 1024**2


@dataclass(frozen=True)
class SecuritySettings:
    idle_lock_minutes: int = 10
    offline_login_days: int = 7
    require_mfa_for_admin: bool = False


STACK_ORDERS = ("standard", "reversed")


@dataclass(frozen=True)
class ViewerSettings:
    #: "standard": axial stacks start head-most (coronal anterior-most, sagittal
    #: right-most) and the wheel turned down goes feet-ward; "reversed" flips both.
    stack_order: str = "standard"

    def __post_init__(self) -> None:
        if self.stack_order not in STACK_ORDERS:
            raise ValueError(f"stack_order must be one of {', '.join(STACK_ORDERS)}")


@dataclass(frozen=True)
class ReportSettings:
    #: The clinic's name, address and logo (PNG/JPEG path) printed on every report.
    clinic_name: str = ""
    clinic_address: str = ""
    clinic_logo: str = ""
    #: A folder of site report templates (see resources/report_templates/README.md);
    #: empty means ``<home>/report_templates``.
    template_dir: str = ""
    #: Language of new reports when none is given: en, ru, es, fr or de.
    default_language: str = "en"
    #: Key type of new signing keys: p256 or rsa3072.
    key_type: str = "p256"
    # Upstream, through the outbox, on signing (docs/report-upstream.md):
    #: STOW-RS prefix for report documents at the central archive (Orthanc's
    #: ``.../klinika/reports``: doctors may upload report classes only there); empty: the
    #: central node itself (central.dicomweb_url, else central.dimse_peer by C-STORE).
    upstream_stow_url: str = ""
    #: Record each signed version in the central report registry (needs central.auth_url).
    registry_enabled: bool = True
    #: HL7 v2.5.1 ORU^R01 of each signed version over MLLP to the RIS (off by default).
    hl7_enabled: bool = False
    hl7_host: str = ""
    hl7_port: int = 2575
    hl7_receiving_application: str = ""
    hl7_receiving_facility: str = ""
    hl7_timeout_seconds: float = 30.0
    #: FHIR R4 DiagnosticReport of each signed version POSTed to this base (off by default).
    fhir_enabled: bool = False
    fhir_base_url: str = ""
    fhir_timeout_seconds: float = 30.0


@dataclass(frozen=True)
class Settings:
    general: GeneralSettings = field(default_factory=GeneralSettings)
    archive: ArchiveSettings = field(default_factory=ArchiveSettings)
    import_: ImportSettings = field(default_factory=ImportSettings)
    node: NodeSettings = field(default_factory=NodeSettings)
    central: CentralSettings = field(default_factory=CentralSettings)
    security: SecuritySettings = field(default_factory=SecuritySettings)
    reports: ReportSettings = field(default_factory=ReportSettings)
    viewer: ViewerSettings = field(default_factory=ViewerSettings)
    #: The data directory (archive, store, quarantine, logs).
    home: Path = field(default_factory=Path)
    #: Where each non-default value came from: "section.key" -> layer name.
    sources: Mapping[str, str] = field(default_factory=dict)
    #: Keys fixed by the site file.
    locked: frozenset[str] = frozenset()

    # Derived locations -------------------------------------------------
    @property
    def store_dir(self) -> Path:
        return self.home / "store"

    @property
    def quarantine_dir(self) -> Path:
        return self.home / "quarantine"

    @property
    def log_dir(self) -> Path:
        return self.home / "logs"

    @property
    def user_config_file(self) -> Path:
        return user_config_file(self.home if os.environ.get(ENV_HOME) else None)

    @property
    def signing_dir(self) -> Path:
        """The standalone site CA, the local timestamp authority and users' signing keys."""
        return self.home / "signing"

    @property
    def report_template_dir(self) -> Path:
        return (
            Path(self.reports.template_dir)
            if self.reports.template_dir
            else self.home / "report_templates"
        )

    @property
    def database_url(self) -> str:
        if self.archive.database_url:
            return self.archive.database_url
        return f"sqlite:///{self.home / 'archive.sqlite3'}"

    def peer(self, name_or_aet: str) -> PeerNode | None:
        """The AE-table entry with this name or AE title, or None."""
        for p in self.node.peers:
            if name_or_aet in (p.name, p.ae_title):
                return p
        return None


# Section name in files/env -> attribute name on Settings.
_SECTIONS = {
    "general": "general",
    "archive": "archive",
    "import": "import_",
    "node": "node",
    "central": "central",
    "security": "security",
    "reports": "reports",
    "viewer": "viewer",
}


def site_config_file() -> Path:
    """The site file's path for this OS (or ``WORKSTATION_SITE_CONFIG``)."""
    if os.environ.get(ENV_SITE):
        return Path(os.environ[ENV_SITE])
    if sys.platform.startswith("win"):
        base = os.environ.get("PROGRAMDATA", r"C:\ProgramData")
        return Path(base) / "Klinika" / "workstation.toml"
    if sys.platform == "darwin":
        return Path("/Library/Application Support/Klinika/workstation.toml")
    return Path("/etc/klinika/workstation.toml")


def default_home() -> Path:
    if os.environ.get(ENV_HOME):
        return Path(os.environ[ENV_HOME]).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def user_config_file(home: Path | None = None) -> Path:
    if home is not None:
        return home / "config" / "workstation.toml"
    if os.environ.get(ENV_HOME):
        return Path(os.environ[ENV_HOME]).expanduser() / "config" / "workstation.toml"
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / "workstation.toml"


def _read_toml(path: Path, layer: str) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{layer} settings file {path} cannot be read: {exc}") from exc


def _env_layer(environ: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, dict[str, Any]] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        section, _, key = name[len(ENV_PREFIX) :].partition("__")
        out.setdefault(section.lower(), {})[key.lower()] = value
    return out


def parse_overrides(pairs: list[str]) -> dict[str, Any]:
    """Turn ``["node.port=104", ...]`` (from ``--set``) into a layer."""
    out: dict[str, dict[str, Any]] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        section, dot, name = key.strip().partition(".")
        if not sep or not dot:
            raise ConfigError(f"--set expects SECTION.KEY=VALUE, got {pair!r}")
        out.setdefault(section, {})[name] = value
    return out


def _coerce(value: Any, tp: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    if tp is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{where}: expected true or false, got {value!r}")
    if tp in (int, float, str):
        if tp is not str and isinstance(value, bool):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        try:
            return tp(value)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{where}: expected {tp.__name__}, got {value!r}") from exc
    if origin is tuple:
        (item_tp, _ellipsis) = typing.get_args(tp)
        if isinstance(value, str):
            value = json.loads(value)
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{where}: expected a list")
        return tuple(_coerce(v, item_tp, f"{where}[{i}]") for i, v in enumerate(value))
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}: expected a table")
        return _build(tp, value, where)
    return value


def _build(cls: Any, values: Mapping[str, Any], where: str) -> Any:
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(values) - names
    if unknown:
        raise ConfigError(f"{where}: unknown setting(s) {', '.join(sorted(unknown))}")
    kwargs = {k: _coerce(v, hints[k], f"{where}.{k}") for k, v in values.items()}
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: {exc}") from exc


def load_settings(
    cli_overrides: Mapping[str, Any] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    home: Path | None = None,
) -> Settings:
    """Merge all layers and return validated, frozen settings."""
    environ = os.environ if environ is None else environ
    site_path = site_config_file()
    site = _read_toml(site_path, "site")
    locked_spec = site.pop("locked", [])
    home = home or default_home()
    user = _read_toml(user_config_file(home if environ.get(ENV_HOME) else None), "user")
    user.pop("locked", None)
    layers = [
        ("site", site),
        ("user", user),
        ("environment", _env_layer(environ)),
        ("command line", dict(cli_overrides or {})),
    ]
    locked = _locked_keys(locked_spec, site)
    merged: dict[str, dict[str, Any]] = {}
    sources: dict[str, str] = {}
    for layer_name, layer in layers:
        for section, values in layer.items():
            if section not in _SECTIONS:
                raise ConfigError(f"{layer_name} settings: unknown section [{section}]")
            if not isinstance(values, Mapping):
                raise ConfigError(f"{layer_name} settings: [{section}] must be a table")
            for key, value in values.items():
                dotted = f"{section}.{key}"
                if layer_name != "site" and dotted in locked:
                    continue
                merged.setdefault(section, {})[key] = value
                sources[dotted] = layer_name
    built = {
        attr: _build(typing.get_type_hints(Settings)[attr], merged.get(section, {}), f"[{section}]")
        for section, attr in _SECTIONS.items()
    }
    return Settings(**built, home=home, sources=sources, locked=locked)


def _locked_keys(spec: Any, site: Mapping[str, Any]) -> frozenset[str]:
    if spec == "all":
        return frozenset(f"{s}.{k}" for s, vals in site.items() for k in vals)
    if not isinstance(spec, list):
        raise ConfigError("site settings: 'locked' must be \"all\" or a list of SECTION.KEY")
    return frozenset(str(k) for k in spec)


def ensure_home(settings: Settings) -> None:
    """Create the data directory's folders (owner-only where the OS allows)."""
    for path in (settings.home, settings.store_dir, settings.quarantine_dir, settings.log_dir):
        path.mkdir(parents=True, exist_ok=True)
        if os.name == "posix":
            os.chmod(path, 0o700)
