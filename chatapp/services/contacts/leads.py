"""The widget's lead form: a visitor's details -> a Contact of the bot's workspace.

Fields are checked against the bot's enabled "Collect lead" action (which fields it asks for and
which are required) with the contacts' own rules. The contact is found by email (or created),
blanks filled, the message appended to its notes, and it is linked to the visitor's conversation
when there is one. The optional webhook is told afterwards; its failure is logged in the run log
and never fails the submission.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select

from chatapp.core import ratelimit as rl
from chatapp.core.errors import NotFound, ServiceError
from chatapp.services.accounts import visitor_access
from chatapp.services.actions import http_call, run_log, store
from chatapp.services.actions.common import ActionFailed
from chatapp.services.chat.request import SESSION_ID
from chatapp.services.contacts import contacts
from chatapp.services.contacts.contacts import ContactInput, ContactInvalid
from chatapp.services.contacts.schemas import MAX_LEAD_MESSAGE
from chatapp.services.models import ActionRunOutcome, Bot, Contact, Conversation, utcnow

log = logging.getLogger(__name__)

LEADS_PER_MINUTE = 5
WEBHOOK_TIMEOUT_SECONDS = 5
NO_FORM = "This chatbot does not collect contact details."


class LeadInvalid(ContactInvalid):
    """Bad form fields: `errors` maps each field to what is wrong with it."""


@dataclass(frozen=True)
class LeadResult:
    contact_id: int
    message: str  # the action's success message, for the widget
    conversation_id: int | None


def submit(
    session: Session,
    *,
    bot_id: str,
    api_key: str | None,
    origin: str | None,
    referer: str | None,
    session_id: str | None,
    fields: dict[str, Any],
) -> LeadResult:
    """Check the key and site, validate the fields, store the contact; then the webhook."""
    bot = visitor_access.public_bot(session, bot_id)
    visitor_access.check_key(session, bot, api_key)
    visitor_access.check_origin(bot, origin, referer)
    visitor_access.check_active(bot)
    action = store.lead_form_action(session, workspace_id=bot.workspace_id, bot_id=bot.id)
    if action is None:
        raise NotFound(NO_FORM)
    if session_id is not None and not SESSION_ID.fullmatch(session_id):
        raise LeadInvalid({"session_id": "session_id must be 8 to 64 letters, digits, - or _."})
    data, note = clean(action.config, fields)
    rl.hit(session, [rl.Limit(f"lead:{bot.id}:{session_id or 'none'}", LEADS_PER_MINUTE)])
    conversation = _conversation(session, bot, session_id)
    contact = _save(session, bot, data, note)
    if conversation is not None and conversation.contact_id != contact.id:
        conversation.contact_id = contact.id
        session.add(conversation)
    session.flush()
    _notify(session, action, contact, note, conversation)
    return LeadResult(
        contact.id, action.config.get("success_message", ""), getattr(conversation, "id", None)
    )


def clean(config: dict[str, Any], fields: dict[str, Any]) -> tuple[ContactInput, str]:
    """The form's values checked against the action's fields; LeadInvalid names each problem."""
    asked = {f["name"]: f for f in config.get("fields") or []}
    values = {
        name: str(fields.get(name) or "").strip() if name in asked else ""
        for name in ("name", "email", "phone", "message")
    }
    errors = {
        name: f"Please fill in {field.get('label') or name}."
        for name, field in asked.items()
        if field.get("required") and not values[name]
    }
    if len(values["message"]) > MAX_LEAD_MESSAGE:
        errors["message"] = f"Keep the message under {MAX_LEAD_MESSAGE + 1} characters."
    try:
        data = contacts.clean(ContactInput(values["name"], values["email"], values["phone"]))
    except ContactInvalid as exc:
        for name, problem in exc.errors.items():
            errors.setdefault(name, problem)
        data = ContactInput()
    if not errors and not (data.email or data.phone):
        errors["email" if "email" in asked else "phone"] = "Leave an email or a phone number."
    if errors:
        raise LeadInvalid(errors)
    return data, values["message"]


def _conversation(session: Session, bot: Bot, session_id: str | None) -> Conversation | None:
    if not session_id:
        return None
    return session.exec(
        select(Conversation).where(
            Conversation.bot_id == bot.id,
            Conversation.workspace_id == bot.workspace_id,
            Conversation.session_id == session_id,
        )
    ).first()


def _save(session: Session, bot: Bot, data: ContactInput, note: str) -> Contact:
    """Find the workspace's contact by email (or phone), fill its blanks, or create one."""
    contact = None
    for column, value in ((Contact.email, data.email), (Contact.phone, data.phone)):
        if value and contact is None:
            contact = session.exec(
                select(Contact).where(Contact.workspace_id == bot.workspace_id, column == value)
            ).first()
    now = utcnow()
    if contact is None:
        contact = Contact(
            workspace_id=bot.workspace_id,
            bot_id=bot.id,
            name=data.name,
            email=data.email,
            phone=data.phone,
            created_at=now,
        )
    else:
        for name in ("name", "email", "phone"):
            if getattr(data, name) and not getattr(contact, name):
                setattr(contact, name, getattr(data, name))
    if note:
        contact.notes = f"{contact.notes}\n\n{note}".strip() if contact.notes else note
    contact.last_seen_at = now
    session.add(contact)
    session.flush()
    return contact


def _notify(
    session: Session,
    action: store.Snapshot,
    contact: Contact,
    note: str,
    conversation: Conversation | None,
) -> None:
    """Log the submission; tell the webhook, if set (its failure is logged, never raised)."""
    started = time.perf_counter()
    submitted = {"name": contact.name, "email": contact.email, "phone": contact.phone}
    outcome, output, error = ActionRunOutcome.OK, f"Contact #{contact.id} saved.", ""
    url = action.config.get("webhook_url") or ""
    if url:
        payload = {
            "event": "lead",
            "contact_id": contact.id,
            **submitted,
            "message": note,
            "conversation_id": getattr(conversation, "id", None),
        }
        webhook = {
            "method": "POST",
            "url": url.replace("{", "%7B").replace("}", "%7D"),
            "parameters": {"type": "object"},
            "timeout_seconds": WEBHOOK_TIMEOUT_SECONDS,
            "max_response_bytes": 10_000,
        }
        try:
            http_call.call(webhook, payload)
            output += " Webhook notified."
        except ActionFailed as exc:
            outcome, error = exc.outcome, f"Webhook: {exc.message}"
        except ServiceError as exc:
            outcome, error = ActionRunOutcome.ERROR, f"Webhook: {exc.message}"
        except Exception:
            log.exception("lead webhook failed")
            outcome, error = ActionRunOutcome.ERROR, "Webhook: unexpected error."
    run_log.record(
        session,
        workspace_id=action.workspace_id,
        bot_id=action.bot_id,
        action_id=action.id,
        trigger="visitor",
        input={**submitted, "message": note[:500]},
        outcome=outcome,
        output=output,
        error=error,
        duration_ms=round((time.perf_counter() - started) * 1000),
        conversation_id=getattr(conversation, "id", None),
    )
