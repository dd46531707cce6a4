"""Contacts of a workspace: validated add, edit and delete, and linking a widget visitor.

A contact belongs to the workspace (`bot_id` only says which bot first met them). One email and
one external id name at most one contact per workspace: adding or editing refuses a duplicate
(the form says which contact has it), while the widget's `identify` merges into the existing
contact, because a returning visitor is the same person. Listing, search and export live in
`contacts/search.py` and `contacts/export.py`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Any

from sqlmodel import Session, col, select, update

from chatapp.core.errors import PermissionDenied, ValidationFailed
from chatapp.services.accounts import audit
from chatapp.services.accounts.auth import EMAIL_PATTERN
from chatapp.services.accounts.tenancy import Actor, Permission, get_scoped
from chatapp.services.contacts.schemas import (
    MAX_EMAIL,
    MAX_EXTERNAL_ID,
    MAX_NAME,
    MAX_PHONE,
    MAX_PHONE_DIGITS,
    MIN_PHONE_DIGITS,
)
from chatapp.services.contacts.search import within
from chatapp.services.models import Bot, Contact, Conversation, utcnow

PHONE_CHARS = re.compile(r"^\+?[0-9 ().\-/]+$")
CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")

# Agents handle conversations, so they may add and correct the people they talk to; removing a
# person from the workspace's records is for owners and admins (the managers).
EDIT_PERMISSION = Permission.HANDLE_CONVERSATIONS
DELETE_PERMISSION = Permission.MANAGE_BOTS


class ContactInvalid(ValidationFailed):
    """Bad contact fields: `errors` maps a field name to what is wrong with it, for the form."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(" ".join(errors.values()))
        self.errors = errors


@dataclass(frozen=True)
class ContactInput:
    """What a person types into the contact form (or what a visitor's identify says)."""

    name: str = ""
    email: str = ""
    phone: str = ""
    external_id: str = ""


def clean(data: ContactInput) -> ContactInput:
    """Trimmed, normalised values (email lowercased), or ContactInvalid naming every bad field."""
    values = {f.name: str(getattr(data, f.name) or "").strip() for f in fields(ContactInput)}
    values["email"] = values["email"].lower()
    errors = {
        name: problem
        for name, problem in (
            ("name", _name_problem(values["name"])),
            ("email", _email_problem(values["email"])),
            ("phone", _phone_problem(values["phone"])),
            ("external_id", _external_id_problem(values["external_id"])),
        )
        if problem
    }
    if not errors and not any(values.values()):
        errors["name"] = "Give at least a name, an email, a phone number or an ID."
    if errors:
        raise ContactInvalid(errors)
    return ContactInput(**values)


def _name_problem(name: str) -> str:
    if len(name) > MAX_NAME:
        return f"Keep the name under {MAX_NAME + 1} characters."
    if CONTROL_CHARS.search(name):
        return "The name contains characters that cannot be shown."
    return ""


def _email_problem(email: str) -> str:
    if email and (len(email) > MAX_EMAIL or not EMAIL_PATTERN.match(email)):
        return "Enter a valid email address, like name@example.com."
    return ""


def _phone_problem(phone: str) -> str:
    if not phone:
        return ""
    if len(phone) > MAX_PHONE or not PHONE_CHARS.match(phone):
        return "Use digits, spaces and + ( ) - . / only, like +1 555 123 4567."
    digits = sum(ch.isdigit() for ch in phone)
    if not MIN_PHONE_DIGITS <= digits <= MAX_PHONE_DIGITS:
        return f"A phone number has {MIN_PHONE_DIGITS} to {MAX_PHONE_DIGITS} digits."
    return ""


def _external_id_problem(external_id: str) -> str:
    if len(external_id) > MAX_EXTERNAL_ID:
        return f"Keep the ID under {MAX_EXTERNAL_ID + 1} characters."
    if CONTROL_CHARS.search(external_id):
        return "The ID contains characters that cannot be stored."
    return ""


def _require(actor: Actor, permission: Permission, words: str) -> None:
    if not actor.can(permission):
        raise PermissionDenied(f"Your role ({actor.role.value}) is not allowed to {words}.")


def _holder(
    session: Session, workspace_id: int, field: str, value: str, except_id: int | None = None
) -> Contact | None:
    """The contact of this workspace that already has this email or external id."""
    if not value:
        return None
    column = getattr(Contact, field)
    statement = select(Contact).where(Contact.workspace_id == workspace_id, column == value)
    if except_id is not None:
        statement = statement.where(Contact.id != except_id)
    return session.exec(statement.limit(1)).first()


def _refuse_duplicates(session: Session, actor: Actor, data: ContactInput, except_id=None):
    errors = {}
    for field, what in (("email", "email"), ("external_id", "ID")):
        holder = _holder(session, actor.workspace_id, field, getattr(data, field), except_id)
        if holder is not None:
            label = holder.name or holder.email or holder.external_id
            errors[field] = f"Another contact already has this {what}: {label}."
    if errors:
        raise ContactInvalid(errors)


