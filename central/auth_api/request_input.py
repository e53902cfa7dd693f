"""Reading request input defensively: the JSON body (size-capped also when chunked, depth
capped, valid Unicode without NUL), query parameters and path ids.

Every refusal is a 4xx whose message names the rule broken, never the value sent.
"""

from __future__ import annotations

import json
from typing import Any

from flask import request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.routing import BaseConverter

from klinika_auth.errors import ApiError

MAX_BODY_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 32
MAX_QUERY_VALUE = 1024
MAX_ID = 2**31 - 1  # the id columns are 32-bit integers on PostgreSQL
MAX_QUERY_INT = 2**63 - 1


def too_large() -> ApiError:
    return ApiError(413, "too_large", f"The body is larger than {MAX_BODY_BYTES // 2**20} MiB.")


def _invalid(message: str) -> ApiError:
    return ApiError(400, "invalid_body", message)


def raw_body() -> bytes:
    """The body's bytes; 413 when it is larger than ``MAX_BODY_BYTES``.

    The app lets werkzeug read one byte more than ``MAX_BODY_BYTES``, so a chunked body
    (no Content-Length) that is too large is told apart from one that fits."""
    try:
        raw = request.get_data(cache=True)
    except RequestEntityTooLarge:
        raise too_large() from None
    if len(raw) > MAX_BODY_BYTES:
        raise too_large()
    return raw


def parse_json(raw: bytes) -> Any:
    """Parsed JSON; 400 with a message that does not echo the body."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _invalid("The body is not UTF-8 text.") from None
    try:
        data = json.loads(text)
    except RecursionError:
        raise _invalid(f"The body nests deeper than {MAX_DEPTH} levels.") from None
    except ValueError:
        raise _invalid("The body is not valid JSON.") from None
    check_tree(data)
    return data


def _bad_string(value: str) -> str | None:
    if "\x00" in value:
        return "The body contains a NUL character."
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "The body contains an unpaired surrogate (\\ud800-\\udfff), which is not text."
    return None


def check_tree(data: Any) -> None:
    """Refuse nesting deeper than ``MAX_DEPTH`` and strings (values and keys) that are not
    storable text.  Iterative, so no input can exhaust the stack."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            if depth > MAX_DEPTH:
                raise _invalid(f"The body nests deeper than {MAX_DEPTH} levels.")
            items = node.items() if isinstance(node, dict) else enumerate(node)
            for key, value in items:
                if isinstance(key, str) and (problem := _bad_string(key)):
                    raise _invalid(problem)
                stack.append((value, depth + 1))
        elif isinstance(node, str) and (problem := _bad_string(node)):
            raise _invalid(problem)


def check_query() -> None:
    """Before every request: query values must be short text without NUL."""
    for values in request.args.listvalues():
        for value in values:
            if len(value) > MAX_QUERY_VALUE or "\x00" in value:
                raise ApiError(
                    400,
                    "bad_request",
                    f"A query parameter is longer than {MAX_QUERY_VALUE} characters "
                    "or contains a NUL character.",
                )


def query_int(name: str, default: int, minimum: int = 0, maximum: int = MAX_QUERY_INT) -> int:
    """An integer query parameter within [minimum, maximum], else 400."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, "bad_request", f"{name} must be a whole number.") from None
    if not minimum <= value <= maximum:
        raise ApiError(400, "bad_request", f"{name} must be between {minimum} and {maximum}.")
    return value


class IdConverter(BaseConverter):
    """``<id:name>``: a positive decimal id.  Out-of-range numbers become 0, an id no row
    has, so the view answers its usual 404 instead of the database failing."""

    regex = r"\d{1,40}"

    def to_python(self, value: str) -> int:
        number = int(value)
        return number if 0 < number <= MAX_ID else 0

    def to_url(self, value: Any) -> str:
        return str(int(value))
