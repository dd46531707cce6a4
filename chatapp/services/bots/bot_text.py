"""A bot handled as a whole, the way single-call APIs handle one (Chatbase's v1): found by its
public id in the actor's workspace, made from a name and one pasted text, retrained by replacing
that text.

Every step is a call of the bots and sources services (permissions, audit log, storage limit,
the ingest queue); this module only decides which calls a whole-bot request stands for.
"""

from __future__ import annotations

from sqlmodel import Session

from chatapp.core.errors import NotFound
from chatapp.core.schemas import parse
from chatapp.services.accounts.tenancy import Actor, Permission, scoped_select
from chatapp.services.bots import bots
from chatapp.services.knowledge import source_edits, sources
from chatapp.services.models import Bot, BotCreate, BotUpdate

TEXT_TITLE = "Training text"  # the title of the pasted text such a request stands for
MAX_PUBLIC_ID = 32


def bot_by_public_id(session: Session, actor: Actor, public_id: str) -> Bot:
    """The actor's workspace's bot with this public id (`bot_...`); another workspace's bot is
    not found, exactly like a bot that does not exist."""
    actor.require(Permission.READ)
    if not public_id or len(public_id) > MAX_PUBLIC_ID:
        raise NotFound("Bot not found.")
    bot = session.exec(scoped_select(actor, Bot).where(Bot.public_id == public_id)).first()
    if bot is None:
        raise NotFound("Bot not found.")
    return bot


def create_with_text(session: Session, actor: Actor, *, name: str, text: str | None) -> Bot:
    """A new bot named `name`, learning `text` (queued for training) when one is given."""
    bot = bots.create_bot(session, actor, parse(BotCreate, name=name))
    if text is not None:
        sources.add_text(session, actor, bot.id, title=TEXT_TITLE, text=text)
    return bot


def replace_text(
    session: Session, actor: Actor, public_id: str, *, name: str, text: str | None
) -> Bot:
    """Rename the bot and, when `text` is given, make it the bot's only pasted text: the first
    pasted text is edited in place (its old passages answer until the new ones are trained),
    the others are deleted. Files, pages and Q&A pairs stay."""
    bot = bot_by_public_id(session, actor, public_id)
    actor.require(Permission.MANAGE_BOTS)
    if name != bot.name:
        bots.update_bot(session, actor, bot.id, parse(BotUpdate, name=name))
    if text is None:
        return bot
    texts = [s for s in sources.list_sources(session, actor, bot.id) if s.kind == "text"]
    if not texts:
        sources.add_text(session, actor, bot.id, title=TEXT_TITLE, text=text)
        return bot
    kept, *others = sorted(texts, key=lambda source: source.id)
    for other in others:  # first, so the storage limit counts only what stays
        sources.delete_source(session, actor, other.id)
    source_edits.update_text(session, actor, kept.id, title=TEXT_TITLE, text=text)
    return bot
