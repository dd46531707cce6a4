"""Who a server-side client is from its bearer credential alone, and which bots it may talk to.

Compatibility APIs (OpenAI's chat completions) name no workspace in their paths: the credential
says it. A workspace API token (`cat_...`) may use every bot of its workspace, acting as the
member who created it; a bot's widget key (`ck_...`) only that bot, as a visitor would. Bots are
looked up inside the caller's workspace only, and a bot the caller may not use is "not found",
never "forbidden": nobody learns that another workspace's bot exists.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from chatapp.core import security
from chatapp.core.errors import NotAuthenticated, NotFound
from chatapp.services.accounts import api_tokens, security_events
from chatapp.services.accounts.tenancy import Actor
from chatapp.services.bots import bots, widget_keys
from chatapp.services.models import Bot, BotKey, Workspace

MISSING = "Send a workspace API token (cat_...) or a bot's widget key (ck_...) as the API key."
UNKNOWN_KEY = "This widget key is unknown or revoked. Copy the key from the bot's Connect page."
MAX_CREDENTIAL_CHARS = 200


@dataclass(frozen=True)
class Caller:
    """An authenticated server-side client."""

    workspace_id: int
    credential: str  # "token:<id>" or "key:<id>": which credential, never the secret
    actor: Actor | None = None  # a workspace API token: its creator, with the admin role
    bot_id: int | None = None  # a widget key: its one bot
    widget_key: str | None = None  # the plain widget key, for the chat pipeline to check


def caller_for(session: Session, credential: str | None) -> Caller:
    """The caller a bearer credential stands for, or NotAuthenticated with a sentence."""
    plain = (credential or "").strip()
    if not plain or len(plain) > MAX_CREDENTIAL_CHARS:
        raise NotAuthenticated(MISSING)
    if api_tokens.is_api_token(plain):
        return _token_caller(session, plain)
    if plain.startswith(widget_keys.WIDGET_KEY_PREFIX):
        return _key_caller(session, plain)
    raise NotAuthenticated(MISSING)  # e.g. a member's login token: it names no workspace


def _token_caller(session: Session, plain: str) -> Caller:
    token_id, actor = api_tokens.token_in_own_workspace(session, plain)
    return Caller(actor.workspace_id, f"token:{token_id}", actor=actor)


def _key_caller(session: Session, plain: str) -> Caller:
    key = session.exec(
        select(BotKey).where(
            BotKey.key_hash == security.hash_token(plain), col(BotKey.revoked_at).is_(None)
        )
    ).first()
    if key is None:
        security_events.emit(
            security_events.WIDGET_KEY_REFUSED,
            "unknown or revoked",
            key_prefix=security_events.key_hint(plain),
        )
        raise NotAuthenticated(UNKNOWN_KEY)
    return Caller(key.workspace_id, f"key:{key.id}", bot_id=key.bot_id, widget_key=plain)


def model_not_found(public_id: str) -> NotFound:
    return NotFound(f"The model `{public_id[:64]}` does not exist or you do not have access to it.")


def usable_bot(session: Session, caller: Caller, public_id: str) -> Bot:
    """The caller's bot with this public id (paused ones too: the chat says why it refuses)."""
    bot = session.exec(
        select(Bot).where(Bot.public_id == public_id, Bot.workspace_id == caller.workspace_id)
    ).first()
    if bot is None or (caller.bot_id is not None and bot.id != caller.bot_id):
        raise model_not_found(public_id)
    return bot


def usable_bots(session: Session, caller: Caller) -> list[Bot]:
    """Every bot the caller may name: the workspace's (newest first) or the key's own."""
    if caller.actor is not None:
        return bots.list_bots(session, caller.actor)
    bot = session.get(Bot, caller.bot_id)
    return [bot] if bot is not None and bot.workspace_id == caller.workspace_id else []


def workspace_slug(session: Session, caller: Caller) -> str:
    workspace = session.get(Workspace, caller.workspace_id)
    return workspace.slug if workspace is not None else ""
