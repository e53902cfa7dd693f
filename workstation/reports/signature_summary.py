"""One line a person reads about a report's signature: who signed, when, and whether it
holds (intact, trusted; the certificate expired since or revoked).  Anything that is not
a valid signature reads NOT SIGNED with the reason; ``ok`` tells the face to show it in
green or red.  Shared by the report editor's panel and the viewer's document banner.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from workstation.i18n import _
from workstation.reports.verify import SignatureState, Verification


@dataclass(frozen=True)
class SignatureSummary:
    ok: bool
    text: str
    state: str = SignatureState.NOT_SIGNED.value


def _when(moment: dt.datetime | None) -> str:
    if moment is None:
        return "?"
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _why(result: Verification) -> str:
    """The reason a signature does not hold, in words (translated)."""
    who = result.signer or _("unknown signer")
    if result.state == SignatureState.REVOKED:
        return _("the certificate of {signer} was revoked on {when}").format(
            signer=who, when=_when(result.revoked_at)
        )
    if result.state == SignatureState.EXPIRED:
        return _("the certificate of {signer} was not valid when it signed ({when})").format(
            signer=who, when=_when(result.signed_at)
        )
    if result.state == SignatureState.TAMPERED:
        return _("the signed content was changed")
    if result.state == SignatureState.MODIFIED:
        return _("the document was changed after {signer} signed it").format(signer=who)
    if result.state == SignatureState.UNTRUSTED:
        return _("{signer}'s certificate is not trusted by this clinic").format(signer=who)
    return result.reason or _("no signature")


def summarize(result: Verification | None) -> SignatureSummary:
    """The signature line of a verification (None: nothing signed yet)."""
    if result is None:
        return SignatureSummary(
            False, _("NOT SIGNED: {reason}").format(reason=_("no signature yet"))
        )
    if result.state == SignatureState.VALID:
        text = _("Signed by {signer} at {when}: intact, trusted").format(
            signer=result.signer, when=_when(result.signed_at)
        )
        if result.expired:
            text += " · " + _("certificate expired since")
        return SignatureSummary(True, text, result.state.value)
    text = _("NOT SIGNED: {reason}").format(reason=_why(result))
    return SignatureSummary(False, text, result.state.value)


def not_signed(reason: str) -> SignatureSummary:
    """The line for a document that could not be checked at all."""
    return SignatureSummary(False, _("NOT SIGNED: {reason}").format(reason=reason))
