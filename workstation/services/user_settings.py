"""Change the user's settings file from the settings screen (no Qt).

Keys the site file locks are refused; changing the AE table needs ``nodes.manage``,
other keys ``settings.manage``, except the language, which anyone may pick.  Changes are
written atomically to the user's TOML file, audited (keys only), and take effect at the
next start.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from workstation.auth.audit import AuditAction, AuditLog
from workstation.auth.errors import AuthError
from workstation.auth.permissions import Permission
from workstation.auth.session import Session
from workstation.config import Settings
from workstation.i18n import _

OPEN_TO_ALL = frozenset({"general.language"})


def permission_for(key: str) -> Permission | None:
    if key in OPEN_TO_ALL:
        return None
    if key.startswith("node."):
        return Permission.NODES_MANAGE
    return Permission.SETTINGS_MANAGE


def is_locked(settings: Settings, key: str) -> bool:
    section = key.split(".", 1)[0]
    return key in settings.locked or f"{section}.*" in settings.locked


def can_edit(settings: Settings, session: Session, key: str) -> tuple[bool, str]:
    """(editable?, why not) for the settings screen."""
    if is_locked(settings, key):
        return False, _("Set by the site configuration; ask IT to change it.")
    perm = permission_for(key)
    if perm is not None and not session.can(perm):
        return False, _("Your role may not change this.")
    return True, ""


def current_value(settings: Settings, key: str) -> Any:
    section, name = key.split(".", 1)
    attr = "import_" if section == "import" else section
    value = getattr(getattr(settings, attr), name)
    if name == "peers":
        return [dataclasses.asdict(p) for p in value]
    return value


def save_user_settings(
    settings: Settings, session: Session, changes: Mapping[str, Any], audit: AuditLog
) -> Path:
    """Write ``{"section.key": value}`` changes to the user's file; its path."""
    for key in changes:
        if is_locked(settings, key):
            raise AuthError(_("{key} is set by the site configuration.").format(key=key))
        perm = permission_for(key)
        if perm is not None:
            audit.require(session, perm, keys=sorted(changes))
    path = settings.user_config_file
    data: dict[str, Any] = {}
    if path.is_file():
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    for key, value in changes.items():
        section, name = key.split(".", 1)
        data.setdefault(section, {})[name] = value
    write_toml(path, data)
    audit.record(AuditAction.SETTINGS_CHANGE, session=session, keys=sorted(changes))
    return path


def write_toml(path: Path, data: Mapping[str, Any]) -> None:
    """Write ``data`` as TOML (tomli-w) atomically: a temporary file, fsync, rename."""
    import tomli_w

    path.parent.mkdir(parents=True, exist_ok=True)
    text = tomli_w.dumps(data)
    tomllib.loads(text)  # never write what we could not read back
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".settings-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
