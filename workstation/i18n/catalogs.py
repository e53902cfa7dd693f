"""Compiled catalogs: the ``.po`` files are the source, ``.mo`` files are built from them.

``.mo`` files are not committed.  A ``.mo`` beside the ``.po`` (a packager ran
``python -m workstation.i18n.catalogs``) is used when it is at least as new as the
``.po``; otherwise the ``.po`` is compiled once into the user's cache folder, keyed by
its content hash, so later starts (and the decode pool's worker processes) just read it.
If the cache cannot be written the catalog is compiled in memory.
"""

from __future__ import annotations

import gettext
import hashlib
import io
import logging
import os
import sys
import tempfile
from pathlib import Path

logger = logging.getLogger(__name__)

DOMAIN = "workstation"
LOCALE_DIR = Path(__file__).with_name("locale")
#: A ``.po`` larger than this is not a catalog of ours; refuse to parse it.
MAX_PO_BYTES = 16 * 1024 * 1024


def cache_dir() -> Path:
    """Where compiled catalogs are kept (under ``WORKSTATION_HOME`` when it is set)."""
    from workstation.config import APP_NAME, ENV_HOME

    if os.environ.get(ENV_HOME):
        return Path(os.environ[ENV_HOME]).expanduser() / "cache" / "locale"
    import platformdirs

    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)) / "locale"


def compile_po(po: Path) -> bytes:
    """The ``.mo`` bytes for one ``.po`` file."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    if po.stat().st_size > MAX_PO_BYTES:
        raise ValueError(f"{po} is larger than {MAX_PO_BYTES} bytes")
    language = po.parent.parent.name
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=language)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    return buf.getvalue()


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".mo-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _cached_mo(po: Path, language: str) -> bytes | Path:
    digest = hashlib.sha256(po.read_bytes()).hexdigest()[:20]
    cached = cache_dir() / language / f"{DOMAIN}-{digest}.mo"
    if cached.is_file():
        return cached
    data = compile_po(po)
    try:
        _write_atomically(cached, data)
    except OSError as exc:
        logger.info("compiled catalog for %s not cached (%s); kept in memory", language, exc)
        return data
    return cached


def load_translations(language: str, locale_dir: Path = LOCALE_DIR) -> gettext.NullTranslations:
    """The translations for ``language`` (English, i.e. none, when there is no catalog)."""
    lc = locale_dir / language / "LC_MESSAGES"
    mo, po = lc / f"{DOMAIN}.mo", lc / f"{DOMAIN}.po"
    if mo.is_file() and (not po.is_file() or mo.stat().st_mtime >= po.stat().st_mtime):
        source: bytes | Path = mo
    elif po.is_file():
        source = _cached_mo(po, language)
    else:
        return gettext.NullTranslations()
    if isinstance(source, Path):
        with source.open("rb") as fh:
            return gettext.GNUTranslations(fh)
    return gettext.GNUTranslations(io.BytesIO(source))


def compile_all(locale_dir: Path = LOCALE_DIR) -> list[Path]:
    """Write ``workstation.mo`` beside every ``workstation.po`` (for installers)."""
    written = []
    for po in sorted(locale_dir.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        mo = po.with_suffix(".mo")
        _write_atomically(mo, compile_po(po))
        written.append(mo)
    return written


if __name__ == "__main__":  # pragma: no cover - a packaging step
    for path in compile_all(Path(sys.argv[1]) if len(sys.argv) > 1 else LOCALE_DIR):
        sys.stdout.write(f"{path}\n")
