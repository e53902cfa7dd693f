"""Klinika central auth API (Flask): users, roles, RS256 JWT with JWKS, TOTP MFA, a
hash-chained audit log and the report registry.

``create_app(settings)`` is the WSGI factory; ``central-auth`` (``klinika_auth.cli``) runs it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

    from klinika_auth.settings import Settings

__all__ = ["create_app"]


def create_app(settings: Settings | None = None, **overrides: Any) -> Flask:
    """Build the app from ``settings`` (default: the config file and environment)."""
    from klinika_auth.app import create_app as _create
    from klinika_auth.settings import load_settings

    return _create(settings or load_settings(**overrides))
