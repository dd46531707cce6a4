"""Invitation links, the managers' side: create one for a role, list the pending ones, revoke.

Instead of choosing a password for someone, an owner or admin makes a link (role chosen, email
optional) and passes it on; the invited person sets their own password (`invitation_accept.py`).
Only the SHA-256 of the link's token is stored, so the link is shown once (and mailed, when SMTP
is configured and an email was given). The rules of adding a member apply: nobody invites above
their own role, so only an owner invites an owner.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlmodel import Session, col

from chatapp.core import security
from chatapp.core.config import get_settings
from chatapp.core.errors import Conflict, PermissionDenied
from chatapp.services.accounts import audit, auth, mailer
from chatapp.services.accounts.tenancy import (
    ROLE_RANK,
    Actor,
    Permission,
    current_workspace,
    get_scoped,
    scoped_select,
)
from chatapp.services.accounts.workspaces import parse_role
from chatapp.services.models import Invitation, Membership, Role, User, utcnow

TOKEN_PREFIX = "inv_"
INVITE_PATH = "/invite/"
ANYONE = "(anyone with the link)"  # what the audit log says of an invitation without an email


@dataclass(frozen=True)
class InvitationView:
    id: int
    role: str
    email: str
    invited_by: str
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class NewInvitation:
    """A just-made invitation with its link: the only time the link exists outside the owner's
    clipboard."""

    view: InvitationView
    url: str
    workspace_name: str


@dataclass(frozen=True)
class Delivery:
    """What happened to the email of a new invitation; the invitation exists either way."""

    status: Literal["sent", "failed", "not_configured", "no_email"]
    error: str = ""


def invitation_url(base_url: str, token: str) -> str:
    """The link to hand out: `base_url` (the dashboard's address) + /invite/<token>."""
    base = (base_url or "").strip().rstrip("/")
    if not base.startswith(("http://", "https://")):
        base = get_settings().public_url.rstrip("/")
    return f"{base}{INVITE_PATH}{token}"


def _check_may_invite(actor: Actor, role: Role) -> None:
    actor.require(Permission.MANAGE_MEMBERS)
    if ROLE_RANK[role] > ROLE_RANK[actor.role]:
        raise PermissionDenied(f"Only an owner can invite someone as {role.value}.")


def _inviter(session: Session, user_id: int | None) -> str:
    user = session.get(User, user_id) if user_id else None
    return user.email if user else ""


def _view(session: Session, invitation: Invitation) -> InvitationView:
    return InvitationView(
        invitation.id,
        invitation.role,
        invitation.email,
        _inviter(session, invitation.created_by),
        invitation.created_at,
        invitation.expires_at,
    )


def _refuse_members(session: Session, actor: Actor, email: str) -> None:
    member = session.exec(
        scoped_select(actor, Membership)
        .join(User, col(User.id) == Membership.user_id)
        .where(User.email == email)
    ).first()
    if member is not None:
        raise Conflict(f"{email} is already a member of this workspace.")


def create_invitation(
    session: Session, actor: Actor, *, role: str, email: str = "", base_url: str = ""
) -> NewInvitation:
    """A pending invitation for `role` (and `email`, when given) that expires after
    INVITE_TTL_HOURS; returns it with its link, which is never readable again."""
    new_role = parse_role(role)
    _check_may_invite(actor, new_role)
    email = auth.normalize_email(email) if (email or "").strip() else ""
    if email:
        _refuse_members(session, actor, email)
    token = security.new_token(TOKEN_PREFIX)
    now = utcnow()
    invitation = Invitation(
        workspace_id=actor.workspace_id,
        role=new_role.value,
        email=email,
        token_hash=security.hash_token(token),
        created_by=actor.user_id,
        created_at=now,
        expires_at=now + timedelta(hours=get_settings().invite_ttl_hours),
    )
    session.add(invitation)
    session.flush()
    audit.record(
        session,
        actor,
        "invitation.create",
        "invitation",
        invitation.id,
        {"role": [None, new_role.value], "email": [None, email or ANYONE]},
    )
    workspace = current_workspace(session, actor)
    url = invitation_url(base_url, token)
    return NewInvitation(_view(session, invitation), url, workspace.name)


def pending_where(now: datetime) -> tuple:
    """The conditions of an invitation that can still be accepted."""
    return (
        col(Invitation.accepted_at).is_(None),
        col(Invitation.revoked_at).is_(None),
        col(Invitation.expires_at) > now,
    )


def list_invitations(session: Session, actor: Actor) -> list[InvitationView]:
    """The workspace's pending invitations, newest first (never their links)."""
    actor.require(Permission.MANAGE_MEMBERS)
    rows = session.exec(
        scoped_select(actor, Invitation)
        .where(*pending_where(utcnow()))
        .order_by(col(Invitation.created_at).desc(), col(Invitation.id).desc())
    ).all()
    return [_view(session, row) for row in rows]


def revoke_invitation(session: Session, actor: Actor, invitation_id: int) -> None:
    """Withdraw a pending invitation: its link stops working at once. Revoking twice is fine."""
    actor.require(Permission.MANAGE_MEMBERS)
    invitation = get_scoped(session, actor, Invitation, invitation_id, "Invitation")
    if ROLE_RANK[Role(invitation.role)] > ROLE_RANK[actor.role]:
        raise PermissionDenied("Only an owner can withdraw an invitation for an owner.")
    if invitation.accepted_at is not None:
        raise Conflict("This invitation was already accepted: remove the member instead.")
    if invitation.revoked_at is not None:
        return
    invitation.revoked_at = utcnow()
    session.add(invitation)
    session.flush()
    audit.record(
        session,
        actor,
        "invitation.revoke",
        "invitation",
        invitation.id,
        {"role": [invitation.role, None], "email": [invitation.email or ANYONE, None]},
    )


def _mail_text(new: NewInvitation) -> tuple[str, str]:
    view = new.view
    subject = f"You are invited to {new.workspace_name} on Chatapp"
    body = (
        f"{view.invited_by or 'A manager'} invited you to join the workspace "
        f'"{new.workspace_name}" on Chatapp as {view.role}.\n\n'
        f"Open this link to set your password and join:\n{new.url}\n\n"
        f"The link works once, until {view.expires_at:%Y-%m-%d %H:%M} UTC. If you did not "
        "expect it, you can ignore this email.\n"
    )
    return subject, body


def send_invitation(new: NewInvitation) -> Delivery:
    """Mail the link to the invitation's email when SMTP is configured. Blocking (network):
    call it off the event loop, after the invitation is committed."""
    if not new.view.email:
        return Delivery("no_email")
    if not mailer.is_configured():
        return Delivery("not_configured")
    subject, body = _mail_text(new)
    try:
        mailer.send(new.view.email, subject, body)
    except mailer.MailFailed as error:
        return Delivery("failed", error.message)
    return Delivery("sent")
