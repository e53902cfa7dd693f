"""The whole chain: users log in at the real auth API, Orthanc verifies through its JWKS."""

from __future__ import annotations

import json

import pytest
import requests

from tests.central.orthanc.samples import ct_image

pytestmark = [pytest.mark.orthanc, pytest.mark.postgres, pytest.mark.network]


def _get(orthanc, path: str, token: str) -> int:  # type: ignore[no-untyped-def]
    return requests.get(
        orthanc.http_url + path, headers={"Authorization": f"Bearer {token}"}, timeout=30
    ).status_code


def test_auth_api_tokens_open_orthanc_by_role(orthanc, auth_api) -> None:  # type: ignore[no-untyped-def]
    # The central Orthanc trusts the auth API's JWKS; the harness key has another kid, so
    # these tokens can only be verified with keys fetched from the JWKS URL.
    config = json.loads(orthanc.config_path.read_text())
    assert config["KlinikaTokenFilter"]["JwksUrl"] == auth_api.jwks_url

    tokens = {role: auth_api.token_for(role) for role in ("admin", "doctor", "operator")}
    for role, token in tokens.items():
        assert _get(orthanc, "/studies", token) == 200, role
        assert _get(orthanc, "/dicom-web/studies", token) == 200, role
        assert _get(orthanc, "/jobs", token) == (200 if role == "admin" else 403), role

    ct = ct_image()
    for role, expected in (("doctor", 403), ("operator", 200)):
        r = requests.post(
            f"{orthanc.http_url}/instances",
            data=ct.data,
            headers={"Authorization": f"Bearer {tokens[role]}"},
            timeout=30,
        )
        assert r.status_code == expected, role


def test_refresh_tokens_are_not_access_tokens(orthanc, auth_api) -> None:  # type: ignore[no-untyped-def]
    name, password = auth_api.user_for("operator")
    tokens = auth_api.login(name, password)
    assert _get(orthanc, "/studies", tokens["access_token"]) == 200
    assert _get(orthanc, "/studies", tokens["refresh_token"]) == 403
