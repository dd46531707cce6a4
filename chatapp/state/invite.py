"""The invitation page (/invite/<token>): who invites whom to what, then joining.

A new person sets their own password; someone with an account logs in; someone logged in just
joins. Joining ends where logging in does (the session cookie set by the API), in the invited
workspace, chosen for the next page.
"""

from __future__ import annotations

import re

import reflex as rx

from chatapp.core.errors import NotAuthenticated
from chatapp.services.accounts import auth, invitation_accept
from chatapp.state import calls
from chatapp.state.auth import HOME_ROUTE, AuthState, post_login_ticket

TOKEN_IN_PATH = re.compile(r"/invite/([^/?#]+)")


class InviteState(AuthState):
    # loading | new (set a password) | existing (log in) | member (logged in) | other | gone
    invite_mode: str = "loading"
    invite_error: str = ""  # why the link cannot be used, or why joining was refused
    invite_workspace: str = ""
    invite_role: str = ""
    invite_email: str = ""  # "" : the link names no one
    invite_by: str = ""
    invite_expires: str = ""
    invite_user: str = ""  # the logged-in account, when there is one

    def _link_token(self) -> str:
        found = TOKEN_IN_PATH.search(str(self.router.url.path))
        return found.group(1) if found else ""

    @rx.event
    async def open_invitation(self):
        """on_load: what the link offers, and whether the visitor is logged in already."""
        link, cookie, ip = self._link_token(), self._token(), self._who().ip
        self.invite_mode, self.invite_error = "loading", ""

        def look(session):
            preview = invitation_accept.preview(session, link, ip=ip)
            try:
                return preview, auth.user_for_token(session, cookie).email
            except NotAuthenticated:
                return preview, ""

        done = await calls.in_session(self, look, quiet=True)
        if not done.ok:
            self.invite_mode, self.invite_error = "gone", done.error.message
            return
        preview, self.invite_user = done.value
        self.invite_workspace, self.invite_role = preview.workspace_name, preview.role
        self.invite_email, self.invite_by = preview.email, preview.invited_by
        self.invite_expires = preview.expires_at.strftime("%Y-%m-%d %H:%M UTC")
        if self.invite_user:
            mine = not preview.email or preview.email == self.invite_user
            self.invite_mode = "member" if mine else "other"
        else:
            self.invite_mode = "existing" if preview.account_exists else "new"

    @rx.event
    def choose_mode(self, mode: str):
        """ "I have an account" / "I am new here", for a link that names no one."""
        if mode in ("new", "existing") and not self.invite_email:
            self.invite_mode, self.invite_error = mode, ""

    @rx.event
    async def join(self):
        """Logged in already: join and go to the invited workspace."""
        link, cookie, ip = self._link_token(), self._token(), self._who().ip

        def accept(session):
            user = auth.user_for_token(session, cookie)
            return invitation_accept.accept_as_user(session, link, user_id=user.id, ip=ip)

        done = await calls.in_session(self, accept, quiet=True)
        if not done.ok:
            self.invite_error = done.error.message
            return None
        self.chosen_workspace = str(done.value.workspace_id)
        return rx.redirect(HOME_ROUTE)

    @rx.event
    async def sign_up(self, form: dict):
        """A new account with the password its owner typed (twice), then in."""
        if form.get("password") != form.get("confirm"):
            self.invite_error = "The two passwords differ."
            return None
        return await self._accept(form, invitation_accept.accept_new_user)

    @rx.event
    async def log_in(self, form: dict):
        return await self._accept(form, invitation_accept.accept_with_login)

    async def _accept(self, form: dict, accept):
        self.invite_error = ""
        link = self._link_token()
        given = invitation_accept.Credentials(
            email=self.invite_email or str(form.get("email", "")),
            password=str(form.get("password", "")),
            name=str(form.get("name", "")),
            ip=self._who().ip,
            user_agent=self.router.headers.user_agent or "",
        )
        done = await calls.in_session(
            self, lambda s: accept(s, link, given, ticket=True), quiet=True
        )
        if not done.ok:
            self.invite_error = done.error.message
            return None
        self.chosen_workspace = str(done.value.workspace_id)
        return post_login_ticket(done.value.login.token)
