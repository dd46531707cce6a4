"""A contact's personal data: everything we hold about one person, as one JSON document (right of
access), and its erasure (right to erasure).

Export: the contact (with its lead-form notes), every conversation linked to it with its
messages, and the action runs of those conversations. Any member who may read the workspace may
download it (the same data the dashboard already shows them).

Erase: owners and admins only. Deletes the contact and its conversations with their messages,
live events and action runs, in the caller's one transaction (all or nothing). Conversations are
deleted, not anonymised: a visitor writes free text, which can name them anywhere, so no rule
can make it reliably anonymous. Per-day usage counters (`usagedaily`) and bots' quota counters
stay: they are aggregates without personal data. On SQLite the deleted rows are zeroed
(secure_delete, core/db.py) and the WAL is emptied once the erasure commits, so no copy of them
stays in the files; ids are never reused (AUTOINCREMENT), so the audit entry keeps its person.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlmodel import Session, col, select

from chatapp import __version__
from chatapp.core.db import checkpoint_sqlite
from chatapp.core.errors import PermissionDenied
from chatapp.services.accounts import audit
from chatapp.services.accounts.tenancy import Actor, Permission, get_scoped, scoped_select
from chatapp.services.contacts.search import within
from chatapp.services.models import Action, ActionRun, Bot, Contact, Conversation, Message, utcnow
from chatapp.services.ops.retention import delete_conversations

ERASE_PERMISSION = Permission.MANAGE_SETTINGS  # owners and admins
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ContactExport:
    filename: str
    content: str  # JSON
    conversations: int
    messages: int


@dataclass(frozen=True)
class Erased:
    contact_id: int
    conversations: int
    messages: int


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None


def _conversation_ids(session: Session, actor: Actor, contact_id: int) -> list[int]:
    return list(
        session.exec(
            select(Conversation.id)
            .where(
                Conversation.contact_id == contact_id,
                within(Conversation.workspace_id, actor.workspace_id),
            )
            .order_by(col(Conversation.started_at), col(Conversation.id))
        )
    )


def _message(message: Message) -> dict[str, Any]:
    return {
        "id": message.id,
        "time": _iso(message.created_at),
        "role": message.role,
        "content": message.content,
        "citations": [
            {"n": c.get("n"), "title": c.get("title", ""), "url": c.get("url", "")}
            for c in message.citations
        ],
        "feedback": message.feedback,
        "actions": message.actions,
    }


def _run(run: ActionRun, action_name: str) -> dict[str, Any]:
    return {
        "id": run.id,
        "conversation_id": run.conversation_id,
        "action": action_name,
        "time": _iso(run.created_at),
        "trigger": run.trigger,
        "input": run.input,
        "outcome": run.outcome,
        "output": run.output,
        "error": run.error,
    }


def export_contact(session: Session, actor: Actor, contact_id: int) -> ContactExport:
    """Everything stored about one contact, as one JSON document."""
    actor.require(Permission.READ)
    contact = get_scoped(session, actor, Contact, contact_id, "Contact")
    ids = _conversation_ids(session, actor, contact.id)
    bots = dict(
        session.exec(select(Bot.id, Bot.name).where(Bot.workspace_id == actor.workspace_id)).all()
    )
    conversations = (
        {
            c.id: c
            for c in session.exec(
                scoped_select(actor, Conversation).where(col(Conversation.id).in_(ids))
            )
        }
        if ids
        else {}
    )
    messages: dict[int, list[Message]] = {i: [] for i in ids}
    runs: list[dict[str, Any]] = []
    if ids:
        for message in session.exec(
            scoped_select(actor, Message)
            .where(col(Message.conversation_id).in_(ids))
            .order_by(col(Message.created_at), col(Message.id))
        ):
            messages[message.conversation_id].append(message)
        for run, action_name in session.exec(
            select(ActionRun, Action.name)
            .join(Action, col(Action.id) == ActionRun.action_id)
            .where(
                ActionRun.workspace_id == actor.workspace_id,
                col(ActionRun.conversation_id).in_(ids),
            )
            .order_by(col(ActionRun.created_at), col(ActionRun.id))
        ):
            runs.append(_run(run, action_name))
    document = {
        "format": "chatapp-contact-export",
        "version": 1,
        "app_version": __version__,
        "exported_at": _iso(utcnow()),
        "contact": {
            "id": contact.id,
            "name": contact.name,
            "email": contact.email,
            "phone": contact.phone,
            "external_id": contact.external_id,
            "notes": contact.notes,
            "first_bot": bots.get(contact.bot_id, "") if contact.bot_id else "",
            "first_seen": _iso(contact.created_at),
            "last_seen": _iso(contact.last_seen_at),
        },
        "conversations": [
            {
                "id": c.id,
                "bot": bots.get(c.bot_id, ""),
                "channel": c.channel,
                "status": c.status,
                "started_at": _iso(c.started_at),
                "last_message_at": _iso(c.last_message_at),
                "messages": [_message(m) for m in messages[c.id]],
            }
            for c in (conversations[i] for i in ids)
        ],
        "action_runs": runs,
    }
    count = sum(len(m) for m in messages.values())
    return ContactExport(
        filename=f"contact-{contact.id}-{utcnow():%Y%m%d}.json",
        content=json.dumps(document, ensure_ascii=False, indent=2, default=str),
        conversations=len(ids),
        messages=count,
    )


def erase_contact(session: Session, actor: Actor, contact_id: int) -> Erased:
    """Delete the contact and its conversations (messages, events, action runs) in the caller's
    transaction: `session_scope` commits all of it or, on any error, none of it."""
    if not actor.can(ERASE_PERMISSION):
        raise PermissionDenied(
            f"Your role ({actor.role.value}) is not allowed to erase a contact's data; "
            "ask an owner or admin."
        )
    contact = get_scoped(session, actor, Contact, contact_id, "Contact")
    ids = _conversation_ids(session, actor, contact.id)
    messages = 0
    for start in range(0, len(ids), 500):  # bounded IN lists
        messages += delete_conversations(session, actor.workspace_id, ids[start : start + 500])
    session.delete(contact)
    # Who erased whom is kept, not what: the counts only, no personal data.
    audit.record(
        session,
        actor,
        "contact.erase",
        "contact",
        contact_id,
        {"conversations": [len(ids), 0], "messages": [messages, 0]},
    )
    session.flush()
    event.listen(session, "after_commit", _leave_no_copy, once=True)
    return Erased(contact_id=contact_id, conversations=len(ids), messages=messages)


def _leave_no_copy(session: Session) -> None:
    """Once the erasure is committed: on SQLite the WAL still holds the rows' earlier pages until
    a checkpoint, so checkpoint now (secure_delete already zeroed them in the new pages)."""
    if not checkpoint_sqlite(session.get_bind()):
        log.warning("erasure committed, but readers kept the WAL from being emptied")
