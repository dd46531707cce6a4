"""Bots of a workspace: create, list and search, change, delete; widget keys; message usage."""

from __future__ import annotations

import shutil
from dataclasses import dataclass

from sqlalchemy import func, or_
from sqlmodel import Session, col, select, update

from chatapp.core import security
from chatapp.core.config import get_settings
from chatapp.core.errors import ValidationFailed
from chatapp.services.accounts import audit
from chatapp.services.accounts.tenancy import Actor, Permission, get_scoped, scoped_select
from chatapp.services.bots import widget_keys
from chatapp.services.bots.avatars import stored_avatar_path
from chatapp.services.knowledge.index.vector_index import get_index
from chatapp.services.knowledge.sources import uploads_dir
from chatapp.services.models import Bot, BotCreate, BotKey, BotUpdate, Workspace, utcnow

MAX_BOTS_PER_PAGE = 200
WIDGET_KEY_PREFIX = widget_keys.WIDGET_KEY_PREFIX


@dataclass(frozen=True)
class Usage:
    used: int
    limit: int

    @property
    def percent(self) -> int:
        if self.limit <= 0:
            return 100 if self.used else 0
        return min(100, round(100 * self.used / self.limit))

    @property
    def label(self) -> str:
        return f"{self.used} / {self.limit} messages - {self.percent} %"


def usage(bot: Bot) -> Usage:
    return Usage(used=bot.message_count, limit=bot.message_limit)


def create_bot(session: Session, actor: Actor, data: BotCreate) -> Bot:
    actor.require(Permission.MANAGE_BOTS)
    values = data.model_dump(exclude_none=True)
    if "message_limit" not in values:
        workspace = session.get(Workspace, actor.workspace_id)
        chosen = workspace.default_message_limit if workspace else None
        values["message_limit"] = (
            chosen if chosen is not None else get_settings().default_message_limit
        )
    bot = Bot(
        **values,
        workspace_id=actor.workspace_id,
        public_id=security.new_public_id("bot_"),
    )
    session.add(bot)
    session.flush()
    audit.record(session, actor, "bot.create", "bot", bot.public_id, audit.created(values))
    return bot


def list_bots(
    session: Session, actor: Actor, *, search: str = "", limit: int = MAX_BOTS_PER_PAGE
) -> list[Bot]:
    actor.require(Permission.READ)
    statement = scoped_select(actor, Bot)
    term = (search or "").strip()
    if term:
        pattern = f"%{term.lower()}%"
        statement = statement.where(
            or_(func.lower(Bot.name).like(pattern), func.lower(Bot.public_id).like(pattern))
        )
    limit = max(1, min(limit, MAX_BOTS_PER_PAGE))
    return list(
        session.exec(
            statement.order_by(col(Bot.created_at).desc(), col(Bot.id).desc()).limit(limit)
        )
    )


def count_bots(session: Session, actor: Actor) -> int:
    actor.require(Permission.READ)
    return session.exec(
        select(func.count()).select_from(Bot).where(Bot.workspace_id == actor.workspace_id)
    ).one()


def get_bot(session: Session, actor: Actor, bot_id: int) -> Bot:
    actor.require(Permission.READ)
    return get_scoped(session, actor, Bot, bot_id, "Bot")


def update_bot(session: Session, actor: Actor, bot_id: int, data: BotUpdate) -> Bot:
    actor.require(Permission.MANAGE_BOTS)
    bot = get_scoped(session, actor, Bot, bot_id, "Bot")
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    if not changes:
        raise ValidationFailed("Nothing to change.")
    _check_avatar_url(bot, changes.get("avatar_url"))
    audit.record(session, actor, "bot.update", "bot", bot.public_id, audit.changes_of(bot, changes))
    for field, value in changes.items():
        setattr(bot, field, value)
    bot.updated_at = utcnow()
    session.add(bot)
    session.flush()
    return bot


def _check_avatar_url(bot: Bot, url: str | None) -> None:
    """A stored picture belongs to the bot it was uploaded for: pointing another bot at it would
    let that bot's deletion remove a file that is not its own (possibly another workspace's)."""
    if url is None or url == bot.avatar_url or stored_avatar_path(url) is None:
        return
    raise ValidationFailed(
        "avatar_url: upload a picture for this bot (or give an external address); "
        "another bot's stored avatar cannot be reused."
    )


