"""The OpenAPI document matches the implementation: every route in Flask's URL map is
documented with its methods and vice versa, and each operation's ``x-permission`` is the
permission its ``require`` decorator checks.  (The other API tests validate every response
they receive against the document through ``ContractClient``.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from klinika_auth.app import create_app, prepare
from klinika_auth.openapi import SCHEMAS, document, flask_rule_to_path
from klinika_auth.settings import load_settings

IGNORED_METHODS = {"HEAD", "OPTIONS"}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    settings = load_settings(data_dir=tmp_path_factory.mktemp("openapi-app"))
    prepare(settings)
    return create_app(settings)


def _implemented(app) -> dict[tuple[str, str], object]:  # type: ignore[no-untyped-def]
    found = {}
    for rule in app.url_map.iter_rules():
        for method in rule.methods - IGNORED_METHODS:
            found[(method, flask_rule_to_path(rule.rule))] = app.view_functions[rule.endpoint]
    return found


def test_every_route_is_documented_and_vice_versa(app) -> None:  # type: ignore[no-untyped-def]
    documented = {
        (method.upper(), path) for path, ops in document()["paths"].items() for method in ops
    }
    assert set(_implemented(app)) == documented


def test_documented_permission_is_the_enforced_one(app) -> None:  # type: ignore[no-untyped-def]
    doc = document()
    for (method, path), view in _implemented(app).items():
        op = doc["paths"][path][method.lower()]
        if getattr(view, "requires_auth", False):
            assert op["security"] == [{"bearer": []}], (method, path)
            assert op["x-permission"] == view.required_permission, (method, path)  # type: ignore[attr-defined]
            assert {"401", "403"} <= set(op["responses"]), (method, path)
        else:
            assert "x-permission" not in op, (method, path)


def test_path_parameters_are_declared(app) -> None:  # type: ignore[no-untyped-def]
    for rule in app.url_map.iter_rules():
        path = flask_rule_to_path(rule.rule)
        for method in rule.methods - IGNORED_METHODS:
            op = document()["paths"][path][method.lower()]
            declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert declared == set(rule.arguments), (method, path)


def test_document_is_valid_json_schema_throughout() -> None:
    for name, schema in SCHEMAS.items():
        Draft202012Validator.check_schema(schema), name
    doc = document()
    assert doc["openapi"].startswith("3.1")
    refs = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if "$ref" in node:
                refs.add(node["$ref"].rsplit("/", 1)[-1])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc)
    assert refs <= set(SCHEMAS)


@pytest.mark.network
def test_served_document_is_the_module_document(auth_api) -> None:  # type: ignore[no-untyped-def]
    served = auth_api.request("GET", "/openapi.json")
    assert served.status_code == 200
    assert served.json() == document()


def test_no_route_module_left_out() -> None:
    """Every blueprint module under api/ is registered by the app factory."""
    import klinika_auth.api as api
    import klinika_auth.app as app_module

    modules = {p.stem for p in Path(api.__file__).parent.glob("*.py")} - {"__init__", "common"}
    source = Path(app_module.__file__).read_text()
    for name in modules:
        assert f"{name}.bp" in source, name
