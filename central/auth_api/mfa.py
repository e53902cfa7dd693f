"""TOTP second factor (RFC 6238, 30 s steps, 6 digits) with replay protection: a code is
accepted one step either side of now, and never for a step at or before the last one used."""

from __future__ import annotations

import hmac
import time

import pyotp

from klinika_auth.models import User

STEP_SECONDS = 30
WINDOW = 1


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, username: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=issuer)


def check_code(user: User, code: str, now: float | None = None) -> bool:
    """True when ``code`` is valid for the user's secret; records the step used."""
    if not user.totp_secret or not code.isdigit():
        return False
    totp = pyotp.TOTP(user.totp_secret)
    current = int((time.time() if now is None else now) // STEP_SECONDS)
    for step in range(current - WINDOW, current + WINDOW + 1):
        if user.totp_last_step is not None and step <= user.totp_last_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            user.totp_last_step = step
            return True
    return False
