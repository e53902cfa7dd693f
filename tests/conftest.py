"""Fixtures every test package may use.

- ``ws_home``: a fresh WORKSTATION_HOME for the test (and settings that point there).
- ``testdata``: the shared public DICOM set (../shared/testdata or $KLINIKA_TESTDATA);
  tests that need it skip with a reason when it is absent.
- ``soak``: how hard long-running tests push: short under CI, full with KLINIKA_FULL=1.
- ``artifacts_dir``: where tests save screenshots and logs worth looking at.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

pytest_plugins = ["tests.harness.postgres", "tests.harness.orthanc", "tests.harness.auth_api"]

ROOT = Path(__file__).resolve().parents[1]
#: What the session left running (tests.harness.shutdown.settle), for the summary.
_LEFTOVERS = pytest.StashKey[Any]()
ARTIFACTS = ROOT / "artifacts"

# Headless keyring for every test: never the developer's real keyring.
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
# The site file of this machine must not leak into tests.
os.environ["WORKSTATION_SITE_CONFIG"] = str(ROOT / "tests" / "no-site-file.toml")


def _testdata_root() -> Path | None:
    env = os.environ.get("KLINIKA_TESTDATA")
    candidates = [Path(env)] if env else []
    candidates.append(ROOT.parent / "shared" / "testdata")
    for c in candidates:
        if (c / "MANIFEST.md").is_file():
            return c
    return None


TESTDATA = _testdata_root()


@pytest.fixture(scope="session")
def testdata() -> Path:
    if TESTDATA is None:
        pytest.skip("shared DICOM test data absent (../shared/testdata); set KLINIKA_TESTDATA")
    return TESTDATA


@pytest.fixture
def ws_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "ws-home"
    monkeypatch.setenv("WORKSTATION_HOME", str(home))
    return home


@pytest.fixture
def settings(ws_home: Path):  # type: ignore[no-untyped-def]
    from workstation.config import ensure_home, load_settings

    s = load_settings()
    ensure_home(s)
    return s


@pytest.fixture
def process_keyring() -> Any:
    """A MemoryKeyring (tests/auth) installed as the process's keyring backend for the
    test: what code reaching ``keyring`` directly, such as the CLI's login, writes into."""
    import keyring

    from tests.auth.conftest import MemoryKeyring

    previous = keyring.get_keyring()
    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    yield ring
    keyring.set_keyring(previous)


@pytest.fixture(scope="session")
def soak() -> int:
    """Scale factor for soak/crash loops: 1 in CI, 10 with KLINIKA_FULL=1."""
    return 10 if os.environ.get("KLINIKA_FULL") == "1" else 1


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


#: Skip reasons that mean "a tool or server the test suite installs is missing".  On a
#: developer's machine they skip; under CI (CI=true) they fail, so a broken install step
#: cannot make the real-peer proofs vanish silently.
_MISSING_TOOL_MARKERS = ("not installed", "missing", "harness needs", "needs a display")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    if not report.skipped or os.environ.get("CI", "").lower() not in ("1", "true"):
        return
    reason = str(report.longrepr[-1]) if isinstance(report.longrepr, tuple) else ""
    if any(marker in reason for marker in _MISSING_TOOL_MARKERS):
        report.outcome = "failed"
        report.longrepr = f"CI must provide what this test needs: {reason}"


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """After every fixture is torn down: settle Qt, VTK and threads before the interpreter
    exits (tests/harness/shutdown.py); what would crash or hang the exit fails the run."""
    from tests.harness.shutdown import settle

    found = settle()
    session.config.stash[_LEFTOVERS] = found
    if found.fatal and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any) -> None:
    found = terminalreporter.config.stash.get(_LEFTOVERS, None)
    if found is not None and found.lines():
        terminalreporter.section("left running at the end of the session", red=found.fatal)
        for line in found.lines():
            terminalreporter.write_line(line)
