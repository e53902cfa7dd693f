"""The app fixtures (a started controller, isolated home, error-dialog guard) for the
language tests that drive the real GUI."""

from tests.app.conftest import (  # noqa: F401 - fixtures are found by name
    _isolated_home,
    _no_unexpected_error_dialogs,
    clock,
    keyring_backend,
    start_app,
)
