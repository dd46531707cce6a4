"""Reading contacts: one page of a filtered, searched list, and the conversations of one contact.

Kept apart from `contacts.py` (which changes contacts) because the table, its paging and the CSV
export all read through the same `filtered_contacts` query, so they can never disagree about
which contacts a filter means.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import Select

from chatapp.core.errors import NotFound
from chatapp.services.accounts.tenancy import Actor, Permission, get_scoped
from chatapp.services.models import Bot, Contact, Conversation, Message

DEFAULT_PER_PAGE = 25
MAX_PER_PAGE = 200
MAX_SEARCH = 100
MAX_LINKED = 100
PREVIEW_CHARS = 140
PHONE_PUNCTUATION = (" ", "-", "(", ")", ".", "/", "+")
COUNT_BATCH = 500  # contact ids per IN (...) when counting conversations


@dataclass(frozen=True)
class ContactRow:
    """A contact as the table and the export show it."""

    id: int
    name: str
    email: str
    phone: str
    external_id: str
    bot_id: int | None
    bot_name: str
    first_seen: datetime
    last_seen: datetime
    conversations: int


@dataclass(frozen=True)
class ContactPage:
    rows: list[ContactRow]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


@dataclass(frozen=True)
class LinkedConversation:
    """A conversation of a contact: when, where, how long, and what the visitor asked first."""

    id: int
    bot_name: str
    channel: str
    status: str
    started_at: datetime
    last_message_at: datetime
    message_count: int
    preview: str


def _digits_only(column):
    for mark in PHONE_PUNCTUATION:
        column = func.replace(column, mark, "")
    return column


def _search_condition(search: str):
    term = (search or "").strip().lower()[:MAX_SEARCH]
    if not term:
        return None
    conditions = [
        func.lower(Contact.name).contains(term, autoescape=True),
        func.lower(Contact.email).contains(term, autoescape=True),
        func.lower(Contact.external_id).contains(term, autoescape=True),
        col(Contact.phone).contains(term, autoescape=True),
    ]
    digits = re.sub(r"\D", "", term)
    if len(digits) >= 3 and re.fullmatch(r"[0-9 ().\-/+]+", term):
        # "555 123" finds "+1 (555) 123-4567": phones compare digit by digit.
        conditions.append(_digits_only(Contact.phone).contains(digits, autoescape=True))
    return or_(*conditions)


def within(column, workspace_id: int):
    """`column = workspace_id`, written so that SQLite (which keeps no statistics) does not pick
    the broad workspace index over a selective one such as `contact_id`: the filter stays, only
    the index choice changes (a contact's conversations: 1 ms instead of a workspace scan)."""
    return (column + 0) == workspace_id


def _conditions(actor: Actor, bot_id: int | None, search: str) -> list:
    conditions = [Contact.workspace_id == actor.workspace_id]
    if bot_id is not None:
        conditions.append(Contact.bot_id == bot_id)
    matches = _search_condition(search)
    if matches is not None:
        conditions.append(matches)
    return conditions


def filtered_contacts(actor: Actor, *, bot_id: int | None, search: str) -> Select:
    """(Contact, bot name) rows of the actor's workspace, last seen first.

    `bot_id` None means every bot's contacts; otherwise the contacts that bot first met.
    """
    return (
        select(Contact, Bot.name)
        .outerjoin(Bot, col(Bot.id) == Contact.bot_id)
        .where(*_conditions(actor, bot_id, search))
        .order_by(col(Contact.last_seen_at).desc(), col(Contact.id).desc())
    )


def count_matching(session: Session, actor: Actor, *, bot_id: int | None, search: str) -> int:
    return session.exec(
        select(func.count()).select_from(Contact).where(*_conditions(actor, bot_id, search))
    ).one()


def _conversation_counts(session: Session, actor: Actor, contact_ids: list[int]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for start in range(0, len(contact_ids), COUNT_BATCH):
        batch = contact_ids[start : start + COUNT_BATCH]
        counts.update(
            session.exec(
                select(Conversation.contact_id, func.count())
                .where(col(Conversation.contact_id).in_(batch))
                .where(within(Conversation.workspace_id, actor.workspace_id))
                .group_by(col(Conversation.contact_id))
            ).all()
        )
    return counts


def _row(contact: Contact, bot_name: str | None, conversations: int) -> ContactRow:
    return ContactRow(
        id=contact.id,
        name=contact.name,
        email=contact.email,
        phone=contact.phone,
        external_id=contact.external_id,
        bot_id=contact.bot_id,
        bot_name=bot_name or "",
        first_seen=contact.created_at,
        last_seen=contact.last_seen_at,
        conversations=conversations,
    )


def rows(session: Session, actor: Actor, statement: Select) -> list[ContactRow]:
    """The rows of a `filtered_contacts` statement, each with its number of conversations."""
    found = session.exec(statement).all()
    counts = _conversation_counts(session, actor, [contact.id for contact, _ in found])
    return [_row(contact, bot_name, counts.get(contact.id, 0)) for contact, bot_name in found]


def list_contacts(
    session: Session,
    actor: Actor,
    *,
    bot_id: int | None = None,
    search: str = "",
    page: int = 1,
    per_page: int = DEFAULT_PER_PAGE,
) -> ContactPage:
    """One page (1-based; past the end means the last page) of the matching contacts."""
    actor.require(Permission.READ)
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    total = count_matching(session, actor, bot_id=bot_id, search=search)
    pages = max(1, -(-total // per_page))
    page = max(1, min(page, pages))
    statement = filtered_contacts(actor, bot_id=bot_id, search=search)
    found = rows(session, actor, statement.offset((page - 1) * per_page).limit(per_page))
    return ContactPage(rows=found, total=total, page=page, per_page=per_page)


def linked_conversations(
    session: Session, actor: Actor, contact_id: int, *, limit: int = MAX_LINKED
) -> list[LinkedConversation]:
    """The contact's conversations, most recent first, each with its first visitor message."""
    actor.require(Permission.READ)
    get_scoped(session, actor, Contact, contact_id, "Contact")
    own = (
        select(Conversation.id)
        .where(Conversation.contact_id == contact_id)
        .where(within(Conversation.workspace_id, actor.workspace_id))
    )
    first_question = (
        select(Message.conversation_id, func.min(Message.id).label("message_id"))
        .where(Message.role == "user", col(Message.conversation_id).in_(own))
        .group_by(col(Message.conversation_id))
        .subquery()
    )
    statement = (
        select(Conversation, Bot.name, Message.content)
        .join(Bot, col(Bot.id) == Conversation.bot_id)
        .outerjoin(first_question, first_question.c.conversation_id == Conversation.id)
        .outerjoin(Message, col(Message.id) == first_question.c.message_id)
        .where(col(Conversation.id).in_(own))
        .order_by(col(Conversation.last_message_at).desc(), col(Conversation.id).desc())
        .limit(max(1, min(limit, MAX_LINKED)))
    )
    return [
        LinkedConversation(
            id=conversation.id,
            bot_name=bot_name,
            channel=conversation.channel,
            status=conversation.status,
            started_at=conversation.started_at,
            last_message_at=conversation.last_message_at,
            message_count=conversation.message_count,
            preview=_preview(content or ""),
        )
        for conversation, bot_name, content in session.exec(statement)
    ]


def _preview(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1].rstrip() + "\u2026"


def contact_row(session: Session, actor: Actor, contact_id: int) -> ContactRow:
    """One contact as a table row (for its detail view)."""
    actor.require(Permission.READ)
    statement = filtered_contacts(actor, bot_id=None, search="").where(Contact.id == contact_id)
    found = rows(session, actor, statement)
    if not found:
        raise NotFound("Contact not found.")
    return found[0]
