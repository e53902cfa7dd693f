"""Login sessions: a family of rotating refresh tokens.

A refresh token is used once: ``rotate`` marks it rotated and hands out its successor.
Presenting a rotated token again means it was copied, so the whole session (every refresh
token of the family, and the access tokens naming the session) is revoked.

One exception, for a lost answer: a client whose refresh timed out (the server was frozen,
the link broke after the commit) presents the same token again - and the requests it gave
up on may still be served, in any order, after its retry.  Within
``refresh_reuse_grace_seconds`` of the rotation, and only while no later token of the
family has been used, the token is exchanged again for another successor (a sibling).
The first sibling used withdraws the others (marked rotated and expired: whoever presents
one later revokes the session), so one chain lives on.  Without this a network fault
during a refresh logs the user out (issue 16).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from klinika_auth import audit
from klinika_auth.errors import ApiError
from klinika_auth.models import LoginSession, RefreshToken, User, utcnow
from klinika_auth.settings import Settings
from klinika_auth.tokens import hash_refresh_token, new_refresh_token


@dataclass(frozen=True)
class Issued:
    session: LoginSession
    refresh_token: str
    refresh_expires_at: dt.datetime


def _refresh_failed(message: str) -> ApiError:
    return ApiError(401, "invalid_refresh_token", message)


def _issue_refresh(db: Session, session: LoginSession, settings: Settings) -> Issued:
    now = utcnow()
    raw = new_refresh_token()
    expires = min(now + dt.timedelta(seconds=settings.refresh_token_seconds), session.expires_at)
    db.add(
        RefreshToken(
            session_id=session.id,
            token_hash=hash_refresh_token(raw),
            issued_at=now,
            expires_at=expires,
        )
    )
    return Issued(session=session, refresh_token=raw, refresh_expires_at=expires)


def start(db: Session, user: User, settings: Settings, source_ip: str | None) -> Issued:
    now = utcnow()
    session = LoginSession(
        id=str(uuid.uuid4()),
        user_id=user.id,
        created_at=now,
        expires_at=now + dt.timedelta(seconds=settings.session_max_seconds),
        source_ip=source_ip,
    )
    db.add(session)
    db.flush()
    return _issue_refresh(db, session, settings)


def rotate(db: Session, raw: str, settings: Settings, source_ip: str | None) -> tuple[User, Issued]:
    """Exchange a refresh token for its successor (caller commits, also on failure)."""
    token = db.scalar(
        select(RefreshToken)
        .where(RefreshToken.token_hash == hash_refresh_token(raw))
        .with_for_update()
    )
    if token is None:
        raise _refresh_failed("The refresh token is not known; sign in again.")
    session = db.get(LoginSession, token.session_id, with_for_update=True)
    assert session is not None  # foreign key
    user = db.get(User, session.user_id)
    assert user is not None
    now = utcnow()
    if session.revoked_at is not None:
        raise _refresh_failed("This session has ended (signed out or revoked); sign in again.")
    if token.rotated_at is not None and not _lost_answer(db, token, now, settings):
        revoke(db, session, "refresh_token_reuse")
        audit.append(
            db,
            action="auth.refresh_reuse",
            outcome="failure",
            actor=user.username,
            source_ip=source_ip,
            details={"session": session.id},
        )
        raise _refresh_failed(
            "This refresh token was already used; the session is revoked for safety. Sign in again."
        )
    if token.expires_at <= now:
        raise _refresh_failed("The refresh token has expired; sign in again.")
    if user.disabled:
        raise _refresh_failed("This account is disabled; ask an administrator.")
    if token.rotated_at is None:
        _withdraw_siblings(db, token, now)
        token.rotated_at = now
    return user, _issue_refresh(db, session, settings)


def _lost_answer(db: Session, token: RefreshToken, now: dt.datetime, settings: Settings) -> bool:
    """True when ``token`` (rotated) may be exchanged again: its rotation is recent, it
    was not withdrawn, and no later token of its family was ever used (so the client
    never got - or never kept - an answer)."""
    assert token.rotated_at is not None
    if _withdrawn(token):
        return False  # presenting a withdrawn token is reuse
    if (now - token.rotated_at).total_seconds() > settings.refresh_reuse_grace_seconds:
        return False
    later = db.scalars(
        select(RefreshToken).where(
            RefreshToken.session_id == token.session_id, RefreshToken.id > token.id
        )
    ).all()
    return not any(t.rotated_at is not None and not _withdrawn(t) for t in later)


def _withdraw_siblings(db: Session, token: RefreshToken, now: dt.datetime) -> None:
    """``token`` is being used: the family's other unused tokens (siblings issued for lost
    answers) can no longer be anyone's."""
    db.execute(
        update(RefreshToken)
        .where(
            RefreshToken.session_id == token.session_id,
            RefreshToken.id != token.id,
            RefreshToken.rotated_at.is_(None),
        )
        .values(rotated_at=now, expires_at=now)
    )


def _withdrawn(token: RefreshToken) -> bool:
    """Withdrawn successors are marked rotated and expired at the same instant."""
    return token.rotated_at is not None and token.expires_at <= token.rotated_at


def revoke(db: Session, session: LoginSession, reason: str) -> None:
    if session.revoked_at is None:
        session.revoked_at = utcnow()
        session.revoked_reason = reason


def revoke_all(db: Session, user_id: int, reason: str, keep: str | None = None) -> int:
    """Revoke every live session of a user (except ``keep``); return how many."""
    stmt = (
        update(LoginSession)
        .where(LoginSession.user_id == user_id, LoginSession.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
    )
    if keep is not None:
        stmt = stmt.where(LoginSession.id != keep)
    result = cast(CursorResult[Any], db.execute(stmt))
    return result.rowcount


def find_by_refresh(db: Session, raw: str) -> LoginSession | None:
    token = db.scalar(
        select(RefreshToken).where(RefreshToken.token_hash == hash_refresh_token(raw))
    )
    return None if token is None else db.get(LoginSession, token.session_id)
