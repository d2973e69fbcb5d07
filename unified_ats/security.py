"""Our own credentials (API keys, connector tokens) and the encryption of vendor credentials.

Keys and tokens are random, carry a recognisable prefix (so a leaked one can be spotted by
secret scanners), and are stored only as SHA-256 hashes. They hold 256 bits of entropy, so a
fast hash is enough; lookups go through the hash index and end with a constant-time compare.
"""

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

API_KEY_PREFIX = "uats_sk_"
CONNECTOR_TOKEN_PREFIX = "uats_ct_"  # noqa: S105 - a prefix, not a secret
WEBHOOK_SECRET_PREFIX = "uats_wh_"  # noqa: S105 - a prefix, not a secret


def new_secret(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def hash_secret(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def matches(value: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(value), stored_hash)


def hint(value: str) -> str:
    """What may be shown of a secret: its prefix and last four characters."""
    prefix = value[: value.find("_", 5) + 1] if value.count("_") >= 2 else ""
    return f"{prefix}…{value[-4:]}"


class CredentialCipher:
    """Encrypts vendor credentials at rest (Fernet: AES-128-CBC + HMAC-SHA256)."""

    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise ValueError("at least one encryption key is required")
        self._fernet = MultiFernet([Fernet(key.encode()) for key in keys])

    def encrypt(self, plaintext: bytes) -> bytes:
        return self._fernet.encrypt(plaintext)

    def decrypt(self, token: bytes) -> bytes:
        try:
            return self._fernet.decrypt(token)
        except InvalidToken as exc:
            raise ValueError(
                "stored credentials cannot be decrypted with the configured keys"
            ) from exc


def derive_key(root: str, purpose: str) -> bytes:
    """A 256-bit key for one purpose, derived from the primary encryption key: one secret to
    configure, and no key reused across purposes."""
    return hmac.new(root.encode(), f"unified-ats/{purpose}".encode(), hashlib.sha256).digest()


def load_or_create_key(path: Path) -> str:
    """The key in ``path``, created (mode 0600) when missing: zero-configuration single host."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key().decode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key
