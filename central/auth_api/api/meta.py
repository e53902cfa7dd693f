"""Public, unauthenticated endpoints: health, the JWKS, the OpenAPI document."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from sqlalchemy import text

from klinika_auth.openapi import document
from klinika_auth.services import db, services

bp = Blueprint("meta", __name__)


@bp.get("/health")
def health() -> Any:
    db().execute(text("SELECT 1"))
    return {"status": "ok"}


@bp.get("/.well-known/jwks.json")
def jwks() -> Any:
    response = services().keyset.jwks()
    return response, 200, {"Cache-Control": "public, max-age=300"}


@bp.get("/openapi.json")
def openapi() -> Any:
    return document()
