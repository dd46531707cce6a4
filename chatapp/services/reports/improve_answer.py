"""Improve one of the bot's answers where the owner reads it (Activity): the right answer is saved
as a Q&A pair, and the next visitor who asks gets it.

The missing-content report does this for unanswered questions through `sources.add_qa`; this does
the same for any answer, through the same service. Which pair is written:
1. the pair written earlier from this same answer (its meta keeps `from_message_id`) is updated,
   so saving twice never piles up duplicates;
2. otherwise, when the answer came from a Q&A pair asking the same question (compared as the
   missing-content report compares wordings), that pair is corrected: a second pair for the same
   question would compete with it, and the visitor could still get the old answer;
3. otherwise a new pair is added to the bot that answered (for a router bot, the routed-to bot).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlmodel import Session, col, func, select

from chatapp.core.errors import ValidationFailed
from chatapp.services.accounts.tenancy import Actor, Permission, get_scoped, scoped_select
from chatapp.services.knowledge import schemas, sources
from chatapp.services.knowledge.sources import SourceInputInvalid
from chatapp.services.models import Bot, Conversation, Message, Source
from chatapp.services.reports.missing_content import normalise_text

FROM_MESSAGE = "from_message_id"  # the Source.meta key naming the answer a pair was written from
_MARKER = re.compile(r"\s*\[\d{1,2}\]")  # the answer's citation markers, "[1]"


@dataclass(frozen=True)
class AnswerDraft:
    """What the "Improve answer" form starts with."""

    message_id: int
    bot_id: int  # the bot the pair goes to
    question: str
    answer: str
    source_id: int | None  # the pair saving would update (None: a new pair)


def draft(session: Session, actor: Actor, message_id: int) -> AnswerDraft:
    """The visitor's question and the bot's answer (or the pair already written from it)."""
    message, bot_id = _answer(session, actor, message_id)
    question = _question_before(session, actor, message)
    pair = _pair_to_update(session, actor, message, bot_id, question)
    if pair is not None and (pair.meta or {}).get(FROM_MESSAGE) == message.id:
        meta = pair.meta or {}
        return AnswerDraft(
            message.id, bot_id, str(meta.get("question", "")), str(meta.get("answer", "")), pair.id
        )
    answer = _MARKER.sub("", message.content).strip()
    return AnswerDraft(message.id, bot_id, question, answer, pair.id if pair else None)


def improve_answer(
    session: Session, actor: Actor, message_id: int, *, answer: str, question: str | None = None
) -> Source:
    """Save the right answer to this message's question as a Q&A pair (queued for training)."""
    message, bot_id = _answer(session, actor, message_id)
    if question is None:
        question = _question_before(session, actor, message)
        if not question:
            raise SourceInputInvalid("Write the question this answer is for.", "question")
    pair = _pair_to_update(session, actor, message, bot_id, question)
    if pair is None:
        pair = sources.add_qa(session, actor, bot_id, question=question, answer=answer)
        pair.meta = {**pair.meta, FROM_MESSAGE: message.id}
    else:
        pair = sources.update_qa(session, actor, pair.id, question=question, answer=answer)
        pair.meta = {**(pair.meta or {}), FROM_MESSAGE: message.id}
    session.add(pair)
    session.flush()
    return pair


def _answer(session: Session, actor: Actor, message_id: int) -> tuple[Message, int]:
    """The bot's message (of the actor's workspace) and the bot its pair belongs to."""
    actor.require(Permission.MANAGE_BOTS)
    message = get_scoped(session, actor, Message, message_id, "Message")
    if message.role != "assistant":
        raise ValidationFailed("Only the bot's answers can be improved.")
    conversation = get_scoped(session, actor, Conversation, message.conversation_id, "Message")
    bot_id = conversation.bot_id
    if message.routed_bot_id:
        routed = session.exec(
            scoped_select(actor, Bot).where(Bot.id == message.routed_bot_id)
        ).first()
        bot_id = routed.id if routed is not None else bot_id
    return message, bot_id


def _question_before(session: Session, actor: Actor, message: Message) -> str:
    """The visitor's message just before this answer ("" when there is none)."""
    before = session.exec(
        select(Message.content)
        .where(
            Message.workspace_id == actor.workspace_id,
            Message.conversation_id == message.conversation_id,
            Message.role == "user",
            col(Message.id) < message.id,
        )
        .order_by(col(Message.id).desc())
        .limit(1)
    ).first()
    return (before or "").strip()[: schemas.MAX_QUESTION]


def _pair_to_update(
    session: Session, actor: Actor, message: Message, bot_id: int, question: str
) -> Source | None:
    """Rule 1 or 2 of the module docstring; None means a new pair."""
    pairs = scoped_select(actor, Source).where(Source.bot_id == bot_id, Source.kind == "qa")
    earlier = session.exec(
        pairs.where(func.coalesce(Source.meta[FROM_MESSAGE].as_integer(), 0) == message.id)
        .order_by(col(Source.id))
        .limit(1)
    ).first()
    if earlier is not None:
        return earlier
    cited = {int(c["source_id"]) for c in message.citations or [] if c.get("source_id")}
    wanted = normalise_text(question)
    for pair in session.exec(pairs.where(col(Source.id).in_(cited))) if cited else []:
        if wanted and normalise_text(str((pair.meta or {}).get("question", ""))) == wanted:
            return pair
    return None
