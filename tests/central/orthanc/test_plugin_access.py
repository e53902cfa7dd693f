"""The rule table and the whole filter decision, without Orthanc."""

from __future__ import annotations

import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from klinika_access import RULES, decide, rule, split_uri
from klinika_filter import TokenFilter, bearer_token

READ = [
    ("GET", "/patients"),
    ("GET", "/studies/abc"),
    ("GET", "/series/abc/instances"),
    ("GET", "/instances/abc/file"),
    ("GET", "/studies/abc/archive"),
    ("POST", "/tools/find"),
    ("POST", "/tools/lookup"),
    ("GET", "/dicom-web/studies"),
    ("GET", "/dicom-web/studies/1.2/series/3.4/instances/5.6/frames/1"),
    ("GET", "/wado"),
    ("GET", "/system"),
]
UPLOAD = [
    ("POST", "/instances"),
    ("POST", "/dicom-web/studies"),
    ("POST", "/dicom-web/studies/1.2"),
]
REPORT = [("POST", "/klinika/reports/studies"), ("POST", "/klinika/reports/studies/1.2.3")]
ADMIN_ONLY = [
    ("DELETE", "/studies/abc"),
    ("DELETE", "/instances/abc"),
    ("PUT", "/modalities/ct1"),
    ("GET", "/modalities"),
    ("POST", "/modalities/ct1/store"),
    ("POST", "/studies/abc/modify"),
    ("POST", "/studies/abc/anonymize"),
    ("POST", "/tools/reset"),
    ("POST", "/tools/execute-script"),
    ("GET", "/tools/now"),
    ("GET", "/jobs"),
    ("GET", "/changes"),
    ("GET", "/statistics"),
    ("GET", "/peers"),
    ("GET", "/dicom-web/servers"),
    ("POST", "/dicom-web/servers/peer/stow"),
    ("PUT", "/instances/abc/metadata/1024"),
    ("GET", "/app/explorer.html"),
]
EXPECTED = {
    "admin": READ + UPLOAD + REPORT + ADMIN_ONLY,
    "operator": READ + UPLOAD,
    "doctor": READ + REPORT,
}
ALL = READ + UPLOAD + REPORT + ADMIN_ONLY


@pytest.mark.parametrize("role", ["admin", "doctor", "operator"])
def test_role_matrix(role: str) -> None:
    for method, uri in ALL:
        decision = decide(method, uri, role)
        assert decision.allowed == ((method, uri) in EXPECTED[role]), (role, method, uri)


def test_anonymous_and_unknown_roles_get_nothing() -> None:
    for method, uri in ALL:
        assert decide(method, uri, None).reason == "anonymous"
        assert not decide(method, uri, "superuser").allowed
        assert not decide(method, uri, "").allowed


def test_odd_paths_and_methods_are_refused() -> None:
    for uri in ("/studies/../tools/reset", "/studies/./x", "studies", "/studies?x=1", "/a\\b"):
        assert not decide("GET", uri, "admin").allowed, uri
    assert not decide("PATCH", "/studies", "admin").allowed
    assert not decide("OPTIONS", "/studies", "admin").allowed
    assert split_uri("//studies///abc/") == ("studies", "abc")


def test_first_matching_rule_decides() -> None:
    # /dicom-web/servers is admin-only although "GET /dicom-web/**" would let readers in.
    decision = decide("GET", "/dicom-web/servers/peer", "doctor")
    assert not decision.allowed
    assert decision.rule is RULES[0]
    assert decide("GET", "/dicom-web/studies", "doctor").rule is RULES[1]


def test_double_star_only_at_the_end() -> None:
    with pytest.raises(ValueError):
        rule("GET", "/a/**/b", frozenset({"admin"}), "bad")


def test_bearer_header_parsing() -> None:
    assert bearer_token({"authorization": "Bearer abc.def.ghi"}) == "abc.def.ghi"
    assert bearer_token({"authorization": "bearer  abc"}) == "abc"
    for value in ("Basic YWxhZGRpbjpvcGVu", "Bearer", "Bearer a b", "abc"):
        assert bearer_token({"authorization": value}) is None
    assert bearer_token({}) is None


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def token_filter(key: rsa.RSAPrivateKey) -> TokenFilter:
    pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    config = {
        "KlinikaTokenFilter": {
            "Issuer": "klinika-central",
            "Audience": "klinika",
            "PublicKeys": [{"kid": "k1", "pem": pem}],
        }
    }
    return TokenFilter.from_config(config)


