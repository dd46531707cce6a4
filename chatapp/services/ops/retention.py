"""Retention: conversations whose last message is older than the workspace's `retention_days`
are deleted, with their messages, live events and action runs (their inputs are what visitors
typed into lead forms and API calls, so they are personal data too).

Why delete rather than anonymise: a visitor's free text may name them anywhere in a message, so
no rule can make an old conversation reliably anonymous. What stays: `usagedaily` (aggregates per
bot and day, no personal data, so analytics keeps its history), bots' quota counters, and
contacts (the business's own records of leads; erase one with `contact_data.erase_contact`).

The same sweep drops expired login sessions and login attempts older than 30 days
(`auth.purge_expired`): they only ever served to sign in and to throttle guessing.

`purge` works in batches of `BATCH` conversations, one short transaction each, so a large first
purge never holds a long lock, and a failure loses only the batch being written (which rolls back
whole: no conversation is left without its messages or with orphan events).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from chatapp.core.db import get_engine, session_scope
from chatapp.core.errors import ValidationFailed
from chatapp.services.accounts import audit, auth
from chatapp.services.accounts.tenancy import Actor, Permission, current_workspace
from chatapp.services.models import (
    ActionRun,
    Conversation,
    ConversationEvent,
    Message,
    Workspace,
    utcnow,
)

log = logging.getLogger(__name__)

BATCH = 500
MIN_DAYS, MAX_DAYS = 1, 3650
PURGE_EVERY = timedelta(hours=1)


@dataclass
class PurgeReport:
    conversations: int = 0
    messages: int = 0
    sessions: int = 0
    by_workspace: dict[int, int] = field(default_factory=dict)


def check_days(value: int | str | None) -> int | None:
    """A retention setting as a person types it: empty means keep for ever."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        days = int(str(value).strip())
    except ValueError:
        raise ValidationFailed(
            "Retention is a whole number of days, or empty to keep for ever."
        ) from None
    if not MIN_DAYS <= days <= MAX_DAYS:
        raise ValidationFailed(
            f"Retention is {MIN_DAYS} to {MAX_DAYS} days (ten years), or empty to keep for ever."
        )
    return days


def get_retention(session: Session, actor: Actor) -> int | None:
    actor.require(Permission.READ)
    return current_workspace(session, actor).retention_days


def set_retention(session: Session, actor: Actor, days: int | str | None) -> Workspace:
    """Owners and admins set how long conversations are kept (None: for ever)."""
    actor.require(Permission.MANAGE_SETTINGS)
    workspace = current_workspace(session, actor)
    before, workspace.retention_days = workspace.retention_days, check_days(days)
    if before != workspace.retention_days:
        audit.record(
            session,
            actor,
            "workspace.retention",
            "workspace",
            workspace.id,
            {"retention_days": [before, workspace.retention_days]},
        )
    session.add(workspace)
    session.flush()
    return workspace


def delete_conversations(session: Session, workspace_id: int, ids: list[int]) -> int:
    """Delete these conversations of one workspace with their messages, events and action runs
    (explicitly, not trusting ON DELETE on SQLite). Returns the number of messages deleted."""
    if not ids:
        return 0
    ids = list(
        session.exec(
            select(Conversation.id).where(
                Conversation.workspace_id == workspace_id, col(Conversation.id).in_(ids)
            )
        )
    )
    in_workspace = (Message.workspace_id == workspace_id, col(Message.conversation_id).in_(ids))
    messages = session.exec(delete(Message).where(*in_workspace)).rowcount or 0
    session.execute(
        delete(ConversationEvent).where(
            col(ConversationEvent.workspace_id) == workspace_id,
            col(ConversationEvent.conversation_id).in_(ids),
        )
    )
    session.execute(
        delete(ActionRun).where(
            col(ActionRun.workspace_id) == workspace_id, col(ActionRun.conversation_id).in_(ids)
        )
    )
    session.execute(
        delete(Conversation).where(
            col(Conversation.workspace_id) == workspace_id, col(Conversation.id).in_(ids)
        )
    )
    return messages


def _expired_batch(session: Session, workspace_id: int, cutoff: datetime) -> list[int]:
    return list(
        session.exec(
            select(Conversation.id)
            .where(
                Conversation.workspace_id == workspace_id,
                col(Conversation.last_message_at) < cutoff,
            )
            .order_by(col(Conversation.id))
            .limit(BATCH)
        )
    )


def purge(engine: Engine | None = None, *, now: datetime | None = None) -> PurgeReport:
    """Delete every workspace's conversations older than its retention (batches of BATCH), then
    expired login sessions and old login attempts."""
    engine = engine or get_engine()
    now = now or utcnow()
    report = PurgeReport()
    with session_scope(engine) as session:
        policies = session.exec(
            select(Workspace.id, Workspace.retention_days).where(
                col(Workspace.retention_days).is_not(None)
            )
        ).all()
    for workspace_id, days in policies:
        cutoff = now - timedelta(days=days)
        while True:
            with session_scope(engine) as session:
                ids = _expired_batch(session, workspace_id, cutoff)
                report.messages += delete_conversations(session, workspace_id, ids)
            report.conversations += len(ids)
            if ids:
                report.by_workspace[workspace_id] = report.by_workspace.get(workspace_id, 0) + len(
                    ids
                )
            if len(ids) < BATCH:
                break
    with session_scope(engine) as session:
        report.sessions = auth.purge_expired(session, now=now)
    if report.conversations:
        log.info(
            "retention purge: %s conversations, %s messages deleted",
            report.conversations,
            report.messages,
        )
    return report


class Schedule:
    """Run `purge` at most once per PURGE_EVERY from a loop that ticks often (the worker)."""

    def __init__(self, every: timedelta = PURGE_EVERY):
        self.every = every
        self.last: datetime | None = None

    def tick(self, engine: Engine, now: datetime | None = None) -> PurgeReport | None:
        now = now or utcnow()
        if self.last is not None and now - self.last < self.every:
            return None
        self.last = now
        try:
            return purge(engine, now=now)
        except Exception:  # a failed purge is retried at the next hour, never stops the worker
            log.exception("retention purge failed")
            return None
