"""CSRF protection for the web catalog's POST forms: a signed double-submit token.

Each browser gets a random token in a cookie (HttpOnly, SameSite=Strict), signed with HMAC-SHA256 under a secret
kept in the catalog home (`web.secret`, 0600, made on first use) so a token cannot be forged by someone who can
set cookies for the host but does not know the secret. Every page puts the same token in its forms; a POST is
accepted only when the form's token equals the cookie's and the signature checks. This sits on top of the
Origin/Referer check in app.py (a POST must come from a page of this server). Forms are
application/x-www-form-urlencoded and parsed here, so no multipart parser is needed.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path
from urllib.parse import parse_qs

from fastapi import Request
from starlette.exceptions import HTTPException

from catalog_resources.files import write_atomic

COOKIE = "vc_csrf"
FIELD = "csrf"
MAX_FORM_BYTES = 64 * 1024
REFUSED = ("This form's security token is missing or does not match (the page may be from an earlier session, or "
           "the form came from another site). Nothing was changed: go back, reload the page and try again.")


def load_secret(path: Path) -> bytes:
    """The signing secret kept at `path`, made (32 random bytes, owner-only) when there is none."""
    try:
        data = path.read_bytes()
        if len(data) >= 32:
            return data
    except OSError:
        pass
    data = secrets.token_bytes(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, data)
    os.chmod(path, 0o600)
    return data


class Tokens:
    def __init__(self, secret: bytes) -> None:
        self.secret = secret

    def _sign(self, nonce: str) -> str:
        return hmac.new(self.secret, nonce.encode(), hashlib.sha256).hexdigest()

    def new(self) -> str:
        nonce = secrets.token_urlsafe(24)
        return f"{nonce}.{self._sign(nonce)}"

    def valid(self, token: str | None) -> bool:
        if not token or token.count(".") != 1 or len(token) > 200:
            return False
        nonce, signature = token.split(".")
        return hmac.compare_digest(signature, self._sign(nonce))

    def for_request(self, request: Request) -> str:
        """The browser's token (its cookie, when valid) or a new one; the page's response sets the cookie."""
        token = request.cookies.get(COOKIE)
        return token if self.valid(token) else self.new()


def set_cookie(response, token: str) -> None:
    response.set_cookie(COOKIE, token, httponly=True, samesite="strict", path="/")


async def checked_form(request: Request) -> dict[str, str]:
    """The POSTed form's fields (first value each) once its token matches the cookie and is signed; else 403."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise HTTPException(413, "The form is too large.")
    try:
        fields = {k: v[0] for k, v in parse_qs(body.decode("utf-8"), keep_blank_values=True).items()}
    except UnicodeDecodeError:
        fields = {}
    tokens: Tokens = request.app.state.tokens
    cookie, given = request.cookies.get(COOKIE), fields.get(FIELD)
    if not (tokens.valid(cookie) and given and hmac.compare_digest(cookie or "", given)):
        raise HTTPException(403, REFUSED)
    return fields
