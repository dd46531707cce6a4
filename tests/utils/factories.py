"""Factories that make real rows through the services (never by hand-written SQL)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlmodel import Session

from chatapp.services.accounts import auth, workspaces
from chatapp.services.accounts.tenancy import Actor, actor_for
from chatapp.services.bots import bots
from chatapp.services.models import Bot, BotCreate, Role, User, Workspace

PASSWORD = "correct horse battery"


def make_user(session: Session, email: str | None = None, password: str = PASSWORD) -> User:
    email = email or f"user-{secrets.token_hex(4)}@example.com"
    return auth.create_user(session, email=email, password=password)


@dataclass
class Tenant:
    """A workspace with an owner, one member of each other role, and a bot."""

    workspace: Workspace
    owner: Actor
    admin: Actor
    agent: Actor
    viewer: Actor
    bot: Bot

    def actor(self, role: Role) -> Actor:
        return {
            Role.OWNER: self.owner,
            Role.ADMIN: self.admin,
            Role.AGENT: self.agent,
            Role.VIEWER: self.viewer,
        }[role]


def make_tenant(session: Session, label: str) -> Tenant:
    owner_user = make_user(session, f"owner-{label}@example.com")
    workspace = workspaces.create_workspace(
        session, user_id=owner_user.id, name=f"Workspace {label}"
    )
    owner = actor_for(session, user_id=owner_user.id, workspace_id=workspace.id)
    others = {}
    for role in (Role.ADMIN, Role.AGENT, Role.VIEWER):
        view = workspaces.add_member(
            session, owner, email=f"{role.value}-{label}@example.com", role=role, password=PASSWORD
        )
        others[role] = actor_for(session, user_id=view.user_id, workspace_id=workspace.id)
    bot = bots.create_bot(session, owner, BotCreate(name=f"Bot {label}"))
    return Tenant(
        workspace, owner, others[Role.ADMIN], others[Role.AGENT], others[Role.VIEWER], bot
    )
