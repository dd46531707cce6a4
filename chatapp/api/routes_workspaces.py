"""Admin API for one workspace: its members and its bots. Every route acts as a member of it."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from chatapp.api.deps import REQUEST_SESSION, Id, current_actor, current_user
from chatapp.services.accounts import workspaces
from chatapp.services.accounts.tenancy import Actor
from chatapp.services.bots import bots
from chatapp.services.models import BotCreate, BotPublic, BotUpdate, User

router = APIRouter(prefix="/api/v1/workspaces", tags=["workspaces"])


class Strict(BaseModel):
    """A request body: an unknown field is a 422 that names it, never silently dropped."""

    model_config = ConfigDict(extra="forbid")


class WorkspaceCreate(Strict):
    name: str = Field(min_length=1, max_length=120)


class WorkspaceOut(BaseModel):
    id: int
    name: str
    slug: str


class MemberIn(Strict):
    email: str = Field(max_length=254)
    role: str = Field(max_length=20)
    password: str | None = Field(default=None, max_length=256)
    name: str = Field(default="", max_length=120)


class MemberRole(Strict):
    role: str = Field(max_length=20)


class MemberOut(BaseModel):
    user_id: int
    email: str
    name: str
    role: str
    joined_at: datetime


class WidgetKeyOut(BaseModel):
    key: str = Field(description="Shown once: store it now.")
    prefix: str
    created_at: datetime


@router.post("", response_model=WorkspaceOut, status_code=201)
def create_workspace(
    body: WorkspaceCreate,
    user: User = Depends(current_user),
    session: Session = REQUEST_SESSION,
):
    workspace = workspaces.create_workspace(session, user_id=user.id, name=body.name)
    return WorkspaceOut(id=workspace.id, name=workspace.name, slug=workspace.slug)


@router.get("/{workspace_id}/members", response_model=list[MemberOut])
def list_members(actor: Actor = Depends(current_actor), session: Session = REQUEST_SESSION):
    return [MemberOut(**m.__dict__) for m in workspaces.list_members(session, actor)]


@router.post("/{workspace_id}/members", response_model=MemberOut, status_code=201)
def add_member(
    body: MemberIn, actor: Actor = Depends(current_actor), session: Session = REQUEST_SESSION
):
    view = workspaces.add_member(
        session, actor, email=body.email, role=body.role, password=body.password, name=body.name
    )
    return MemberOut(**view.__dict__)


@router.patch("/{workspace_id}/members/{user_id}", status_code=204)
def change_role(
    user_id: Id,
    body: MemberRole,
    actor: Actor = Depends(current_actor),
    session: Session = REQUEST_SESSION,
) -> None:
    workspaces.change_member_role(session, actor, user_id=user_id, role=body.role)


@router.delete("/{workspace_id}/members/{user_id}", status_code=204)
def remove_member(
    user_id: Id, actor: Actor = Depends(current_actor), session: Session = REQUEST_SESSION
) -> None:
    workspaces.remove_member(session, actor, user_id=user_id)


@router.get("/{workspace_id}/bots", response_model=list[BotPublic])
def list_bots(
    search: str = "", actor: Actor = Depends(current_actor), session: Session = REQUEST_SESSION
):
    return bots.list_bots(session, actor, search=search[:100])


@router.post("/{workspace_id}/bots", response_model=BotPublic, status_code=201)
def create_bot(
    body: BotCreate, actor: Actor = Depends(current_actor), session: Session = REQUEST_SESSION
):
    return bots.create_bot(session, actor, body)


@router.get("/{workspace_id}/bots/{bot_id}", response_model=BotPublic)
def get_bot(bot_id: Id, actor: Actor = Depends(current_actor), session: Session = REQUEST_SESSION):
    return bots.get_bot(session, actor, bot_id)


@router.patch("/{workspace_id}/bots/{bot_id}", response_model=BotPublic)
def update_bot(
    bot_id: Id,
    body: BotUpdate,
    actor: Actor = Depends(current_actor),
    session: Session = REQUEST_SESSION,
):
    return bots.update_bot(session, actor, bot_id, body)


@router.delete("/{workspace_id}/bots/{bot_id}", status_code=204)
def delete_bot(
    bot_id: Id, actor: Actor = Depends(current_actor), session: Session = REQUEST_SESSION
) -> None:
    bots.delete_bot(session, actor, bot_id)


@router.post("/{workspace_id}/bots/{bot_id}/keys", response_model=WidgetKeyOut, status_code=201)
def create_widget_key(
    bot_id: Id, actor: Actor = Depends(current_actor), session: Session = REQUEST_SESSION
):
    key, plain = bots.create_widget_key(session, actor, bot_id)
    return WidgetKeyOut(key=plain, prefix=key.prefix, created_at=key.created_at)
