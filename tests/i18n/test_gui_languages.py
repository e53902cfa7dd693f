"""The app in each language, in a real window under Xvfb.

* the pseudo-locale walk: every visible text of every main window and dialog comes
  from the catalog (or is on a short allow-list of names, data and Qt's own words);
* at 1280 x 800 no button or label clips its text, in every language; screenshots of
  the main window, the viewer and the settings in each are kept as test artefacts;
* Qt's own strings follow: with ru a standard dialog's Cancel reads "Отмена";
* Settings offers the five languages by their own names and says a change needs a restart.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po
from PySide6.QtWidgets import QApplication, QDialog, QDialogButtonBox, QMessageBox, QTabWidget

import workstation.i18n as i18n
from tests.app.conftest import make_settings, screenshot
from tests.app.test_session_gui import create_admin
from tests.app.viewer_helpers import (
    import_folder,
    open_by_double_click,
    wait_slice_drawn,
    window_picture,
    write_ct_study,
)
from tests.i18n.catalog_files import POT, TRANSLATED
from tests.i18n.widget_texts import Shown, clashing_accelerators, clipped, visible_texts
from tests.reports.editor_window import shown_editor
from tests.viewer.gui_helpers import save_png, settle
from workstation.app.login_dialog import LoginDialog
from workstation.app.main import install_qt_translations
from workstation.i18n import LANGUAGE_NAMES

pytestmark = [
    pytest.mark.qt,
    pytest.mark.vtk,
    pytest.mark.skipif(not os.environ.get("DISPLAY"), reason="needs a display: run under xvfb-run"),
]

PSEUDO = "en_XA"
ADMIN, PASSWORD = "chief", "Correct horse 1"
PATIENT = "VIEWER^TEST"


@dataclass
class Tour:
    """What one walk through the app saw: the texts of each screen, and screenshots."""

    texts: dict[str, list[Shown]]
    clipped: dict[str, list[str]]
    shots: list[Path]
    widths: dict[str, int] = dataclasses.field(default_factory=dict)


def _pseudo_catalog(root: Path) -> None:
    """Every template message marked ⟦…⟧, placeholders intact (Babel, not podebug)."""
    with POT.open("rb") as fh:
        template = read_po(fh)
    catalog = Catalog(locale="en")
    for m in template:
        if m.id:
            text = tuple(f"⟦{x}⟧" for x in m.id) if isinstance(m.id, tuple) else f"⟦{m.id}⟧"
            catalog.add(m.id, text)
    out = root / PSEUDO / "LC_MESSAGES"
    out.mkdir(parents=True)
    with (out / "workstation.po").open("wb") as fh:
        write_po(fh, catalog)


@pytest.fixture
def in_language(qapp: QApplication, tmp_path: Path) -> Iterator[Any]:
    def switch(language: str) -> None:
        if language == PSEUDO:
            _pseudo_catalog(tmp_path / "pseudo")
            i18n.set_language(PSEUDO, tmp_path / "pseudo")
        else:
            assert i18n.set_language(language) == language
        install_qt_translations(qapp, "en" if language == PSEUDO else language)

    yield switch
    i18n.set_language("en")
    install_qt_translations(qapp, "en")


def _screen(name: str, seen: Tour) -> None:
    """Record what is on screen now, and what of it is clipped now (geometry changes)."""
    for _ in range(3):
        QApplication.sendPostedEvents()
        QApplication.processEvents()
    settle(50)
    shown = list(visible_texts())
    seen.clipped[name] = clipped(shown) + clashing_accelerators()
    # A report's headings and field labels are in the report's own language (template
    # texts), not the UI's: the UI-catalog check leaves the report form out.
    forms = [f for f in (_report_form(w) for w in QApplication.allWidgets()) if f is not None]
    seen.texts[name] = [x for x in shown if not any(f.isAncestorOf(x.widget) for f in forms)]


def _report_form(widget: Any) -> Any:
    from workstation.reports._qt.qt_report_editor import QtReportEditor

    if isinstance(widget, QtReportEditor):
        return widget.form_layout.parentWidget()
    return None


def _tabs(dialog: QDialog, name: str, seen: Tour) -> None:
    tabs = dialog.findChild(QTabWidget)
    for i in range(tabs.count() if tabs is not None else 1):
        if tabs is not None:
            tabs.setCurrentIndex(i)
        _screen(f"{name}[{i}]", seen)


def _shown_dialog(qtbot: Any, window: Any, kind: type[QDialog]) -> QDialog:
    def visible() -> list[QDialog]:
        return [d for d in window.findChildren(kind) if d.isVisible()]

    qtbot.waitUntil(lambda: len(visible()) == 1, timeout=10_000)
    dialog = visible()[0]
    qtbot.waitExposed(dialog)
    return dialog


def tour(qtbot: Any, start_app: Any, tmp_path: Path, shots: Path | None) -> Tour:
    """Log in as the first administrator, import a CT study, and open every screen."""
    seen = Tour({}, {}, [])

    def shoot(widget: Any, name: str) -> None:
        if shots is None:
            return
        if name == "viewer":  # grab() leaves the GL picture out; paste it in
            seen.shots.append(save_png(window_picture(widget), shots / f"{name}.png"))
        else:
            seen.shots.append(screenshot(widget, shots / f"{name}.png"))

    controller = start_app(make_settings(tmp_path / "home"))
    _screen("first start", seen)
    shoot(controller.login_dialog, "first-start")
    window = create_admin(qtbot, controller, ADMIN, PASSWORD)
    window.resize(1280, 800)
    uid = write_ct_study(tmp_path / "ct" / "a", images=6, patient_name=PATIENT)
    import_folder(qtbot, window, tmp_path / "ct")
    qtbot.waitUntil(lambda: window.model.row_of(uid) is not None, timeout=20_000)
    window.local.table.selectRow(window.model.row_of(uid))
    _screen("main window", seen)
    shoot(window, "main")
    window.tabs.setCurrentIndex(1)
    _screen("central tab", seen)
    window.tabs.setCurrentIndex(0)

    for name, opener in (
        ("settings", window.open_settings),
        ("users", window.open_users),
        ("audit", window.open_audit),
        ("import", window.open_import_dialog),
        ("export", window.export_selected),
    ):
        dialog = opener()
        qtbot.waitExposed(dialog)
        _tabs(dialog, name, seen)
        if name == "settings":
            dialog.findChild(QTabWidget).setCurrentIndex(0)
            shoot(dialog, "settings")
        dialog.close()

    window.send_selected()
    send = _shown_dialog(qtbot, window, QDialog)
    _screen("send", seen)
    send.close()
    window.delete_selected()
    confirm = _shown_dialog(qtbot, window, QMessageBox)
    _screen("delete?", seen)
    confirm.reject()

    open_by_double_click(qtbot, window, uid)
    view = window.viewer.image_viewer.views[0]
    wait_slice_drawn(qtbot, view, view.viewport.index)
    _screen("viewer", seen)
    seen.widths["viewer"] = window.width()
    shoot(window, "viewer")

    opened: list[Any] = []
    launcher = window.viewer.image_viewer.open_mpr()
    launcher.sig_opened.connect(opened.append)
    qtbot.waitUntil(lambda: bool(opened), timeout=60_000)
    mpr = opened[0]
    mpr.resize(1280, 800)
    qtbot.waitExposed(mpr)
    _screen("mpr", seen)
    shoot(mpr, "mpr")
    mpr.close()
    window.lock("user")
    _screen("locked", seen)
    shoot(window, "locked")
    # The login window as it is once an administrator exists (a second one: logging
    # out here would leave the app's own login window to quit the test's application).
    login = LoginDialog(controller.settings)
    qtbot.addWidget(login)
    login.set_services(controller.services, False)
    login.show()
    qtbot.waitUntil(lambda: login.isVisible() and login.login_button.isEnabled(), timeout=30_000)
    _screen("login", seen)
    shoot(login, "login")
    login.hide()
    return seen


# -- pseudo-locale ---------------------------------------------------------------------------

#: Texts that are rightly not from our catalog: names, data, numbers and units, and Qt's
#: own words (they follow Qt's catalogs, which the pseudo-locale does not have).
ALLOWED = {
    *LANGUAGE_NAMES.values(),
    ADMIN,
    "VIEWER, TEST",
    "V-1",
    "KLINIKA",
    "CT",
    "OK",
    "Cancel",
    "Close",
    "Save",
    "Yes",
    "No",
    "Apply",
    "Reset",
}
#: Table cells from the test's own study, and the audit log's record codes (the audit
#: table shows the stored record: action and outcome codes, key=value details).
DATA = {"Synthetic CT", "Series 1", "admin", "login", "user_create", "study_import", "success"}
#: Whole texts made only of digits, punctuation, symbols, units, UIDs, dates or paths.
ALLOWED_FORMS = re.compile(
    r"\w+=.*|[\W\d_]*|[\d.,\s]*(mm|cm|px|HU|%|°)?|[\d.]+|\d{4}-\d\d-\d\d.*|/.*|.*\d+ x \d+.*|[A-Z]{1,2}"
)


def _foreign(tour_texts: dict[str, list[Shown]], home: Path) -> list[str]:
    out = []
    for screen, shown in tour_texts.items():
        for s in shown:
            text = s.text
            if "⟦" in text or text in ALLOWED or ALLOWED_FORMS.fullmatch(text) or text in DATA:
                continue
            if text.startswith(str(home)) or PATIENT.split("^")[0] in text:
                continue
            out.append(f"[{screen}] {s}")
    return sorted(set(out))


def test_pseudo_locale_walk_finds_every_text_translated(
    qtbot: Any, start_app: Any, tmp_path: Path, in_language: Any
) -> None:
    in_language(PSEUDO)
    seen = tour(qtbot, start_app, tmp_path, None)
    assert len(seen.texts) >= 12
    assert sum(len(v) for v in seen.texts.values()) > 150
    foreign = _foreign(seen.texts, tmp_path / "home")
    assert not foreign, "texts not from the catalog:\n" + "\n".join(foreign)


# -- each language -----------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", *TRANSLATED])
def test_nothing_clips_at_1280x800(
    qtbot: Any, start_app: Any, tmp_path: Path, artifacts_dir: Path, in_language: Any, language: str
) -> None:
    in_language(language)
    seen = tour(qtbot, start_app, tmp_path, artifacts_dir / "i18n" / language)
    assert all(p.stat().st_size > 10_000 for p in seen.shots)
    problems = sorted({f"[{name}] {p}" for name, found in seen.clipped.items() for p in found})
    assert not problems, f"{language}: clipped at 1280x800:\n" + "\n".join(problems)
    print(f"{language}: main window with the viewer open is {seen.widths['viewer']} px wide")
    if language != "en":
        title = seen.texts["main window"][0].widget.window().windowTitle()
        assert title == i18n._("Klinika Workstation")


@pytest.mark.parametrize("language", [PSEUDO, "en", *TRANSLATED])
def test_report_editor_in_each_language(
    qtbot: Any, signing_site: Any, artifacts_dir: Path, in_language: Any, language: str
) -> None:
    """The report editor: translated (pseudo-locale), nothing clipped, a screenshot."""
    in_language(language)
    seen = Tour({}, {}, [])
    editor = shown_editor(
        qtbot, signing_site.reports("dora"), signing_site.study_uid, size=(1280, 800)
    )
    _screen("report editor", seen)
    editor.template_box.setCurrentIndex(editor.template_box.findData("ct_chest"))
    editor._on_new_clicked()
    qtbot.waitUntil(lambda: editor.report is not None)
    _screen("report editor, new report", seen)
    if language == PSEUDO:
        foreign = _foreign(seen.texts, Path("/nonexistent"))
        assert not foreign, "texts not from the catalog:\n" + "\n".join(foreign)
        return
    screenshot(editor, artifacts_dir / "i18n" / language / "report-editor.png")
    problems = sorted({f"[{name}] {p}" for name, found in seen.clipped.items() for p in found})
    assert not problems, f"{language}: clipped at 1280x800:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    ("language", "cancel"),
    [("ru", "Отмена"), ("de", "Abbrechen"), ("fr", "Annuler"), ("es", "Cancelar")],
)
def test_qt_standard_dialogs_follow_the_language(
    qtbot: Any, in_language: Any, language: str, cancel: str
) -> None:
    in_language(language)
    box = QMessageBox(QMessageBox.Icon.Question, "?", "?")
    box.setStandardButtons(QMessageBox.StandardButton.Ok | QMessageBox.StandardButton.Cancel)
    qtbot.addWidget(box)
    box.show()
    qtbot.waitExposed(box)
    texts = [b.text().replace("&", "") for b in box.findChildren(QDialogButtonBox)[0].buttons()]
    assert cancel in texts


def test_settings_offers_five_languages_by_their_own_names(
    qtbot: Any, start_app: Any, tmp_path: Path, in_language: Any
) -> None:
    in_language("ru")
    controller = start_app(make_settings(tmp_path / "home", general={"language": "ru"}))
    window = create_admin(qtbot, controller, ADMIN, PASSWORD)
    dialog = window.open_settings()
    combo = dialog.fields["general.language"].widget
    names = [combo.itemText(i) for i in range(combo.count())]
    assert names == [
        "Автоматически (язык системы)",
        "English",
        "Русский",
        "Español",
        "Français",
        "Deutsch",
    ]
    assert combo.currentData() == "ru"
    hint = dialog.findChild(type(dialog.note), "languageRestartHint")
    assert hint.isVisible() and "перезапуска" in hint.text()
    combo.setCurrentIndex(combo.findData("de"))
    assert dialog.save()
    assert "при следующем запуске" in dialog.note.text()
    saved = (tmp_path / "home" / "config" / "workstation.toml").read_text(encoding="utf-8")
    assert 'language = "de"' in saved
    dialog.close()