def _bearer(key: rsa.RSAPrivateKey, role: object) -> dict[str, str]:
    now = int(time.time())
    claims = {"iss": "klinika-central", "aud": "klinika", "sub": "u", "role": role}
    claims |= {"iat": now, "nbf": now, "exp": now + 60}
    token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})
    return {"authorization": f"Bearer {token}"}


def test_filter_combines_token_and_rules(key: rsa.RSAPrivateKey, token_filter: TokenFilter) -> None:
    # Orthanc passes the method as an int: 1 GET, 2 POST, 3 PUT, 4 DELETE.
    assert token_filter.check(1, "/studies", _bearer(key, "doctor")).allowed
    denied = token_filter.check(2, "/instances", _bearer(key, "doctor"))
    assert (denied.allowed, denied.reason, denied.role) == (False, "role-not-allowed", "doctor")
    assert token_filter.check(4, "/studies/x", _bearer(key, "admin")).allowed
    assert token_filter.check(1, "/studies", {}).reason == "no-token"
    assert not token_filter.check(1, "/studies", _bearer(key, ["admin"])).allowed
    assert not token_filter.check(1, "/studies", _bearer(key, None)).allowed
    assert not token_filter.check(9, "/studies", _bearer(key, "admin")).allowed


def test_filter_configuration_errors_are_loud() -> None:
    with pytest.raises(ValueError, match="KlinikaTokenFilter"):
        TokenFilter.from_config({})
    with pytest.raises(ValueError, match="JwksUrl or PublicKeys"):
        TokenFilter.from_config({"KlinikaTokenFilter": {"Issuer": "i", "Audience": "a"}})
    with pytest.raises(ValueError, match="Issuer and Audience"):
        TokenFilter.from_config({"KlinikaTokenFilter": {"JwksUrl": "http://127.0.0.1:1/j"}})


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def test_verified_tokens_expire_with_the_token() -> None:
    from klinika_filter import VerifiedTokens

    clock = Clock()
    cache = VerifiedTokens(max_entries=2, max_age_s=300, clock=clock)
    cache.put("t1", {"exp": clock.now + 60, "role": "doctor"}, leeway_s=30)
    assert cache.get("t1") == {"exp": clock.now + 60, "role": "doctor"}
    clock.now += 89
    assert cache.get("t1") is not None
    clock.now += 1  # exp + leeway reached
    assert cache.get("t1") is None
    assert len(cache) == 0


def test_verified_tokens_are_bounded_and_aged() -> None:
    from klinika_filter import VerifiedTokens

    clock = Clock()
    cache = VerifiedTokens(max_entries=2, max_age_s=10, clock=clock)
    for name in ("a", "b", "c"):
        cache.put(name, {"exp": clock.now + 3600}, leeway_s=0)
    assert (cache.get("a"), len(cache)) == (None, 2)
    clock.now += 10
    assert cache.get("b") is None  # max age, although the token is still valid


def test_filter_remembers_only_verified_tokens(
    key: rsa.RSAPrivateKey, token_filter: TokenFilter
) -> None:
    headers = _bearer(key, "operator")
    before = len(token_filter.verified)
    assert token_filter.check(1, "/studies", headers).allowed
    assert len(token_filter.verified) == before + 1
    assert token_filter.check(2, "/instances", headers).allowed  # served from the cache
    assert len(token_filter.verified) == before + 1
    # The cache never lends its verdict to a different text, e.g. an edited payload.
    token = headers["authorization"].split()[1]
    head, _body, sig = token.split(".")
    forged = f"Bearer {head}.eyJyb2xlIjoiYWRtaW4ifQ.{sig}"
    assert token_filter.check(4, "/studies/x", {"authorization": forged}).reason == "bad-signature"
    assert len(token_filter.verified) == before + 1