def rename_bot(session: Session, actor: Actor, bot_id: int, name: str) -> Bot:
    try:
        data = BotUpdate(name=name)
    except ValueError as exc:
        raise ValidationFailed("Give the bot a name of 1 to 80 characters.") from exc
    return update_bot(session, actor, bot_id, data)


def delete_bot(session: Session, actor: Actor, bot_id: int) -> None:
    """Delete a bot: its rows go by foreign-key cascades, its vectors and files here."""
    actor.require(Permission.MANAGE_BOTS)
    bot = get_scoped(session, actor, Bot, bot_id, "Bot")
    avatar = stored_avatar_path(bot.avatar_url)
    audit.record(session, actor, "bot.delete", "bot", bot.public_id, {"name": [bot.name, None]})
    session.delete(bot)
    session.flush()
    get_index().delete_bot(workspace_id=actor.workspace_id, bot_id=bot.id)
    shutil.rmtree(uploads_dir() / str(actor.workspace_id) / str(bot.id), ignore_errors=True)
    if avatar is not None:
        avatar.unlink(missing_ok=True)


def create_widget_key(
    session: Session, actor: Actor, bot_id: int, *, keep_older: bool = False
) -> tuple[BotKey, str]:
    """A new widget key for the bot; the plain key is returned (and readable again later).

    Older keys are revoked at once, unless `keep_older`: then they keep working (pages that
    embed them go on chatting) until the keys are revoked.
    """
    actor.require(Permission.MANAGE_BOTS)
    bot = get_scoped(session, actor, Bot, bot_id, "Bot")
    if not keep_older:
        session.exec(
            update(BotKey)
            .where(col(BotKey.bot_id) == bot.id, col(BotKey.workspace_id) == actor.workspace_id)
            .where(col(BotKey.revoked_at).is_(None))
            .values(revoked_at=utcnow())
        )
    plain, prefix = widget_keys.new_key(bot.public_id)
    key = BotKey(
        workspace_id=actor.workspace_id,
        bot_id=bot.id,
        key_hash=security.hash_token(plain),
        prefix=prefix,
    )
    session.add(key)
    session.flush()
    audit.record(
        session, actor, "key.create", "bot", bot.public_id, {"key_prefix": [None, key.prefix]}
    )
    return key, plain


def list_widget_keys(session: Session, actor: Actor, bot_id: int) -> list[BotKey]:
    actor.require(Permission.READ)
    bot = get_scoped(session, actor, Bot, bot_id, "Bot")
    return list(
        session.exec(
            scoped_select(actor, BotKey)
            .where(BotKey.bot_id == bot.id)
            .order_by(col(BotKey.created_at).desc())
        )
    )


def current_widget_key(session: Session, actor: Actor, bot_id: int) -> BotKey | None:
    """The key the widget uses now (the newest one not revoked), to show its prefix; or None."""
    actor.require(Permission.READ)
    bot = get_scoped(session, actor, Bot, bot_id, "Bot")
    return session.exec(
        scoped_select(actor, BotKey)
        .where(BotKey.bot_id == bot.id, col(BotKey.revoked_at).is_(None))
        .order_by(col(BotKey.created_at).desc(), col(BotKey.id).desc())
    ).first()


def shown_widget_key(
    session: Session, actor: Actor, bot_id: int
) -> tuple[BotKey | None, str | None]:
    """The key in use and its plain text for the embed code (None if it cannot be shown again:
    made before keys were readable, or under another SECRET_KEY; it still works)."""
    key = current_widget_key(session, actor, bot_id)
    if key is None:
        return None, None
    bot = get_scoped(session, actor, Bot, bot_id, "Bot")
    return key, widget_keys.readable(bot.public_id, key)


def revoke_widget_keys(session: Session, actor: Actor, bot_id: int) -> int:
    """Switch the widget off everywhere: every key of the bot is revoked. Returns how many."""
    actor.require(Permission.MANAGE_BOTS)
    bot = get_scoped(session, actor, Bot, bot_id, "Bot")
    keys = session.exec(
        scoped_select(actor, BotKey).where(
            BotKey.bot_id == bot.id, col(BotKey.revoked_at).is_(None)
        )
    ).all()
    now = utcnow()
    for key in keys:
        key.revoked_at = now
        session.add(key)
    session.flush()
    audit.record(
        session, actor, "key.revoke", "bot", bot.public_id, {"keys_revoked": [None, len(keys)]}
    )
    return len(keys)
