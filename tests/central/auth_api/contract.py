"""A client for the auth API tests that checks every response against the OpenAPI document
the server serves: the status must be documented for the operation, and a JSON body must
match its schema."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

import requests
from jsonschema import Draft202012Validator

from tests.harness.auth_api import AuthApiServer


def template_regex(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{[^}]+\\\}", r"[^/]+", re.escape(template)) + "$")


@dataclass
class ContractClient:
    server: AuthApiServer
    doc: dict[str, Any] = field(init=False)
    checked: int = 0

    def __post_init__(self) -> None:
        self.doc = self.server.request("GET", "/openapi.json").json()
        # Literal paths first: /reports/documents is not /reports/{report_id}.
        templates = sorted(self.doc["paths"], key=lambda t: "{" in t)
        self._routes = [(template_regex(t), t) for t in templates]

    def __getattr__(self, name: str) -> Any:  # url, login, token_for, ... of the server
        return getattr(self.server, name)

    def operation(self, method: str, path: str) -> dict[str, Any]:
        for regex, template in self._routes:
            if regex.match(path):
                op = self.doc["paths"][template].get(method.lower())
                assert op is not None, f"{method} {template} is not documented"
                return op
        raise AssertionError(f"{path} matches no documented path")

    def check(self, response: requests.Response) -> requests.Response:
        method = response.request.method or "GET"
        path = response.request.path_url.split("?", 1)[0]
        op = self.operation(method, path)
        status = str(response.status_code)
        assert status in op["responses"], (
            f"{method} {path} answered {status}, undocumented: {response.text[:300]}"
        )
        content = op["responses"][status].get("content")
        if content is None:
            assert not response.content, f"{method} {path} {status} should have no body"
        elif "application/json" not in content:  # a binary answer (DER)
            media = response.headers.get("Content-Type", "").split(";")[0].strip()
            assert media in content, f"{method} {path} {status}: {media} is not documented"
        else:
            schema = content["application/json"]["schema"]
            validator = Draft202012Validator({**schema, "components": self.doc["components"]})
            errors = sorted(validator.iter_errors(response.json()), key=str)
            assert not errors, f"{method} {path} {status}: {errors[0].message}"
        self.checked += 1
        return response

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.check(self.server.request(method, path, **kwargs))

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("DELETE", path, **kwargs)

    def new_user(self, role: str, password: str | None = None) -> tuple[dict[str, Any], str]:
        """Create a user with a unique name; return (user json, password)."""
        password = password or "Pw-" + uuid.uuid4().hex
        name = f"{role}-{uuid.uuid4().hex[:10]}"
        response = self.post(
            "/admin/users",
            token=self.server.admin_token(),
            json={"username": name, "password": password, "role": role},
        )
        assert response.status_code == 201, response.text
        return response.json(), password

    def login_ok(self, username: str, password: str, **extra: Any) -> dict[str, Any]:
        response = self.post(
            "/auth/login", json={"username": username, "password": password, **extra}
        )
        assert response.status_code == 200, response.text
        return response.json()
