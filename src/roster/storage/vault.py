"""Secrets roster must use in clear (webhook secrets, suppression-list keys) are stored
encrypted with ROSTER_SECRET_KEY; API keys are stored as SHA-256 hashes only."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

KEY_FILE = "secret.key"


def load_or_create_key(configured: str | None, data_dir: Path) -> str:
    """The configured key, else the one in the data directory, else a new one saved there."""
    if configured:
        return configured
    path = data_dir / KEY_FILE
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key().decode()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(key + "\n")
    return key


class Vault:
    def __init__(self, secret_key: str) -> None:
        # Any string works as ROSTER_SECRET_KEY: it is stretched into a Fernet key.
        digest = hashlib.sha256(secret_key.encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(digest))

    def seal(self, value: bytes) -> str:
        return self._fernet.encrypt(value).decode()

    def open(self, token: str) -> bytes:
        try:
            return self._fernet.decrypt(token.encode())
        except InvalidToken as error:
            raise RuntimeError(
                "a stored secret cannot be decrypted: ROSTER_SECRET_KEY differs from the key "
                "the data was written with"
            ) from error

    def open_recent(self, token: str, max_age: int, now: float | None = None) -> bytes | None:
        """A value sealed here at most `max_age` seconds before `now` (by default, now); None
        for anything else (too old, altered, or sealed with another key)."""
        at = int(time.time() if now is None else now)
        try:
            return self._fernet.decrypt_at_time(token.encode(), ttl=max_age, current_time=at)
        except (InvalidToken, ValueError):
            return None


def new_key(prefix: str = "") -> str:
    """A random API key with 256 bits of entropy."""
    return prefix + secrets.token_urlsafe(32)


def key_hash(key: str) -> str:
    """Keys are random, so a fast hash is enough; a slow password hash would buy nothing."""
    return hashlib.sha256(key.encode()).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
