"""The harness starts a real server; a login token verifies against the served JWKS."""

from __future__ import annotations

import jwt
import pytest

pytestmark = pytest.mark.network


def test_login_token_verifies_against_jwks(auth_api) -> None:  # type: ignore[no-untyped-def]
    tokens = auth_api.login(auth_api.admin_username, auth_api.admin_password)
    assert tokens["token_type"] == "Bearer"
    assert tokens["role"] == "admin"
    jwks = auth_api.request("GET", "/.well-known/jwks.json").json()
    header = jwt.get_unverified_header(tokens["access_token"])
    (jwk,) = [k for k in jwks["keys"] if k["kid"] == header["kid"]]
    key = jwt.PyJWK(jwk).key
    claims = jwt.decode(
        tokens["access_token"],
        key,
        algorithms=["RS256"],
        audience=auth_api.audience,
        issuer=auth_api.issuer,
        options={"require": ["exp", "nbf", "iat", "iss", "aud", "sub", "jti"]},
    )
    assert claims["sub"] == auth_api.admin_username
    assert claims["role"] == "admin"
    assert "users.manage" in claims["perms"]
    assert claims["exp"] - claims["iat"] == tokens["expires_in"]
    # The PEM the harness exposes is the same key.
    jwt.decode(
        tokens["access_token"],
        auth_api.public_key_pem,
        algorithms=["RS256"],
        audience=auth_api.audience,
    )


def test_token_for_each_role(auth_api) -> None:  # type: ignore[no-untyped-def]
    for role in ("admin", "doctor", "operator"):
        me = auth_api.request("GET", "/auth/me", token=auth_api.token_for(role))
        assert me.status_code == 200, me.text
        assert me.json()["role"] == role
