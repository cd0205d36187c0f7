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
