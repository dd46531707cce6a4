"""Invitation links over the API: managers create, list and revoke them in a workspace; the
invited person accepts with the link's token (a new password, a login, or a login token)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, Header, Request
from pydantic import BaseModel, Field
from sqlmodel import Session

from chatapp.api.deps import REQUEST_SESSION, Id, client_ip, current_actor
from chatapp.api.routes_workspaces import Strict
from chatapp.core.db import session_scope
from chatapp.core.errors import NotAuthenticated, ValidationFailed
from chatapp.services.accounts import api_tokens, auth, invitation_accept, invitations
from chatapp.services.accounts.tenancy import Actor

router = APIRouter(prefix="/api/v1", tags=["invitations"])


class InvitationIn(Strict):
    role: Literal["owner", "admin", "agent", "viewer"] = Field(
        description="Owners may invite any role; admins up to admin."
    )
    email: str = Field(default="", max_length=254, description="Optional: who may accept it.")


class InvitationOut(BaseModel):
    id: int
    role: str
    email: str
    invited_by: str
    created_at: datetime
    expires_at: datetime


class NewInvitationOut(InvitationOut):
    url: str = Field(description="The link, shown once: only its hash is stored.")
    email_status: str = Field(description="sent, failed, not_configured (no SMTP) or no_email")
    email_error: str = ""


class AcceptIn(Strict):
    token: str = Field(min_length=1, max_length=200, description="The link's last part.")
    password: str | None = Field(
        default=None, max_length=256, description="A new account's password, or yours."
    )
    email: str = Field(default="", max_length=254, description="When the link names none.")
    name: str = Field(default="", max_length=120)


class AcceptOut(BaseModel):
    user_id: int
    email: str
    workspace_id: int
    workspace_name: str
    role: str
    token: str | None = Field(default=None, description="A login token, unless you sent one.")
    expires_at: datetime | None = None


def _out(view: invitations.InvitationView) -> InvitationOut:
    return InvitationOut(**view.__dict__)


@router.post(
    "/workspaces/{workspace_id}/invitations", response_model=NewInvitationOut, status_code=201
)
def create_invitation(
    body: InvitationIn, actor: Actor = Depends(current_actor), session: Session = REQUEST_SESSION
):
    """The link goes to PUBLIC_URL; it is mailed too when SMTP is set up and an email given."""
    new = invitations.create_invitation(session, actor, role=body.role, email=body.email)
    session.commit()  # the invitation exists before (and whatever) the email does
    delivery = invitations.send_invitation(new)
    return NewInvitationOut(
        **new.view.__dict__, url=new.url, email_status=delivery.status, email_error=delivery.error
    )


@router.get("/workspaces/{workspace_id}/invitations", response_model=list[InvitationOut])
def list_invitations(actor: Actor = Depends(current_actor), session: Session = REQUEST_SESSION):
    return [_out(view) for view in invitations.list_invitations(session, actor)]


@router.delete("/workspaces/{workspace_id}/invitations/{invitation_id}", status_code=204)
def revoke_invitation(
    invitation_id: Id, actor: Actor = Depends(current_actor), session: Session = REQUEST_SESSION
) -> None:
    invitations.revoke_invitation(session, actor, invitation_id)


def _logged_in_user_id(authorization: str | None) -> int | None:
    """The caller's user when they sent a login token (an API token is a script, not a person)."""
    if not authorization:
        return None
    if not authorization.lower().startswith("bearer "):
        raise NotAuthenticated("Send your token as 'Authorization: Bearer <token>'.")
    token = authorization[7:].strip()
    if api_tokens.is_api_token(token):
        raise NotAuthenticated("Accept an invitation as a person: use a login token.")
    with session_scope() as session:
        return auth.user_for_token(session, token).id


@router.post("/invitations/accept", response_model=AcceptOut)
def accept_invitation(
    body: AcceptIn,
    request: Request,
    authorization: str | None = Header(default=None),
    session: Session = REQUEST_SESSION,
):
    """Join with a link: logged in (bearer login token), or with a password, which makes a new
    account for an unknown email and logs in a known one. Refused links: 404 unknown, 410 used,
    expired or withdrawn; 429 after too many refusals from one address."""
    ip = client_ip(request)
    user_id = _logged_in_user_id(authorization)
    if user_id is not None:
        joined = invitation_accept.accept_as_user(session, body.token, user_id=user_id, ip=ip)
    elif body.password is None:
        raise ValidationFailed(
            "Send a password (a new account gets it; an existing one logs in with it), "
            "or log in and send your login token."
        )
    else:
        given = invitation_accept.Credentials(
            email=body.email,
            password=body.password,
            name=body.name,
            ip=ip,
            user_agent=request.headers.get("user-agent", ""),
        )
        joined = invitation_accept.accept_with_password(session, body.token, given)
    login = joined.login
    return AcceptOut(
        user_id=joined.user_id,
        email=joined.email,
        workspace_id=joined.workspace_id,
        workspace_name=joined.workspace_name,
        role=joined.role,
        token=login.token if login else None,
        expires_at=login.expires_at if login else None,
    )
