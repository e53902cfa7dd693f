"""No network call in the product, the central services, the benchmarks or the test
harness waits without a timeout (a server that stops answering must end in an error,
not a hang): every requests call (module functions and sessions), ``urlopen``,
``socket.create_connection`` and ``http.client`` connection names its timeout."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TREES = ("workstation", "central", "benchmarks", "tests/harness")
VERBS = {"get", "post", "put", "patch", "delete", "head", "options", "request"}
#: callee (as written) -> index of the positional argument that is the timeout
POSITIONAL_TIMEOUT = {
    "urlopen": 2,
    "urllib.request.urlopen": 2,
    "request.urlopen": 2,
    "socket.create_connection": 1,
    "create_connection": 1,
    "http.client.HTTPConnection": 2,
    "http.client.HTTPSConnection": 2,
    "HTTPConnection": 2,
    "HTTPSConnection": 2,
}


def _sources() -> Iterator[Path]:
    for tree in TREES:
        yield from sorted((ROOT / tree).rglob("*.py"))


def _is_session_factory(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Call) and ast.unparse(node.func) in (
        "requests.Session",
        "requests.session",
        "Session",
    )


def _sessions(tree: ast.AST) -> set[str]:
    """Expressions (as written) bound to a requests session anywhere in the module."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and _is_session_factory(node.value):
            names.update(ast.unparse(target) for target in node.targets)
        elif isinstance(node, ast.AnnAssign) and _is_session_factory(node.value):
            names.add(ast.unparse(node.target))
        elif (
            isinstance(node, ast.withitem)
            and _is_session_factory(node.context_expr)
            and node.optional_vars is not None
        ):
            names.add(ast.unparse(node.optional_vars))
    return names


def _has_timeout(call: ast.Call, positional: int | None = None) -> bool:
    if any(k.arg == "timeout" for k in call.keywords):
        return True
    return positional is not None and len(call.args) > positional


def untimed_calls(source: str) -> list[tuple[int, str]]:
    """(line, call) of every network call in ``source`` that sets no timeout."""
    tree = ast.parse(source)
    sessions = _sessions(tree) | {"requests"}
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        callee = ast.unparse(node.func)
        if isinstance(node.func, ast.Attribute) and node.func.attr in VERBS:
            owner = node.func.value
            on_session = ast.unparse(owner) in sessions or _is_session_factory(owner)
            if on_session and not _has_timeout(node):
                found.append((node.lineno, callee))
        elif callee in POSITIONAL_TIMEOUT and not _has_timeout(node, POSITIONAL_TIMEOUT[callee]):
            found.append((node.lineno, callee))
    return sorted(found)


def test_every_network_call_has_a_timeout() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: {call}(...) without timeout="
        for path in _sources()
        for line, call in untimed_calls(path.read_text(encoding="utf-8"))
    ]
    assert not offenders, "\n".join(offenders)


def test_the_check_catches_calls_without_timeout() -> None:
    source = """
import requests, socket, urllib.request
requests.get("http://x")
requests.post("http://x", timeout=5)
with requests.Session() as s:
    s.get("http://x")
    s.get("http://x", timeout=(3, 30))
class C:
    def __init__(self):
        self.http = requests.Session()
    def go(self):
        return self.http.request("GET", "http://x")
urllib.request.urlopen("http://x")
urllib.request.urlopen("http://x", None, 5)
socket.create_connection(("h", 1))
socket.create_connection(("h", 1), 5)
"""
    assert untimed_calls(source) == [
        (3, "requests.get"),
        (6, "s.get"),
        (12, "self.http.request"),
        (13, "urllib.request.urlopen"),
        (15, "socket.create_connection"),
    ]
