"""The Account page: change one's own password."""

from __future__ import annotations

import reflex as rx

from chatapp.services.accounts import auth
from chatapp.state import calls
from chatapp.state.auth import AuthState


class AccountState(AuthState):
    @rx.event
    async def change_password(self, form: dict):
        if form.get("new_password") != form.get("confirm"):
            return rx.toast.error("The two new passwords differ.")
        token = self._token()
        current, new = str(form.get("current_password", "")), str(form.get("new_password", ""))

        def change(session):  # hashes twice (check, then store): off the loop
            user = auth.user_for_token(session, token)
            auth.change_password(
                session,
                user_id=user.id,
                current_password=current,
                new_password=new,
                keep_token=token,
            )

        done = await calls.in_session(self, change)
        if not done.ok:
            return done.toast
        return rx.toast.success("Password changed. Other sessions were signed out.")
