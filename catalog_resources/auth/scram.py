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


def _salted(password: str, salt: bytes, iterations: int) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", unicodedata.normalize("NFKC", password).encode("utf-8"), salt, iterations)


def client_proof(password: str, salt: str, iterations: int, message: str) -> str:
    """SCRAM's ClientProof over `message` (base64): ClientKey XOR HMAC(StoredKey, message). Whoever holds the
    verifier can check it (H(proof XOR HMAC(StoredKey, message)) == StoredKey) without ever seeing the password,
    and it proves nothing for any other message (sql/018's one-time challenge)."""
    client_key = hmac.new(_salted(password, base64.b64decode(salt), iterations), b"Client Key", "sha256").digest()
    signature = hmac.new(hashlib.sha256(client_key).digest(), message.encode("utf-8"), "sha256").digest()
    return _b64(bytes(a ^ b for a, b in zip(client_key, signature)))


def scram_verifier(password: str, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    """`SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, what `CREATE ROLE ... PASSWORD` accepts as is.

    The password is normalised as SASLprep does for ordinary text (NFKC), as libpq and the server do."""
    salt = os.urandom(16) if salt is None else salt
    salted = _salted(password, salt, iterations)
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    server_key = hmac.new(salted, b"Server Key", "sha256").digest()
    return f"SCRAM-SHA-256${iterations}:{_b64(salt)}${_b64(hashlib.sha256(client_key).digest())}:{_b64(server_key)}"
