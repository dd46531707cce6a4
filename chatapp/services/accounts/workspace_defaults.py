"""Defaults a workspace gives its new bots (the monthly message limit), set from Settings.

Kept apart from `workspaces.py` (members and names): these are the knobs a manager turns for the
bots to come; existing bots keep their own limits.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from chatapp.core.config import get_settings
from chatapp.core.errors import ValidationFailed
from chatapp.services.accounts import audit
from chatapp.services.accounts.tenancy import Actor, Permission, current_workspace

MAX_MESSAGE_LIMIT = 10_000_000


@dataclass(frozen=True)
class BotDefaults:
    message_limit: int | None  # None: the installation's default applies
    installation_limit: int

    @property
    def effective_limit(self) -> int:
        return self.installation_limit if self.message_limit is None else self.message_limit


def get_bot_defaults(session: Session, actor: Actor) -> BotDefaults:
    actor.require(Permission.READ)
    workspace = current_workspace(session, actor)
    return BotDefaults(workspace.default_message_limit, get_settings().default_message_limit)


def set_default_message_limit(session: Session, actor: Actor, limit: int | None) -> BotDefaults:
    """The monthly message limit new bots start with (None: the installation's default)."""
    actor.require(Permission.MANAGE_SETTINGS)
    if limit is not None and not 0 <= limit <= MAX_MESSAGE_LIMIT:
        raise ValidationFailed(f"Use a number from 0 to {MAX_MESSAGE_LIMIT:,}.")
    workspace = current_workspace(session, actor)
    audit.record(
        session,
        actor,
        "workspace.limits",
        "workspace",
        workspace.id,
        audit.changes_of(workspace, {"default_message_limit": limit}),
    )
    workspace.default_message_limit = limit
    session.add(workspace)
    session.flush()
    return get_bot_defaults(session, actor)
