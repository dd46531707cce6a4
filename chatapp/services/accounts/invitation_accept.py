"""Invitation links, the invited person's side: see what a link offers, then join with it.

A new person sets their own password (the same rules as setup and the Account page); someone
with an account logs in, or is already logged in, and joins. Accepting marks the invitation
used with one conditional UPDATE in the transaction that adds the membership, so a link joins
exactly one person even when two open it at once, and a refusal leaves nothing behind.

A link that is unknown, used, expired or withdrawn is refused with a sentence that says which,
and the refusal is counted like a failed login from that address (`LoginAttempt`, under
`ATTEMPT_KEY`): after LOGIN_MAX_FAILURES x 4 within LOGIN_LOCKOUT_MINUTES, links are refused
from there for a while (429), as logins are.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from chatapp.core import security
from chatapp.core.config import get_settings
from chatapp.core.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    ServiceError,
    TooManyRequests,
)
from chatapp.services.accounts import audit, auth
from chatapp.services.accounts.invitations import pending_where
from chatapp.services.accounts.tenancy import Actor
from chatapp.services.models import (
    Invitation,
    LoginAttempt,
    Membership,
    Role,
    User,
    Workspace,
    utcnow,
)

ATTEMPT_KEY = "(invitation link)"  # LoginAttempt.email of a refused link
NOT_VALID = (
    "This invitation link is not valid: check that it was copied whole, or ask for a new one."
)
USED = "This invitation was already used. Log in, or ask the person who invited you for a new link."
WITHDRAWN = "This invitation was withdrawn. Ask the person who invited you for a new link."
EXPIRED = "This invitation expired on {date}. Ask the person who invited you for a new link."
TOO_MANY = "Too many invalid invitation links from your address. Try again in {minutes} minutes."


class InvitationGone(ServiceError):
    """The link was real but can no longer be used (used, expired, withdrawn)."""

    status = 410


@dataclass(frozen=True)
class InvitationPreview:
    """What the invitation page shows before anyone joins."""

    workspace_name: str
    role: str
    email: str  # "" : whoever has the link chooses the account
    invited_by: str
    expires_at: datetime
    account_exists: bool  # the invitation's email already has an account: log in to join


@dataclass(frozen=True)
class Joined:
    user_id: int
    email: str
    workspace_id: int
    workspace_name: str
    role: str
    login: auth.LoginResult | None = None  # a new session, unless the person was logged in


def _check_throttle(session: Session, ip: str) -> None:
    settings = get_settings()
    since = utcnow() - timedelta(minutes=settings.login_lockout_minutes)
    failures = session.exec(
        select(func.count())
        .select_from(LoginAttempt)
        .where(
            LoginAttempt.email == ATTEMPT_KEY,
            LoginAttempt.ip == ip,
            col(LoginAttempt.succeeded).is_(False),
            col(LoginAttempt.created_at) > since,
        )
    ).one()
    if failures >= settings.login_max_failures * auth.IP_FAILURE_FACTOR:
        minutes = settings.login_lockout_minutes
        raise TooManyRequests(TOO_MANY.format(minutes=minutes), retry_after_seconds=minutes * 60)


def _refused(session: Session, ip: str, error: ServiceError) -> ServiceError:
    """Count the refusal (committed now: the caller's transaction is about to roll back)."""
    session.add(LoginAttempt(email=ATTEMPT_KEY, ip=ip, succeeded=False))
    session.commit()
    return error


def _open(session: Session, token: str, ip: str) -> Invitation:
    """The pending invitation behind a link, or a refusal saying why it cannot be used.

    Writes nothing but a counted refusal, so the callers write only after it."""
    ip = (ip or "unknown")[:64]
    _check_throttle(session, ip)
    invitation = None
    if token and len(token) <= 200:
        invitation = session.exec(
            select(Invitation).where(Invitation.token_hash == security.hash_token(token))
        ).first()
    if invitation is None:
        raise _refused(session, ip, NotFound(NOT_VALID))
    if invitation.accepted_at is not None:
        raise _refused(session, ip, InvitationGone(USED))
    if invitation.revoked_at is not None:
        raise _refused(session, ip, InvitationGone(WITHDRAWN))
    if invitation.expires_at <= utcnow():
        date = f"{invitation.expires_at:%Y-%m-%d %H:%M} UTC"
        raise _refused(session, ip, InvitationGone(EXPIRED.format(date=date)))
    return invitation


def preview(session: Session, token: str, *, ip: str = "") -> InvitationPreview:
    invitation = _open(session, token, ip)
    workspace = session.get(Workspace, invitation.workspace_id)
    inviter = session.get(User, invitation.created_by) if invitation.created_by else None
    account = auth.get_user_by_email(session, invitation.email) if invitation.email else None
    return InvitationPreview(
        workspace_name=workspace.name if workspace else "",
        role=invitation.role,
        email=invitation.email,
        invited_by=inviter.email if inviter else "",
        expires_at=invitation.expires_at,
        account_exists=account is not None,
    )


def _check_addressee(invitation: Invitation, email: str) -> None:
    if invitation.email and invitation.email != email:
        raise PermissionDenied(
            f"This invitation is for {invitation.email}, not {email}. Log in with that "
            "account, or ask for an invitation for yours."
        )


def _join(session: Session, invitation: Invitation, user: User, ip: str) -> Joined:
    """Use the invitation up and add the membership, in the caller's transaction."""
    workspace = session.get(Workspace, invitation.workspace_id)
    if workspace is None:
        raise InvitationGone(WITHDRAWN)
    member = session.exec(
        select(Membership.id).where(
            Membership.workspace_id == workspace.id, Membership.user_id == user.id
        )
    ).first()
    if member is not None:
        raise Conflict(f"You are already a member of {workspace.name}.")
    claimed = session.exec(
        update(Invitation)
        .where(col(Invitation.id) == invitation.id, *pending_where(utcnow()))
        .values(accepted_at=utcnow(), accepted_by=user.id)
    )
    if claimed.rowcount != 1:  # someone else accepted (or it was withdrawn) a moment ago
        raise InvitationGone(USED)
    session.add(Membership(workspace_id=workspace.id, user_id=user.id, role=invitation.role))
    try:
        session.flush()
    except IntegrityError as exc:  # the same person joining twice at the same moment
        raise Conflict(f"You are already a member of {workspace.name}.") from exc
    role = Role(invitation.role)
    actor = Actor(user.id, workspace.id, role, email=user.email, ip=(ip or "")[:64])
    changes = {"email": [None, user.email], "role": [None, role.value]}
    audit.record(session, actor, "invitation.accept", "invitation", invitation.id, changes)
    return Joined(user.id, user.email, workspace.id, workspace.name, role.value)


def accept_as_user(session: Session, token: str, *, user_id: int, ip: str = "") -> Joined:
    """A logged-in person joins with the link (their session stays as it is)."""
    invitation = _open(session, token, ip)
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        raise PermissionDenied("Please log in again.")
    _check_addressee(invitation, user.email)
    return _join(session, invitation, user, ip)


@dataclass(frozen=True)
class Credentials:
    """What the invited person typed, and where from (for throttling, sessions and the log)."""

    email: str
    password: str
    name: str = ""
    ip: str = ""
    user_agent: str = ""


def _new_user(
    session: Session, invitation: Invitation, given: Credentials, *, ticket: bool
) -> Joined:
    """The password is hashed before the first write; the new person is logged in without a
    second hash (a login's check would hold SQLite's write lock for as long as it takes)."""
    email = auth.normalize_email(invitation.email or given.email)
    if auth.get_user_by_email(session, email) is not None:
        raise Conflict(f"An account with {email} already exists: log in to join.")
    user = auth.create_user(session, email=email, password=given.password, name=given.name)
    joined = _join(session, invitation, user, given.ip)
    login = auth.open_session(  # the password was set this instant: nothing to verify
        session, user, remember=False, ip=given.ip, user_agent=given.user_agent, ticket=ticket
    )
    return replace(joined, login=login)


def _existing_user(
    session: Session, invitation: Invitation, given: Credentials, *, ticket: bool
) -> Joined:
    """The login's own checks and throttling come first: a wrong password commits only its
    counted attempt, before any of the invitation's writes."""
    login = auth.login(
        session,
        email=invitation.email or given.email,
        password=given.password,
        ip=given.ip,
        user_agent=given.user_agent,
        ticket=ticket,
    )
    _check_addressee(invitation, login.user.email)
    return replace(_join(session, invitation, login.user, given.ip), login=login)


def accept_new_user(
    session: Session, token: str, given: Credentials, *, ticket: bool = False
) -> Joined:
    """A new account, with the password its owner chose, joins; and is logged in."""
    return _new_user(session, _open(session, token, given.ip), given, ticket=ticket)


def accept_with_login(
    session: Session, token: str, given: Credentials, *, ticket: bool = False
) -> Joined:
    """Someone with an account logs in (with the login's own throttling) and joins."""
    return _existing_user(session, _open(session, token, given.ip), given, ticket=ticket)


def accept_with_password(session: Session, token: str, given: Credentials) -> Joined:
    """The API's one door: a new account for an unknown email, a login for a known one."""
    invitation = _open(session, token, given.ip)
    if auth.get_user_by_email(session, invitation.email or given.email) is not None:
        return _existing_user(session, invitation, given, ticket=False)
    return _new_user(session, invitation, given, ticket=False)
