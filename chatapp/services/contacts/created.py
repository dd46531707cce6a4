"""The contacts a bot met, by the day they were created: pages for APIs that export leads
(Chatbase's get-leads). The same query as the Contacts table (`search.filtered_contacts`),
ordered by creation so that pages stay put while contacts come back, and empty past the last page
(API clients read pages until one comes back empty)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from chatapp.core.errors import ValidationFailed
from chatapp.services.accounts.tenancy import Actor, Permission, get_scoped
from chatapp.services.contacts import search
from chatapp.services.models import Bot, Contact


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def contacts_created(
    session: Session,
    actor: Actor,
    *,
    bot_id: int,
    since: date | None = None,
    until: date | None = None,
    page: int = 1,
    per_page: int = search.DEFAULT_PER_PAGE,
) -> search.ContactPage:
    """Page `page` (from 1) of the bot's contacts created from `since` to `until` (UTC days,
    both included), newest first."""
    actor.require(Permission.READ)
    get_scoped(session, actor, Bot, bot_id, "Bot")
    if since and until and since > until:
        raise ValidationFailed("The start date is after the end date.")
    page, per_page = max(1, page), max(1, min(per_page, search.MAX_PER_PAGE))
    when = []
    if since:
        when.append(col(Contact.created_at) >= _day_start(since))
    if until:
        when.append(col(Contact.created_at) < _day_start(until + timedelta(days=1)))
    statement = (
        search.filtered_contacts(actor, bot_id=bot_id, search="")
        .where(*when)
        .order_by(None)
        .order_by(col(Contact.created_at).desc(), col(Contact.id).desc())
    )
    total = session.exec(
        select(func.count())
        .select_from(Contact)
        .where(Contact.workspace_id == actor.workspace_id, Contact.bot_id == bot_id, *when)
    ).one()
    found = search.rows(session, actor, statement.offset((page - 1) * per_page).limit(per_page))
    return search.ContactPage(rows=found, total=total, page=page, per_page=per_page)
