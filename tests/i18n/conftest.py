"""The app fixtures (a started controller, isolated home, error-dialog guard) and the
report site for the language tests that drive the real GUI."""

from tests.app.conftest import (  # noqa: F401 - fixtures are found by name
    _isolated_home,
    _no_unexpected_error_dialogs,
    clock,
    keyring_backend,
    start_app,
)
from tests.reports.conftest import signing_site, site  # noqa: F401
