"""The audit log section of the Team page: who changed what, newest first (owners/admins)."""

from __future__ import annotations

import dataclasses

import reflex as rx

from chatapp.services.accounts import audit
from chatapp.state import calls
from chatapp.state.auth import AuthState

PER_PAGE = 25


@dataclasses.dataclass
class AuditRow:
    id: int
    when: str
    actor: str
    action: str
    target: str
    changes: str


class AuditState(AuthState):
    audit_rows: list[AuditRow] = []
    audit_page: int = 1
    audit_total: int = 0

    @rx.var
    def audit_pages(self) -> int:
        return max(1, -(-self.audit_total // PER_PAGE))

    @rx.event
    def load_audit(self):
        self.audit_page = 1
        return AuditState.show_audit_page

    @rx.event
    async def show_audit_page(self):
        """Load the current page; members who may not read the log just see nothing."""
        if not self.is_manager:
            self.audit_rows, self.audit_total = [], 0
            return None
        number = self.audit_page
        done = await calls.as_member(
            self, lambda s, a: audit.list_entries(s, a, page=number, per_page=PER_PAGE)
        )
        if not done.ok:
            self.audit_rows, self.audit_total = [], 0
            return done.toast
        page = done.value
        self.audit_total = page.total
        self.audit_rows = [
            AuditRow(
                e.id,
                e.created_at.strftime("%Y-%m-%d %H:%M UTC"),
                e.actor,
                e.action,
                f"{e.target_type} {e.target_id}".strip(),
                audit.describe(e.changes),
            )
            for e in page.entries
        ]
        return None

    @rx.event
    def next_audit_page(self):
        if self.audit_page < self.audit_pages:
            self.audit_page += 1
        return AuditState.show_audit_page

    @rx.event
    def previous_audit_page(self):
        self.audit_page = max(1, self.audit_page - 1)
        return AuditState.show_audit_page
