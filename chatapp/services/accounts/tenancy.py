"""Who is acting, in which workspace, allowed to do what; and queries that cannot leave it.

Every service that touches tenant data takes an `Actor`, obtained only from a membership row
(`actor_for`), and reads through `scoped_select` / `get_scoped`, which always add
`workspace_id == actor.workspace_id`. A row of another workspace is simply "not found".
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from sqlmodel import Session, SQLModel, col, select
from sqlmodel.sql.expression import SelectOfScalar

from chatapp.core.errors import NotFound, PermissionDenied
from chatapp.services.models import Membership, Role, User, Workspace

T = TypeVar("T", bound=SQLModel)


class Permission(StrEnum):
    READ = "read"
    HANDLE_CONVERSATIONS = "handle_conversations"
    MANAGE_BOTS = "manage_bots"
    MANAGE_MEMBERS = "manage_members"
    MANAGE_SETTINGS = "manage_settings"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.OWNER: frozenset(Permission),
    Role.ADMIN: frozenset(Permission),
    Role.AGENT: frozenset({Permission.READ, Permission.HANDLE_CONVERSATIONS}),
    Role.VIEWER: frozenset({Permission.READ}),
}

# Higher ranks may manage lower ones; only an owner may grant or remove the owner role.
ROLE_RANK = {Role.VIEWER: 0, Role.AGENT: 1, Role.ADMIN: 2, Role.OWNER: 3}

ACTION_WORDS = {
    Permission.READ: "view this workspace",
    Permission.HANDLE_CONVERSATIONS: "handle conversations",
    Permission.MANAGE_BOTS: "create, change or delete bots",
    Permission.MANAGE_MEMBERS: "manage members",
    Permission.MANAGE_SETTINGS: "change workspace settings",
}


@dataclass(frozen=True)
class Actor:
    """A user acting inside one workspace with one role."""

    user_id: int
    workspace_id: int
    role: Role
    email: str = ""
    via: str = ""  # the API token's name when a script acts; for the audit log
    ip: str = ""  # where the request came from, when known; for the audit log

    def can(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self.role]

    def require(self, permission: Permission) -> None:
        if not self.can(permission):
            raise PermissionDenied(
                f"Your role ({self.role.value}) is not allowed to {ACTION_WORDS[permission]}."
            )


def actor_for(session: Session, *, user_id: int, workspace_id: int) -> Actor:
    """The actor for a user in a workspace; refused unless the user is a member there."""
    row = session.exec(
        select(Membership, User)
        .join(User, col(User.id) == Membership.user_id)
        .where(Membership.user_id == user_id, Membership.workspace_id == workspace_id)
    ).first()
    if row is None or not row[1].is_active:
        raise NotFound("Workspace not found.")
    membership, user = row
    return Actor(
        user_id=user_id, workspace_id=workspace_id, role=Role(membership.role), email=user.email
    )


def require_current(session: Session, actor: Actor, permission: Permission) -> Actor:
    """Refuse unless the actor's role allows `permission` *now*: the membership is read again.

    For writes and runs whose actor may have been made a while ago (a page loaded before the
    member was demoted or removed, a long request). Both the role the actor carries (an API token
    may act below its member's role) and the current one must allow it."""
    actor.require(permission)
    current = actor_for(session, user_id=actor.user_id, workspace_id=actor.workspace_id)
    current.require(permission)
    return current


def scoped_select(actor: Actor, model: type[T]) -> SelectOfScalar[T]:
    """`SELECT model WHERE workspace_id = the actor's workspace`: the only way services list."""
    return select(model).where(model.workspace_id == actor.workspace_id)


def get_scoped(session: Session, actor: Actor, model: type[T], row_id: int, what: str) -> T:
    """One row of the actor's workspace by id; NotFound for any other workspace's row."""
    row = session.exec(scoped_select(actor, model).where(model.id == row_id)).first()
    if row is None:
        raise NotFound(f"{what} not found.")
    return row


def current_workspace(session: Session, actor: Actor) -> Workspace:
    workspace = session.get(Workspace, actor.workspace_id)
    if workspace is None:
        raise NotFound("Workspace not found.")
    return workspace
