"""The Team page: members of the workspace and their roles."""

from __future__ import annotations

import dataclasses

import reflex as rx

from chatapp.services import workspaces
from chatapp.services.db import session_scope
from chatapp.services.errors import ServiceError
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
    def load(self):
        try:
            with session_scope() as session:
                rows = workspaces.list_members(session, self.actor(session))
        except ServiceError:
            rows = []
        self.members = [
            MemberRow(m.user_id, m.email, m.name, m.role, m.joined_at.strftime("%Y-%m-%d"))
            for m in rows
        ]
        return AuditState.load_audit  # member changes show up in the log at once

    @rx.event
    def add(self, form: dict):
        try:
            with session_scope() as session:
                view = workspaces.add_member(
                    session,
                    self.actor(session),
                    email=str(form.get("email", "")),
                    role=str(form.get("role", "") or "agent"),
                    password=str(form.get("password", "")) or None,
                    name=str(form.get("name", "")),
                )
        except ServiceError as error:
            return rx.toast.error(error.message)
        return [TeamState.load, rx.toast.success(f"Added {view.email} as {view.role}.")]

    @rx.event
    def change_role(self, user_id: int, role: str):
        try:
            with session_scope() as session:
                workspaces.change_member_role(
                    session, self.actor(session), user_id=user_id, role=role
                )
        except ServiceError as error:
            return [TeamState.load, rx.toast.error(error.message)]
        return [TeamState.load, rx.toast.success("Role changed.")]

    @rx.event
    def remove(self, user_id: int):
        try:
            with session_scope() as session:
                workspaces.remove_member(session, self.actor(session), user_id=user_id)
        except ServiceError as error:
            return rx.toast.error(error.message)
        return [TeamState.load, rx.toast.success("Member removed.")]
