"""The Team page's invitations: make a link (shown once), mail it when SMTP is set, list and
withdraw the pending ones. Managers only; everyone else just sees none."""

from __future__ import annotations

import dataclasses

import reflex as rx

from chatapp.services.accounts import invitations
from chatapp.state import calls
from chatapp.state.audit import AuditState
from chatapp.state.auth import AuthState

# What the inviter reads about the email, by delivery status.
DELIVERY_NOTES = {
    "sent": "Sent by email to {email}. You can also copy the link.",
    "failed": "{error} The invitation exists: copy the link and send it yourself.",
    "not_configured": "No email server is set up (SMTP_HOST): copy the link and send it.",
    "no_email": "Copy the link and send it to the person you invite.",
}


@dataclasses.dataclass
class InvitationRow:
    id: int
    role: str
    email: str
    invited_by: str
    expires: str


def _when(moment) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


class InvitationsState(AuthState):
    invitations: list[InvitationRow] = []
    errors: dict[str, str] = {}  # the invite form's problems, by field
    new_link: str = ""  # the link of the invitation just made: shown once, then forgotten
    new_link_expires: str = ""
    new_link_note: str = ""
    new_link_failed: bool = False

    async def _pending(self) -> list[InvitationRow]:
        if self.role not in ("owner", "admin"):
            return []
        done = await calls.as_member(self, invitations.list_invitations, quiet=True)
        return [
            InvitationRow(
                v.id, v.role, v.email or "Anyone with the link", v.invited_by, _when(v.expires_at)
            )
            for v in done.value or []
        ]

    @rx.event
    async def load_invitations(self):
        self.dismiss_link()
        self.errors = {}
        self.invitations = await self._pending()

    @rx.event
    def dismiss_link(self):
        self.new_link = self.new_link_expires = self.new_link_note = ""
        self.new_link_failed = False

    @rx.event
    async def invite(self, form: dict):
        """Make the link (committed first), then mail it off the loop when asked and set up."""
        role = str(form.get("invite_role", "") or "agent")
        email = str(form.get("invite_email", ""))
        origin = self.router.url.origin  # the link opens this dashboard, as its user sees it
        self.errors = {}
        self.dismiss_link()
        done = await calls.as_member(
            self,
            lambda s, a: invitations.create_invitation(
                s, a, role=role, email=email, base_url=origin
            ),
            field=lambda error: "role" if "role" in error.message.lower() else "email",
        )
        if not done.ok:
            return done.toast
        new = done.value
        delivery = await calls.off_loop(invitations.send_invitation, new)
        self.new_link, self.new_link_expires = new.url, _when(new.view.expires_at)
        self.new_link_failed = delivery.status == "failed"
        self.new_link_note = DELIVERY_NOTES[delivery.status].format(
            email=new.view.email, error=delivery.error
        )
        self.invitations = await self._pending()
        return AuditState.load_audit

    @rx.event
    async def revoke(self, invitation_id: int):
        done = await calls.as_member(
            self, lambda s, a: invitations.revoke_invitation(s, a, invitation_id)
        )
        if not done.ok:
            return done.toast
        self.invitations = await self._pending()
        withdrawn = rx.toast.success("Invitation withdrawn: the link no longer works.")
        return [AuditState.load_audit, withdrawn]
