"""Fixtures of the auth API tests.

``central`` runs a test against the SQLite instance and again against the PostgreSQL one
(the core suite on both databases); ``central_sqlite`` only against SQLite.  Both wrap the
server in a ``ContractClient`` that checks every response against the OpenAPI document.
``short_timers`` is an instance with second-scale lockout and token lifetimes;
``ca_server`` one with the clinic CA set up.
"""

from __future__ import annotations

import pytest

from tests.central.auth_api.contract import ContractClient


@pytest.fixture(
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], scope="session"
)
def central(request: pytest.FixtureRequest) -> ContractClient:
    name = "auth_api" if request.param == "sqlite" else "auth_api_pg"
    return ContractClient(request.getfixturevalue(name))


@pytest.fixture(scope="session")
def central_sqlite(auth_api) -> ContractClient:  # type: ignore[no-untyped-def]
    return ContractClient(auth_api)


@pytest.fixture(scope="session")
def short_timers(auth_api_factory) -> ContractClient:  # type: ignore[no-untyped-def]
    server = auth_api_factory(
        name="short_timers",
        lockout_threshold=3,
        lockout_base_seconds=1,
        lockout_max_seconds=4,
        access_token_seconds=2,
        refresh_token_seconds=3,
        clock_leeway_seconds=0,
    )
    return ContractClient(server)


@pytest.fixture(scope="session")
def ca_server(auth_api_factory) -> ContractClient:  # type: ignore[no-untyped-def]
    """An instance with the clinic CA made (``central-auth ca init``) and a public URL."""
    server = auth_api_factory(
        name="clinic_ca",
        ca_key_passphrase="Clinic-CA-passphrase-for-tests",
        public_url="http://central.test",
    )
    made = server.cli("ca", "init", "--name", "Klinika Test Clinic CA")
    assert made.returncode == 0, made.stderr
    return ContractClient(server)
