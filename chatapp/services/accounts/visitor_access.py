"""Who may talk to a bot from the outside: the bot by public id, its widget key, the website.

A widget key is looked up by its SHA-256 (the plain key is never stored) and compared in constant
time. When the bot lists allowed domains, the request's Origin (or Referer) must be one of them or
a subdomain of one. Every refusal is a sentence a website owner can act on.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from sqlalchemy.orm import object_session
from sqlmodel import Session, col, select

from chatapp.core import security
from chatapp.core.errors import NotAuthenticated, NotFound, PermissionDenied
from chatapp.services.accounts import security_events
from chatapp.services.actions import store, templates
from chatapp.services.bots import audiences
from chatapp.services.live import handoff
from chatapp.services.models import Bot, BotKey, BotStatus

PUBLIC_ID = re.compile(r"bot_[A-Za-z0-9]{8,28}")
INVALID_KEY = "Invalid or missing widget key for this bot. Copy the embed code again."
WRONG_SITE = "This chatbot is not enabled on this website. Add the domain in the bot's settings."
PAUSED = "This chatbot is paused. Please contact the website owner."


def public_bot(session: Session, public_id: str) -> Bot:
    """The bot with this public id (`bot_...`), or NotFound."""
    if not isinstance(public_id, str) or not PUBLIC_ID.fullmatch(public_id):
        raise NotFound("Bot not found.")
    bot = session.exec(select(Bot).where(Bot.public_id == public_id)).first()
    if bot is None:
        raise NotFound("Bot not found.")
    return bot


def check_key(session: Session, bot: Bot, key: str | None) -> None:
    """The key must be an unrevoked widget key of this very bot."""
    if not key or len(key) > 200:
        _refused_key(bot, "missing" if not key else "too long", key)
    digest = security.hash_token(key.strip())
    row = session.exec(
        select(BotKey).where(BotKey.key_hash == digest, col(BotKey.revoked_at).is_(None))
    ).first()
    if row is None or row.bot_id != bot.id or not security.same_hash(row.key_hash, digest):
        _refused_key(bot, "unknown or revoked" if row is None else "another bot's key", key)


def _refused_key(bot: Bot, reason: str, key: str | None) -> None:
    security_events.emit(
        security_events.WIDGET_KEY_REFUSED,
        reason,
        bot_id=bot.id,
        workspace_id=bot.workspace_id,
        key_prefix=security_events.key_hint(key),
    )
    raise NotAuthenticated(INVALID_KEY)


def request_host(origin: str | None, referer: str | None = None) -> str:
    """The host name a browser says the request comes from ("" when it does not say)."""
    for value in (origin, referer):
        if value and value != "null":
            try:
                host = urlsplit(value.strip()).hostname or ""
            except ValueError:
                host = ""
            if host:
                return host.lower().rstrip(".")
    return ""


def host_allowed(host: str, domains: list[str]) -> bool:
    """`shop.com` admits shop.com and its subdomains; `*.shop.com` only the subdomains."""
    for domain in domains:
        if domain.startswith("*."):
            if host.endswith(domain[1:]):
                return True
        elif host == domain or host.endswith("." + domain):
            return True
    return False


def check_origin(bot: Bot, origin: str | None, referer: str | None = None) -> None:
    domains = list(bot.allowed_domains or [])
    if not domains:
        return
    host = request_host(origin, referer)
    if not host or not host_allowed(host, domains):
        security_events.emit(
            security_events.ORIGIN_REFUSED,
            "no Origin or Referer" if not host else "site not in the bot's allowed domains",
            bot_id=bot.id,
            workspace_id=bot.workspace_id,
            origin_host=host[:253],
        )
        raise PermissionDenied(WRONG_SITE)


def check_active(bot: Bot) -> None:
    if bot.status != BotStatus.ACTIVE:
        raise PermissionDenied(PAUSED)


def widget_config(bot: Bot, session: Session | None = None) -> dict:
    """What the widget needs to render the bot: appearance and greeting, never a secret."""
    handoff_settings = None
    if session is not None:
        handoff_settings = handoff.settings_for(session, bot.id)
    return {
        "handoff": {
            "enabled": handoff_settings is not None,
            "button_label": handoff_settings.button_label if handoff_settings else "",
        },
        "bot_id": bot.public_id,
        "name": bot.name,
        "active": bot.status == BotStatus.ACTIVE,
        "welcome_message": bot.welcome_message,
        "starter_questions": list(bot.starter_questions or []),
        "avatar_url": bot.avatar_url,
        "accent_color": bot.accent_color,
        "position": bot.position,
        "show_button_text": bot.show_button_text,
        "button_text": bot.button_text,
        "audiences": audiences.public(bot),
        "lead_form": _lead_form(bot),
    }


def _lead_form(bot: Bot) -> dict:
    """The bot's enabled "Collect lead" action as the widget draws it (`enabled: false` if none)."""
    session = object_session(bot)
    action = None
    if session is not None:
        action = store.lead_form_action(session, workspace_id=bot.workspace_id, bot_id=bot.id)
    if action is None:
        return {"enabled": False, "title": "", "fields": []}
    return {"enabled": True, **templates.lead_form(action.config)}
