"""Evaluation link tokens: ``<nonce>.<signature>``.

The nonce is random (secrets.token_urlsafe) and stored; the signature (HMAC with SECRET_KEY,
salted) lets a forged or mistyped token be refused without touching the database and keeps the
token re-creatable for the window screen and the completion slip (the nonce alone is stored,
never the signature)."""

from __future__ import annotations

import secrets

from django.core import signing

_SIGNER = signing.Signer(salt="bianmin.evaluations.link", sep=".")


def new_nonce() -> str:
    return secrets.token_urlsafe(16)


def token_for(nonce: str) -> str:
    return _SIGNER.sign(nonce)


def nonce_from(token: str) -> str | None:
    """The nonce of a genuine token, or None for a forged/mangled one."""
    if not token or len(token) > 200:
        return None
    try:
        return _SIGNER.unsign(token)
    except signing.BadSignature:
        return None


# Short codes for typing a link from paper: no 0/O, 1/I/L, 2/Z, 5/S, 8/B look-alikes. Eight of
# these (25^8 ≈ 1.5e11 codes) with misses rate-limited per address cannot be walked.
SHORT_ALPHABET = "34679ACDEFGHJKMNPQRTUVWXY"
SHORT_LENGTH = 8


def new_short_code() -> str:
    return "".join(secrets.choice(SHORT_ALPHABET) for _ in range(SHORT_LENGTH))


def short_code_from(raw: str) -> str | None:
    """The code as stored from what a person typed (any case, with or without the dash the slip
    prints), or None when it cannot be one."""
    code = (raw or "").replace("-", "").strip().upper()
    if len(code) != SHORT_LENGTH or any(c not in SHORT_ALPHABET for c in code):
        return None
    return code


def short_code_display(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"
