"""Workspaces and their members: create, list a user's workspaces, add, re-role and remove members.

Rules: owners and admins manage members; nobody grants a role above their own; only an owner grants
or removes the owner role; a workspace always keeps at least one owner.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from chatapp.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from chatapp.services.accounts import audit, auth
from chatapp.services.accounts.tenancy import (
    ROLE_RANK,
    Actor,
    Permission,
    current_workspace,
    scoped_select,
)
from chatapp.services.models import Membership, Role, User, Workspace


@dataclass(frozen=True)
class WorkspaceView:
    id: int
    name: str
    slug: str
    role: str


@dataclass(frozen=True)
class MemberView:
    user_id: int
    email: str
    name: str
    role: str
    joined_at: datetime


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("Give the workspace a name.")
    if len(name) > 120:
        raise ValidationFailed("Use at most 120 characters for the workspace name.")
    return name


def _unique_slug(session: Session, name: str) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60] or "workspace"
    slug = base
    while session.exec(select(Workspace.id).where(Workspace.slug == slug)).first() is not None:
        slug = f"{base}-{secrets.token_hex(3)}"
    return slug


def parse_role(value: str) -> Role:
    try:
        return Role((value or "").strip().lower())
    except ValueError as exc:
        names = ", ".join(role.value for role in Role)
        raise ValidationFailed(f"Role must be one of: {names}.") from exc


def create_workspace(session: Session, *, user_id: int, name: str) -> Workspace:
    """A new workspace whose creator is its owner."""
    if session.get(User, user_id) is None:
        raise NotFound("User not found.")
    name = _clean_name(name)
    workspace = Workspace(name=name, slug=_unique_slug(session, name))
    session.add(workspace)
    session.flush()
    session.add(Membership(workspace_id=workspace.id, user_id=user_id, role=Role.OWNER))
    session.flush()
    return workspace


def setup_first_admin(
    session: Session, *, email: str, password: str, name: str = "", workspace_name: str
) -> tuple[User, Workspace]:
    """First run only: the first user and their workspace. Refused once anyone exists."""
    if auth.has_any_user(session):
        raise Conflict("Setup is already done. Log in instead.")
    workspace_name = _clean_name(workspace_name)
    user = auth.create_user(session, email=email, password=password, name=name)
    return user, create_workspace(session, user_id=user.id, name=workspace_name)


def list_user_workspaces(session: Session, *, user_id: int) -> list[WorkspaceView]:
    rows = session.exec(
        select(Workspace, Membership.role)
        .join(Membership, col(Membership.workspace_id) == Workspace.id)
        .where(Membership.user_id == user_id)
        .order_by(Workspace.name, col(Workspace.id))
    ).all()
    return [WorkspaceView(w.id, w.name, w.slug, role) for w, role in rows]


def rename_workspace(session: Session, actor: Actor, *, name: str) -> Workspace:
    actor.require(Permission.MANAGE_SETTINGS)
    workspace = current_workspace(session, actor)
    audit.record(
        session,
        actor,
        "workspace.rename",
        "workspace",
        workspace.id,
        audit.changes_of(workspace, {"name": _clean_name(name)}),
    )
    workspace.name = _clean_name(name)
    session.add(workspace)
    session.flush()
    return workspace


def list_members(session: Session, actor: Actor) -> list[MemberView]:
    actor.require(Permission.READ)
    rows = session.exec(
        select(Membership, User)
        .join(User, col(User.id) == Membership.user_id)
        .where(Membership.workspace_id == actor.workspace_id)
        .order_by(col(Membership.created_at), col(Membership.id))
    ).all()
    return [MemberView(u.id, u.email, u.name, m.role, m.created_at) for m, u in rows]


def _check_may_grant(actor: Actor, role: Role) -> None:
    actor.require(Permission.MANAGE_MEMBERS)
    if ROLE_RANK[role] > ROLE_RANK[actor.role]:
        raise PermissionDenied(f"Only an owner can give the {role.value} role.")


def _membership(session: Session, actor: Actor, user_id: int) -> Membership:
    membership = session.exec(
        scoped_select(actor, Membership).where(Membership.user_id == user_id)
    ).first()
    if membership is None:
        raise NotFound("Member not found.")
    return membership


def _email(session: Session, user_id: int) -> str:
    user = session.get(User, user_id)
    return user.email if user else str(user_id)


def _owner_count(session: Session, workspace_id: int) -> int:
    return session.exec(
        select(func.count())
        .select_from(Membership)
        .where(Membership.workspace_id == workspace_id, Membership.role == Role.OWNER)
    ).one()


def add_member(
    session: Session,
    actor: Actor,
    *,
    email: str,
    role: str,
    password: str | None = None,
    name: str = "",
) -> MemberView:
    """Add a user by email; a new user needs an initial password (no email is sent offline)."""
    new_role = parse_role(role)
    _check_may_grant(actor, new_role)
    user = auth.get_user_by_email(session, email)
    if user is None:
        if not password:
            raise ValidationFailed("This person has no account yet: set an initial password.")
        user = auth.create_user(session, email=email, password=password, name=name)
    existing = session.exec(
        scoped_select(actor, Membership).where(Membership.user_id == user.id)
    ).first()
    if existing is not None:
        raise Conflict(f"{user.email} is already a member of this workspace.")
    membership = Membership(workspace_id=actor.workspace_id, user_id=user.id, role=new_role)
    session.add(membership)
    session.flush()
    audit.record(session, actor, "member.add", "user", user.email, {"role": [None, new_role.value]})
    return MemberView(user.id, user.email, user.name, membership.role, membership.created_at)


def change_member_role(session: Session, actor: Actor, *, user_id: int, role: str) -> None:
    new_role = parse_role(role)
    _check_may_grant(actor, new_role)
    membership = _membership(session, actor, user_id)
    old_role = Role(membership.role)
    if ROLE_RANK[old_role] > ROLE_RANK[actor.role]:
        raise PermissionDenied("Only an owner can change an owner's role.")
    demoting_owner = old_role == Role.OWNER and new_role != Role.OWNER
    if demoting_owner and _owner_count(session, actor.workspace_id) <= 1:
        raise Conflict("A workspace needs at least one owner.")
    audit.record(
        session,
        actor,
        "member.role",
        "user",
        _email(session, user_id),
        audit.changes_of(membership, {"role": new_role}),
    )
    membership.role = new_role
    session.add(membership)
    session.flush()


def remove_member(session: Session, actor: Actor, *, user_id: int) -> None:
    actor.require(Permission.MANAGE_MEMBERS)
    membership = _membership(session, actor, user_id)
    role = Role(membership.role)
    if ROLE_RANK[role] > ROLE_RANK[actor.role]:
        raise PermissionDenied("Only an owner can remove an owner.")
    if role == Role.OWNER and _owner_count(session, actor.workspace_id) <= 1:
        raise Conflict("A workspace needs at least one owner.")
    audit.record(
        session,
        actor,
        "member.remove",
        "user",
        _email(session, user_id),
        {"role": [role.value, None]},
    )
    session.delete(membership)
    session.flush()
