"""The Account page: change one's own password."""

from __future__ import annotations

import reflex as rx

from chatapp.services import auth
from chatapp.services.db import session_scope
from chatapp.services.errors import ServiceError
from chatapp.state.auth import AuthState


class AccountState(AuthState):
    @rx.event
    def change_password(self, form: dict):
        if form.get("new_password") != form.get("confirm"):
            return rx.toast.error("The two new passwords differ.")
        try:
            with session_scope() as session:
                user = auth.user_for_token(session, self._token())
                auth.change_password(
                    session,
                    user_id=user.id,
                    current_password=str(form.get("current_password", "")),
                    new_password=str(form.get("new_password", "")),
                    keep_token=self._token(),
                )
        except ServiceError as error:
            return rx.toast.error(error.message)
        return rx.toast.success("Password changed. Other sessions were signed out.")
