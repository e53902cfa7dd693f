"""Our tuning of pynetdicom's internals, checked against the code it was written for and
installed once, when the DICOM node starts.

Three parts replace pynetdicom functions for the whole process:

- the waiting reactors (:mod:`.reactor`): no 1 ms polling per association thread;
- the cheap copy of presentation contexts (:func:`.contexts.replacements`);
- C-STORE responses encoded directly (:mod:`.store_response`).

Each mirrors pynetdicom code step for step, so it is only right over that exact code.
:func:`install_tuning` therefore first compares pynetdicom's version with
:data:`TESTED_VERSION` and the source of every function the parts replace or mirror
with :data:`TESTED_SOURCES` (a hash of ``inspect.getsource``); on any difference it logs
one warning and leaves pynetdicom stock (slower, still correct).  ``node.pynetdicom_tuning
= false`` turns it off.  A client object never installs it: only
:class:`~workstation.pacs_node.dimse.service.NodeService` does, when it starts.

pynetdicom's own tests of the replaced layers run with the tuning installed
(``tests/pacs_node/dimse/test_pynetdicom_suite.py``).
"""

from __future__ import annotations

import hashlib
import inspect
import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

import pynetdicom

from workstation.pacs_node.dimse import contexts, reactor, store_response

logger = logging.getLogger(__name__)

#: The pynetdicom release the tuning was written against and tested with.
TESTED_VERSION = "3.0.4"

#: ``module.qualname`` -> first 16 hex digits of the SHA-256 of its source, in that release.
TESTED_SOURCES: dict[str, str] = {
    "pynetdicom.association.Association._run_reactor": "f28838c5559e462a",
    "pynetdicom.association.Association.kill": "8f9713666a7f4cff",
    "pynetdicom.dul.DULServiceProvider.run_reactor": "e3a10eb3a0931e48",
    "pynetdicom.dul.DULServiceProvider.kill_dul": "5ceccf8dd01c2072",
    "pynetdicom.dul.DULServiceProvider.stop_dul": "28a7e0be126e7b30",
    "pynetdicom.dul.DULServiceProvider._is_transport_event": "8725ed03bb8fbdef",
    "pynetdicom.dul.DULServiceProvider.__init__": "c82dafa9438ddf70",
    "pynetdicom.dimse.DIMSEServiceProvider.send_msg": "a839cf2fb46976d9",
    "pynetdicom.presentation.PresentationContext.__init__": "37a8842ac07cd8f3",
}

_MISSING = object()
_lock = threading.Lock()
#: (class, attribute, what it was before) for each replacement installed; None: stock.
_installed: list[tuple[type, str, object]] | None = None
_refused = False


def mirrored() -> list[Callable[..., Any]]:
    """Every pynetdicom function the tuning replaces or mirrors (as shipped)."""
    return [*reactor.MIRRORED, *store_response.MIRRORED, *contexts.MIRRORED]


def source_hash(function: Callable[..., Any]) -> str:
    return hashlib.sha256(inspect.getsource(function).encode()).hexdigest()[:16]


def _name(function: Callable[..., Any]) -> str:
    return f"{function.__module__}.{function.__qualname__}"


def differences(version: str, functions: Iterable[Callable[..., Any]]) -> list[str]:
    """What differs from the pynetdicom the tuning was written for (empty: nothing)."""
    found = []
    if version != TESTED_VERSION:
        found.append(f"version {version} (tuned for {TESTED_VERSION})")
    seen = set()
    for function in functions:
        name = _name(function)
        seen.add(name)
        try:
            digest = source_hash(function)
        except (OSError, TypeError):
            digest = "no source"
        if TESTED_SOURCES.get(name) != digest:
            found.append(f"{name} changed")
    found.extend(f"{name} missing" for name in sorted(set(TESTED_SOURCES) - seen))
    return found


def install_tuning(enabled: bool = True) -> bool:
    """Install the tuning once per process if ``enabled`` and pynetdicom is the one it was
    written for; True when it is installed (now or before)."""
    global _installed, _refused
    with _lock:
        if _installed is not None:
            return True
        if not enabled or _refused:
            return False
        found = differences(pynetdicom.__version__, mirrored())
        if found:
            _refused = True
            logger.warning(
                "pynetdicom differs from the release our tuning was written for (%s); "
                "the DICOM node runs on stock pynetdicom (correct, but slower)",
                "; ".join(found),
            )
            return False
        done: list[tuple[type, str, object]] = []
        for owner, attribute, value in (
            *reactor.replacements(),
            *contexts.replacements(),
            *store_response.replacements(),
        ):
            done.append((owner, attribute, owner.__dict__.get(attribute, _MISSING)))
            setattr(owner, attribute, value)
        _installed = done
        logger.debug("pynetdicom tuning installed (%d replacements)", len(done))
        return True


def is_installed() -> bool:
    return _installed is not None


def uninstall_tuning() -> None:
    """Put pynetdicom back as shipped (for tests; associations already running keep the
    loop they run) and forget an earlier refusal."""
    global _installed, _refused
    with _lock:
        for owner, attribute, before in reversed(_installed or []):
            if before is _MISSING:
                delattr(owner, attribute)
            else:
                setattr(owner, attribute, before)
        _installed = None
        _refused = False
