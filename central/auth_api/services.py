"""What one app instance holds (settings, database, keys, hasher, token issuer) and the
per-request database session."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, g
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from klinika_auth.keys import KeySet
from klinika_auth.passwords import Hasher
from klinika_auth.settings import Settings
from klinika_auth.tokens import TokenIssuer

EXTENSION = "klinika_auth"


@dataclass
class Services:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    keyset: KeySet
    hasher: Hasher
    tokens: TokenIssuer


def services() -> Services:
    return current_app.extensions[EXTENSION]


def db() -> Session:
    """The request's database session (rolled back and closed when the request ends)."""
    if "db" not in g:
        g.db = services().sessions()
    return g.db


def close_db(_exc: BaseException | None = None) -> None:
    session = g.pop("db", None)
    if session is not None:
        session.rollback()
        session.close()
