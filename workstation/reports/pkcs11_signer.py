"""A doctor's key on a PKCS#11 token (smart card, HSM; tested with SoftHSM2).

The key never leaves the token: pyHanko's PKCS#11 signer asks the token to sign.  EC
keys use the raw ECDSA mechanism (the token gets the digest; many tokens, SoftHSM2 among
them, have no combined hash-and-sign mechanism for EC).  The certificate is read from
the token (same label as the key).  Close the signer to end the token session.
"""

from __future__ import annotations

from typing import Any

from cryptography import x509

from workstation.reports.errors import SigningRefused, SigningSetupError


class Pkcs11Signer:
    def __init__(self, library: str, token_label: str, pin: str, key_label: str) -> None:
        try:
            from pyhanko.config.pkcs11 import TokenCriteria
            from pyhanko.sign.pkcs11 import PKCS11Signer, open_pkcs11_session
        except ImportError as exc:  # python-pkcs11 is optional
            raise SigningSetupError("PKCS#11 support needs the python-pkcs11 package") from exc
        try:
            self._session = open_pkcs11_session(
                library, token_criteria=TokenCriteria(label=token_label), user_pin=pin
            )
        except Exception as exc:
            # python-pkcs11 raises its own hierarchy (PinIncorrect, NoSuchToken, ...).
            raise SigningRefused(f"the token could not be opened: {type(exc).__name__}") from exc
        self._key_label = key_label
        cert = PKCS11Signer(self._session, key_label=key_label, use_raw_mechanism=True).signing_cert
        if cert is None:
            raise SigningSetupError(f"no certificate labelled {key_label!r} on the token")
        self._cert = x509.load_der_x509_certificate(cert.dump())

    @property
    def certificate(self) -> x509.Certificate:
        return self._cert

    def cms_signer(self) -> Any:
        """A new pyHanko signer over the open session for each signature (its objects
        freshly read: see :meth:`Pkcs12Signer.cms_signer`)."""
        from pyhanko.sign.pkcs11 import PKCS11Signer

        return PKCS11Signer(self._session, key_label=self._key_label, use_raw_mechanism=True)

    def close(self) -> None:
        self._session.close()
