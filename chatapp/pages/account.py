"""The Account page: the user's own password."""

from __future__ import annotations

import reflex as rx

from chatapp.components.layout import dashboard
from chatapp.state.account import AccountState
from chatapp.state.auth import AuthState


@rx.page(route="/account", title="Account - Chatapp", on_load=AuthState.require_login)
def account_page() -> rx.Component:
    return dashboard(
        rx.card(
            rx.form(
                rx.vstack(
                    rx.heading("Change password", size="3", as_="h2"),
                    rx.input(
                        name="current_password",
                        type="password",
                        placeholder="Current password",
                        aria_label="Current password",
                        required=True,
                        width="100%",
                    ),
                    rx.input(
                        name="new_password",
                        type="password",
                        placeholder="New password (8 characters or more)",
                        aria_label="New password",
                        required=True,
                        width="100%",
                    ),
                    rx.input(
                        name="confirm",
                        type="password",
                        placeholder="Repeat new password",
                        aria_label="Repeat new password",
                        required=True,
                        width="100%",
                    ),
                    rx.button("Change password", type="submit"),
                    spacing="3",
                ),
                on_submit=AccountState.change_password,
                reset_on_submit=True,
            ),
            max_width="420px",
        ),
        title="Account",
    )
