"""The real app for report tests under Xvfb: the workstation's services with a doctor
("dora") signed in the way the login dialog does it, a study stored in its archive,
the main window shown, and the study opened with its report dock."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.app.synthetic import write_study
from tests.auth.conftest import MemoryKeyring
from tests.reports.conftest import PASSWORDS


def doctor_signed_in(settings: Any, *, enrolled: bool = False) -> tuple[Any, Any]:
    """Services for ``settings`` with a first admin "ada" and a local doctor "dora",
    dora signed in (after_login run); with ``enrolled`` the admin first makes the site
    CA and dora gets her signing key.  Gives (services, dora's session)."""
    from workstation.auth.keyring_store import SecretStore
    from workstation.auth.permissions import Role
    from workstation.services.signing_actions import SigningActions
    from workstation.services.workstation import WorkstationServices

    services = WorkstationServices(settings, store=SecretStore(MemoryKeyring()), start_node=False)
    auth = services.authenticator
    admin = auth.create_first_admin("ada", PASSWORDS["ada"])
    if enrolled:
        SigningActions(admin, services.audit, settings, auth.store).ca_init("Klinika Test Clinic")
    auth.local.create_user("dora", PASSWORDS["dora"], Role.DOCTOR)
    auth.logout(admin)
    session = auth.login("dora", PASSWORDS["dora"])
    services.after_login(session)
    if enrolled:
        SigningActions(session, services.audit, settings, auth.store).enroll()
    return services, session


def store_study(services: Any, folder: Path, **study: Any) -> str:
    """A synthetic study (``write_study``'s keywords) written to ``folder`` and stored
    in the services' archive; gives its Study Instance UID."""
    uid = write_study(folder, **study)
    for f in sorted(folder.iterdir()):
        assert services.archive.store_file(f).ok
    return uid


@contextmanager
def main_window(qtbot: Any, services: Any, session: Any) -> Iterator[Any]:
    """The real main window for ``session``, shown at 1800x1000; on exit it is closed,
    the session logged out and the services closed."""
    from workstation.app.main_window import MainWindow

    window = MainWindow(services, session)
    qtbot.addWidget(window)
    window.resize(1800, 1000)
    window.show()
    try:
        yield window
    finally:
        window.close()
        services.authenticator.logout(session)
        services.close()


def open_report_dock(qtbot: Any, window: Any, uid: str) -> None:
    """Open study ``uid`` in the viewer, then its report dock: hidden until asked for
    (the images keep the room), the editor built when it is shown."""
    window.open_study(uid)
    qtbot.waitUntil(lambda: window.act["report"].isEnabled(), timeout=30000)
    assert not window.report_dock.isVisible() and window.report_dock.widget() is None
    window.act["report"].trigger()
    assert window.report_dock.isVisible()
    qtbot.waitUntil(lambda: window.report_dock.widget() is not None, timeout=30000)
