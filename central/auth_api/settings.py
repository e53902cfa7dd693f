"""Settings of the central auth service: built-in defaults < config file < environment.

The config file is TOML (``CENTRAL_AUTH_CONFIG`` or ``central-auth --config FILE``) with the
field names below as top-level keys.  Every field can also be set in the environment as
``CENTRAL_AUTH_<FIELD>`` in upper case, e.g. ``CENTRAL_AUTH_DATABASE_URL``.  With nothing
set the service keeps an SQLite database and its RSA signing key in a per-user data
directory (``CENTRAL_AUTH_DATA_DIR`` moves it).
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

ENV_PREFIX = "CENTRAL_AUTH_"
CONFIG_ENV = "CENTRAL_AUTH_CONFIG"


class SettingsError(ValueError):
    """A config file or value is invalid; the message names the key and what is expected."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path = field(
        default_factory=lambda: Path(platformdirs.user_data_dir("klinika-central"))
    )
    database_url: str = ""  # empty: sqlite file in data_dir
    signing_key_path: Path | None = None  # None: data_dir/keys/signing-key.pem
    issuer: str = "klinika-central"
    audience: str = "klinika"
    access_token_seconds: int = 300
    refresh_token_seconds: int = 8 * 3600
    session_max_seconds: int = 24 * 3600
    #: A rotated refresh token presented again this soon, its successor never used, is a
    #: client whose answer was lost (timeout, broken link), not a copy: see sessions.py.
    #: 0 turns the grace off.
    refresh_reuse_grace_seconds: int = 60
    clock_leeway_seconds: int = 10
    password_min_length: int = 12
    lockout_threshold: int = 5
    lockout_base_seconds: int = 30
    lockout_max_seconds: int = 900
    require_mfa_for_admins: bool = False
    mfa_issuer_name: str = "Klinika"
    proxy_count: int = 0  # reverse proxies in front (nginx: 1) whose X-Forwarded-For we trust
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    argon2_parallelism: int = 4
    max_audit_batch: int = 1000
    denied_audit_per_minute: int = 20  # per worker, reason, address and actor
    log_level: str = "INFO"
    # The clinic CA (``central-auth ca init``): its keys are stored encrypted with this
    # passphrase (set it in the environment, CENTRAL_AUTH_CA_KEY_PASSPHRASE, not in a file
    # others can read); empty: the CA endpoints answer 503 ca_not_configured.
    ca_key_passphrase: str = field(default="", repr=False)
    ca_dir: Path | None = None  # None: data_dir/ca
    ca_name: str = "Klinika Clinic CA"
    ca_cert_days: int = 730  # doctors' signing certificates, at most two years
    ca_crl_days: int = 7  # nextUpdate of the published CRL
    public_url: str = ""  # e.g. https://central.example; puts /ca/crl into certificates

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'central-auth.db'}"

    @property
    def effective_signing_key_path(self) -> Path:
        return self.signing_key_path or self.data_dir / "keys" / "signing-key.pem"

    @property
    def effective_ca_dir(self) -> Path:
        return self.ca_dir or self.data_dir / "ca"

    @property
    def retired_keys_dir(self) -> Path:
        """Public keys of rotated-out signing keys, still published in the JWKS."""
        return self.effective_signing_key_path.parent / "retired"

    def validate(self) -> Settings:
        positive = (
            "access_token_seconds",
            "refresh_token_seconds",
            "session_max_seconds",
            "password_min_length",
            "lockout_threshold",
            "lockout_base_seconds",
            "lockout_max_seconds",
            "argon2_time_cost",
            "argon2_memory_kib",
            "argon2_parallelism",
            "max_audit_batch",
            "denied_audit_per_minute",
            "ca_cert_days",
            "ca_crl_days",
        )
        for name in positive:
            if getattr(self, name) <= 0:
                raise SettingsError(f"setting {name} must be a positive number")
        if self.refresh_reuse_grace_seconds < 0:
            raise SettingsError("setting refresh_reuse_grace_seconds must not be negative")
        if self.password_min_length < 8:
            raise SettingsError("setting password_min_length must be at least 8")
        if self.ca_cert_days > 730:
            raise SettingsError("setting ca_cert_days must be at most 730 (two years)")
        if self.ca_key_passphrase and len(self.ca_key_passphrase) < 12:
            raise SettingsError("setting ca_key_passphrase must have at least 12 characters")
        if not self.issuer or not self.audience:
            raise SettingsError("settings issuer and audience must not be empty")
        return self


def _coerce(name: str, kind: Any, value: Any) -> Any:
    text = str(value).strip()
    try:
        if kind in (bool, "bool"):
            if isinstance(value, bool):
                return value
            if text.lower() in ("1", "true", "yes", "on"):
                return True
            if text.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(text)
        if kind in (int, "int"):
            if isinstance(value, bool):
                raise ValueError(text)
            return int(text)
        if kind in ("Path", "Path | None"):
            return Path(text).expanduser() if text else None
    except ValueError:
        raise SettingsError(f"setting {name}: {text!r} is not a valid {kind}") from None
    return text


def load_settings(config_file: str | os.PathLike[str] | None = None, **overrides: Any) -> Settings:
    """Build settings from defaults, the TOML file, ``CENTRAL_AUTH_*`` variables and overrides."""
    fields = {f.name: f.type for f in dataclasses.fields(Settings)}
    values: dict[str, Any] = {}
    path = config_file or os.environ.get(CONFIG_ENV)
    if path:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise SettingsError(f"cannot read config file {path}: {exc.strerror}") from None
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"config file {path} is not valid TOML: {exc}") from None
        unknown = sorted(set(data) - set(fields))
        if unknown:
            raise SettingsError(f"config file {path}: unknown settings {', '.join(unknown)}")
        values.update(data)
    for name in fields:
        env = os.environ.get(ENV_PREFIX + name.upper())
        if env is not None:
            values[name] = env
    values.update({k: v for k, v in overrides.items() if v is not None})
    coerced = {name: _coerce(name, fields[name], v) for name, v in values.items()}
    if coerced.get("data_dir") is None:
        coerced.pop("data_dir", None)
    return Settings(**coerced).validate()
