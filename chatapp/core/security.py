"""Password hashing (argon2), random tokens and their hashes, encryption of stored secrets.

Tokens (login sessions, widget keys, API tokens) are random and only their SHA-256 is stored, so a
leaked database does not leak a usable credential; lookups compare hashes in constant time.
Secrets we must use again (a workspace's LLM provider key) are encrypted with Fernet under a key
derived from SECRET_KEY (HKDF-SHA256), so the database alone does not reveal them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from passlib.context import CryptContext

from chatapp.core.config import get_settings
from chatapp.core.errors import ServiceError


@lru_cache(maxsize=4)
def _context(memory_kib: int, rounds: int) -> CryptContext:
    return CryptContext(
        schemes=["argon2"],
        deprecated="auto",
        argon2__memory_cost=memory_kib,
        argon2__rounds=rounds,
    )


def _passwords() -> CryptContext:
    """The hashing context with the configured cost (hashes carry their own parameters)."""
    settings = get_settings()
    return _context(settings.argon2_memory_kib, settings.argon2_rounds)


MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256


def hash_password(password: str) -> str:
    return _passwords().hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    try:
        return _passwords().verify(password, password_hash)
    except (ValueError, TypeError):
        return False


@lru_cache(maxsize=4)
def _dummy_hash(memory_kib: int, rounds: int) -> str:
    return _context(memory_kib, rounds).hash(secrets.token_urlsafe(16))


def burn_password_check(password: str) -> None:
    """Spend the time of a real verification (unknown email: do not reveal it by timing)."""
    settings = get_settings()
    dummy = _dummy_hash(settings.argon2_memory_kib, settings.argon2_rounds)
    _passwords().verify(password, dummy)


def password_problem(password: str) -> str | None:
    """A sentence saying why a new password is refused, or None when it is acceptable."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Use at least {MIN_PASSWORD_LENGTH} characters for the password."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Use at most {MAX_PASSWORD_LENGTH} characters for the password."
    if password.strip() == "":
        return "The password cannot be only spaces."
    return None


def new_token(prefix: str = "") -> str:
    """32 random bytes, URL-safe, with an optional readable prefix (e.g. `ck_`)."""
    return prefix + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def same_hash(left: str, right: str) -> bool:
    return hmac.compare_digest(left.encode(), right.encode())


def new_public_id(prefix: str) -> str:
    """A short, unguessable public identifier such as `bot_Xy3...`."""
    return prefix + secrets.token_urlsafe(12).replace("-", "x").replace("_", "y")


@lru_cache(maxsize=4)
def _fernet(secret_key: str) -> Fernet:
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"chatapp stored secrets v1"
    ).derive(secret_key.encode("utf-8"))
    return Fernet(base64.urlsafe_b64encode(derived))


def encrypt_secret(plain: str) -> str:
    """Encrypt a secret for storage (authenticated; a new random IV every time)."""
    return _fernet(get_settings().secret_key).encrypt(plain.encode("utf-8")).decode("ascii")


def decrypt_secret(stored: str) -> str:
    """The plain secret; a ServiceError when it was encrypted under another SECRET_KEY."""
    try:
        return _fernet(get_settings().secret_key).decrypt(stored.encode("ascii")).decode("utf-8")
    except (InvalidToken, ValueError) as exc:
        raise ServiceError(
            "A stored secret can no longer be read (was SECRET_KEY changed?). Enter it again."
        ) from exc


def secret_hint(plain: str) -> str:
    """What a person may see of a secret: its last 4 characters."""
    return f"...{plain[-4:]}" if len(plain) >= 12 else "set"
