"""A bot's actions: list, start from a template, create, edit, enable/disable, delete.

Owners and admins change actions (the same permission as changing the bot, `MANAGE_BOTS`); every
member may look at them. A bot has at most one lead form and one handoff action: the widget shows
one form and one "Talk to a person" button.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, delete, select

from chatapp.core.errors import Conflict, NotFound
from chatapp.services.accounts import audit
from chatapp.services.accounts.tenancy import (
    Actor,
    Permission,
    get_scoped,
    require_current,
    scoped_select,
)
from chatapp.services.actions import templates
from chatapp.services.actions.common import ActionInvalid
from chatapp.services.actions.schemas import MAX_ACTION_NAME
from chatapp.services.models import Action, ActionRun, Bot, utcnow

SINGLE_KINDS = ("collect_lead", "handoff")


@dataclass(frozen=True)
class ActionView:
    """An action as people and the API see it (secret header values removed)."""

    id: int
    bot_id: int
    kind: str
    name: str
    enabled: bool
    config: dict[str, Any]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Snapshot:
    """What a run needs of an action, detached from any database session."""

    id: int
    workspace_id: int
    bot_id: int
    kind: str
    name: str
    config: dict[str, Any]


def view(action: Action) -> ActionView:
    return ActionView(
        id=action.id,
        bot_id=action.bot_id,
        kind=action.kind,
        name=action.name,
        enabled=action.enabled,
        config=templates.public_config(action.kind, action.config or {}),
        created_at=action.created_at,
        updated_at=action.updated_at,
    )


def snapshot(action: Action) -> Snapshot:
    return Snapshot(
        action.id, action.workspace_id, action.bot_id, action.kind, action.name, action.config
    )


def _name(name: str | None, kind: str) -> str:
    value = (name or "").strip() or templates.KIND_LABELS[kind]
    if len(value) > MAX_ACTION_NAME:
        raise ActionInvalid({"name": f"Keep the name under {MAX_ACTION_NAME + 1} characters."})
    return value


def list_actions(session: Session, actor: Actor, bot_id: int) -> list[Action]:
    actor.require(Permission.READ)
    get_scoped(session, actor, Bot, bot_id, "Bot")
    statement = scoped_select(actor, Action).where(Action.bot_id == bot_id).order_by(col(Action.id))
    return list(session.exec(statement))


def get_action(session: Session, actor: Actor, action_id: int, bot_id: int | None = None) -> Action:
    actor.require(Permission.READ)
    action = get_scoped(session, actor, Action, action_id, "Action")
    if bot_id is not None and action.bot_id != bot_id:
        raise NotFound("Action not found.")
    return action


def _refuse_second(session: Session, bot_id: int, kind: str, except_id: int | None = None):
    if kind not in SINGLE_KINDS:
        return
    statement = select(Action.id).where(Action.bot_id == bot_id, Action.kind == kind)
    if except_id is not None:
        statement = statement.where(Action.id != except_id)
    if session.exec(statement).first() is not None:
        raise Conflict(f"This bot already has a '{templates.KIND_LABELS[kind]}' action: edit it.")


def from_template(session: Session, actor: Actor, bot_id: int, kind: str) -> ActionView:
    """What the editor starts from when an owner picks a template: the kind's defaults, saved
    nowhere (id 0) until `create_action`. Refuses at once what `create_action` would refuse at
    Save for any values: the member's role, an unknown kind, a second lead form or handoff."""
    actor.require(Permission.MANAGE_BOTS)
    bot = get_scoped(session, actor, Bot, bot_id, "Bot")
    templates.check_kind(kind)
    _refuse_second(session, bot.id, kind)
    now = utcnow()
    return ActionView(
        id=0,
        bot_id=bot.id,
        kind=kind,
        name=templates.KIND_LABELS[kind],
        enabled=False,
        config=templates.public_config(kind, templates.defaults(kind)),
        created_at=now,
        updated_at=now,
    )


def create_action(
    session: Session,
    actor: Actor,
    bot_id: int,
    *,
    kind: str,
    name: str | None = None,
    config: dict[str, Any] | None = None,
    enabled: bool = True,
) -> Action:
    """A new action from the kind's template, with `config` over the template's values."""
    require_current(session, actor, Permission.MANAGE_BOTS)  # the role now, not at page load
    bot = get_scoped(session, actor, Bot, bot_id, "Bot")
    templates.check_kind(kind)
    cleaned = templates.clean(kind, config)
    _refuse_second(session, bot.id, kind)
    action = Action(
        workspace_id=actor.workspace_id,
        bot_id=bot.id,
        kind=kind,
        name=_name(name, kind),
        enabled=bool(enabled),
        config=cleaned,
    )
    session.add(action)
    session.flush()
    audit.record(
        session,
        actor,
        "action.create",
        "action",
        action.id,
        audit.created(
            {"kind": kind, "name": action.name, "enabled": action.enabled, "config": cleaned}
        ),
    )
    return action


def update_action(
    session: Session,
    actor: Actor,
    action_id: int,
    *,
    name: str | None = None,
    config: dict[str, Any] | None = None,
    enabled: bool | None = None,
) -> Action:
    """Change what is given; `config` replaces the whole config (secrets left empty are kept)."""
    require_current(session, actor, Permission.MANAGE_BOTS)  # the role now, not at page load
    action = get_scoped(session, actor, Action, action_id, "Action")
    values: dict[str, Any] = {}
    if name is not None:
        values["name"] = _name(name, action.kind)
    if config is not None:
        values["config"] = templates.clean(action.kind, config, previous=action.config)
    if enabled is not None:
        values["enabled"] = bool(enabled)
    audit.record(
        session, actor, "action.update", "action", action.id, audit.changes_of(action, values)
    )
    for field, value in values.items():
        setattr(action, field, value)
    action.updated_at = utcnow()
    session.add(action)
    session.flush()
    return action


def delete_action(session: Session, actor: Actor, action_id: int) -> None:
    """Delete an action and its run log."""
    require_current(session, actor, Permission.MANAGE_BOTS)  # the role now, not at page load
    action = get_scoped(session, actor, Action, action_id, "Action")
    audit.record(
        session, actor, "action.delete", "action", action.id, {"name": [action.name, None]}
    )
    session.execute(delete(ActionRun).where(col(ActionRun.action_id) == action.id))
    session.delete(action)
    session.flush()


def enabled_actions(session: Session, *, workspace_id: int, bot_id: int) -> list[Snapshot]:
    """The bot's enabled actions, for the chat pipeline and the widget (no member involved)."""
    statement = (
        select(Action)
        .where(Action.workspace_id == workspace_id, Action.bot_id == bot_id, Action.enabled)
        .order_by(col(Action.id))
    )
    return [snapshot(a) for a in session.exec(statement)]


def lead_form_action(session: Session, *, workspace_id: int, bot_id: int) -> Snapshot | None:
    for action in enabled_actions(session, workspace_id=workspace_id, bot_id=bot_id):
        if action.kind == "collect_lead":
            return action
    return None
