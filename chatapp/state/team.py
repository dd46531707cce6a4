"""The Team page: members of the workspace and their roles."""

from __future__ import annotations

import dataclasses

import reflex as rx

from chatapp.services.accounts import workspaces
from chatapp.state import calls
from chatapp.state.audit import AuditState
from chatapp.state.auth import AuthState


@dataclasses.dataclass
class MemberRow:
    user_id: int
    email: str
    name: str
    role: str
    joined: str


class TeamState(AuthState):
    members: list[MemberRow] = []

    @rx.event
    async def load(self):
        done = await calls.as_member(self, workspaces.list_members, quiet=True)
        self.members = [
            MemberRow(m.user_id, m.email, m.name, m.role, m.joined_at.strftime("%Y-%m-%d"))
            for m in done.value or []
        ]
        return AuditState.load_audit  # member changes show up in the log at once

    @rx.event
    async def add(self, form: dict):
        """A new member's password is hashed in the worker thread."""
        fields = {
            "email": str(form.get("email", "")),
            "role": str(form.get("role", "") or "agent"),
            "password": str(form.get("password", "")) or None,
            "name": str(form.get("name", "")),
        }
        done = await calls.as_member(self, lambda s, a: workspaces.add_member(s, a, **fields))
        if not done.ok:
            return done.toast
        view = done.value
        return [TeamState.load, rx.toast.success(f"Added {view.email} as {view.role}.")]

    @rx.event
    async def change_role(self, user_id: int, role: str):
        done = await calls.as_member(
            self, lambda s, a: workspaces.change_member_role(s, a, user_id=user_id, role=role)
        )
        return [TeamState.load, done.toast or rx.toast.success("Role changed.")]

    @rx.event
    async def remove(self, user_id: int):
        done = await calls.as_member(
            self, lambda s, a: workspaces.remove_member(s, a, user_id=user_id)
        )
        if not done.ok:
            return done.toast
        return [TeamState.load, rx.toast.success("Member removed.")]