def get_contact(session: Session, actor: Actor, contact_id: int) -> Contact:
    actor.require(Permission.READ)
    return get_scoped(session, actor, Contact, contact_id, "Contact")


def create_contact(
    session: Session, actor: Actor, data: ContactInput, *, bot_id: int | None
) -> Contact:
    """Add a contact by hand; `bot_id` (a bot of this workspace, or None) is its source bot."""
    _require(actor, EDIT_PERMISSION, "add or change contacts")
    data = clean(data)
    if bot_id is not None:
        get_scoped(session, actor, Bot, bot_id, "Bot")
    _refuse_duplicates(session, actor, data)
    now = utcnow()
    contact = Contact(
        workspace_id=actor.workspace_id,
        bot_id=bot_id,
        created_at=now,
        last_seen_at=now,
        **vars(data),
    )
    session.add(contact)
    session.flush()
    return contact


def update_contact(session: Session, actor: Actor, contact_id: int, data: ContactInput) -> Contact:
    """Replace a contact's name, email, phone and external id (first/last seen are kept)."""
    _require(actor, EDIT_PERMISSION, "add or change contacts")
    contact = get_scoped(session, actor, Contact, contact_id, "Contact")
    data = clean(data)
    _refuse_duplicates(session, actor, data, except_id=contact.id)
    for field, value in vars(data).items():
        setattr(contact, field, value)
    session.add(contact)
    session.flush()
    return contact


def delete_contact(session: Session, actor: Actor, contact_id: int) -> None:
    """Delete a contact; its conversations stay, unlinked (not relying on the FK's SET NULL)."""
    _require(actor, DELETE_PERMISSION, "delete contacts")
    contact = get_scoped(session, actor, Contact, contact_id, "Contact")
    audit.record(session, actor, "contact.delete", "contact", contact.id)  # no personal data kept
    session.execute(
        update(Conversation)
        .where(col(Conversation.contact_id) == contact.id)
        .where(within(Conversation.workspace_id, actor.workspace_id))
        .values(contact_id=None)
    )
    session.delete(contact)
    session.flush()


# --------------------------------------------------------------------------- widget visitors


def visitor_input(visitor: dict[str, Any] | None) -> ContactInput:
    """The usable parts of the widget's identify payload: bad or odd values are dropped, never
    allowed to fail a visitor's chat. Keys: name, email, phone, and id (or external_id)."""
    visitor = visitor if isinstance(visitor, dict) else {}

    def text(*keys: str) -> str:
        for key in keys:
            value = visitor.get(key)
            if isinstance(value, str | int) and not isinstance(value, bool):
                return str(value).strip()
        return ""

    raw = {
        "name": text("name")[:MAX_NAME],
        "email": text("email").lower(),
        "phone": text("phone"),
        "external_id": text("id", "external_id", "user_id"),
    }
    checks = {
        "name": _name_problem,
        "email": _email_problem,
        "phone": _phone_problem,
        "external_id": _external_id_problem,
    }
    return ContactInput(**{k: ("" if checks[k](v) else v) for k, v in raw.items()})


def link_visitor(
    session: Session, bot: Bot, conversation: Conversation, visitor: dict[str, Any] | None
) -> Contact | None:
    """Attach the contact the visitor identified as to their conversation (called by the chat).

    Finds the workspace's contact by external id, then by email, then the one the conversation is
    already linked to (when it does not contradict); creates one otherwise. Empty fields of a
    found contact are filled in, known ones are kept (a person may have corrected them by hand).
    Returns None, changing nothing, when the visitor said nothing usable.
    """
    data = visitor_input(visitor)
    if not any(vars(data).values()):
        return None
    workspace_id = bot.workspace_id
    contact = _holder(session, workspace_id, "external_id", data.external_id) or _holder(
        session, workspace_id, "email", data.email
    )
    if contact is None and conversation.contact_id is not None:
        linked = session.get(Contact, conversation.contact_id)
        if linked is not None and linked.workspace_id == workspace_id and _agrees(linked, data):
            contact = linked
    now = utcnow()
    if contact is None:
        contact = Contact(
            workspace_id=workspace_id, bot_id=bot.id, created_at=now, last_seen_at=now, **vars(data)
        )
    else:
        _fill_blanks(session, contact, data)
        contact.last_seen_at = now
    session.add(contact)
    session.flush()
    if conversation.contact_id != contact.id:
        conversation.contact_id = contact.id
        session.add(conversation)
        session.flush()
    return contact


def _agrees(contact: Contact, data: ContactInput) -> bool:
    """False when the visitor now claims another email or id than the linked contact has."""
    return all(
        not getattr(data, field) or getattr(contact, field) in ("", getattr(data, field))
        for field in ("email", "external_id")
    )


def _fill_blanks(session: Session, contact: Contact, data: ContactInput) -> None:
    for field, value in vars(data).items():
        if not value or getattr(contact, field):
            continue
        if field in ("email", "external_id") and _holder(
            session, contact.workspace_id, field, value, except_id=contact.id
        ):
            continue  # another contact has it: never make two contacts share it
        setattr(contact, field, value)
