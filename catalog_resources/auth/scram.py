"""SCRAM-SHA-256 verifiers made on the client (RFC 5802 / 7677, PostgreSQL's stored form), so a password never
travels to the server or into its logs, only what the server needs to check one."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import unicodedata

ITERATIONS = 4096  # PostgreSQL's own default (scram_iterations)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def scram_verifier(password: str, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    """`SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, what `CREATE ROLE ... PASSWORD` accepts as is.

    The password is normalised as SASLprep does for ordinary text (NFKC), as libpq and the server do."""
    salt = os.urandom(16) if salt is None else salt
    salted = hashlib.pbkdf2_hmac("sha256", unicodedata.normalize("NFKC", password).encode("utf-8"), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    server_key = hmac.new(salted, b"Server Key", "sha256").digest()
    return f"SCRAM-SHA-256${iterations}:{_b64(salt)}${_b64(hashlib.sha256(client_key).digest())}:{_b64(server_key)}"
