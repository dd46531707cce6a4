"""Publishable widget keys that the Connect page can show again, stored only as their hash.

A widget key is public by nature (every page that embeds the widget carries it), so an owner who
comes back to Connect must get an embed code that works when pasted. We still store only the
key's SHA-256 (the lookup of visitor_access.check_key is unchanged): the key is derived from the
installation's SECRET_KEY, the bot's public id and a random salt kept as the key's shown prefix,
so it can be derived again from what is stored. A derived key is shown only if its hash is the
stored one: a key made before this scheme, or under another SECRET_KEY, is reported unreadable
(it keeps working; the owner adds a readable one next to it).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from chatapp.core import security
from chatapp.core.config import get_settings
from chatapp.services.models import BotKey

WIDGET_KEY_PREFIX = "ck_"
SALT_CHARS = 7  # the random part of the prefix (ck_ + 7 characters = the 10 shown)
DERIVATION = b"chatapp publishable widget key v1"


def _salt() -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(secrets.choice(alphabet) for _ in range(SALT_CHARS))


def _derive(bot_public_id: str, prefix: str) -> str:
    message = DERIVATION + b"\0" + bot_public_id.encode() + b"\0" + prefix.encode()
    digest = hmac.new(get_settings().secret_key.encode(), message, hashlib.sha256).digest()
    return prefix + base64.urlsafe_b64encode(digest).decode().rstrip("=")


def new_key(bot_public_id: str) -> tuple[str, str]:
    """(plain key, its shown prefix) for a new key of this bot."""
    prefix = WIDGET_KEY_PREFIX + _salt()
    return _derive(bot_public_id, prefix), prefix


def readable(bot_public_id: str, key: BotKey) -> str | None:
    """The plain key of a stored key row, or None when it cannot be derived again."""
    if not key.prefix.startswith(WIDGET_KEY_PREFIX) or len(key.prefix) != 3 + SALT_CHARS:
        return None
    plain = _derive(bot_public_id, key.prefix)
    return plain if security.same_hash(security.hash_token(plain), key.key_hash) else None
