"""The PostgreSQL role a user's e-mail address becomes, and checks of what a user types."""

from __future__ import annotations

import hashlib
import re

from catalog_resources.errors import UsageError

EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
MIN_PASSWORD = 10


def role_for(email: str) -> str:
    """`vc_anna_weber_3f9a2c`: readable in `pg_stat_activity`, unique by the address's hash, within the 63-byte
    limit, and nothing a SQL identifier would need quoting for."""
    local = re.sub(r"[^a-z0-9]+", "_", email.split("@", 1)[0].lower()).strip("_")[:40] or "user"
    return f"vc_{local}_{hashlib.sha256(email.lower().encode()).hexdigest()[:6]}"


def check_email(email: str) -> str:
    email = email.strip()
    if not EMAIL.fullmatch(email):
        raise UsageError(f"{email!r} is not an e-mail address (name@example.com)")
    return email.lower()


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise UsageError(f"the password is too short: use at least {MIN_PASSWORD} characters")
    return password
