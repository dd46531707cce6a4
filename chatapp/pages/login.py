"""Login and first-run setup pages."""

from __future__ import annotations

import reflex as rx

from chatapp.components.session_forms import open_session_form
from chatapp.state.auth import AuthState


def auth_card(*children: rx.Component) -> rx.Component:
    """A page outside the dashboard's frame (login, setup, an invitation): one card in the
    middle, inside the page's `<main>` landmark."""
    return rx.el.main(
        rx.center(
            rx.card(
                rx.vstack(*children, spacing="4", width="100%"), width="100%", max_width="420px"
            ),
            min_height="100vh",
            padding="1em",
            background=rx.color("gray", 2),
        )
    )


def _error() -> rx.Component:
    return rx.cond(
        AuthState.form_error != "",
        rx.callout(
            AuthState.form_error, icon="triangle-alert", color_scheme="red", id="form-error"
        ),
    )


def _field(label: str, name: str, kind: str = "text", **props) -> rx.Component:
    return rx.vstack(
        # rx.el.label: Radix's Text would turn html_for into a CSS property, unlinking the label.
        rx.el.label(rx.text(label, size="2", weight="medium", as_="span"), html_for=name),
        rx.input(name=name, id=name, type=kind, width="100%", size="3", **props),
        spacing="1",
        width="100%",
    )


@rx.page(route="/login", title="Log in - Chatapp", on_load=AuthState.guard_login_page)
def login_page() -> rx.Component:
    return auth_card(
        rx.heading("Log in to Chatapp", size="6"),
        _error(),
        rx.form(
            rx.vstack(
                _field("Email", "email", "email", required=True, auto_complete="username"),
                _field(
                    "Password",
                    "password",
                    "password",
                    required=True,
                    auto_complete="current-password",
                ),
                rx.checkbox("Remember me for 7 days", name="remember", id="remember"),
                rx.button("Log in", type="submit", size="3", width="100%", id="login-submit"),
                spacing="3",
            ),
            on_submit=AuthState.login,
        ),
        open_session_form(),
    )


@rx.page(route="/setup", title="Set up - Chatapp", on_load=AuthState.guard_setup_page)
def setup_page() -> rx.Component:
    return auth_card(
        rx.heading("Welcome to Chatapp", size="6"),
        rx.text("Create the first account. It owns the first workspace.", color_scheme="gray"),
        _error(),
        rx.form(
            rx.vstack(
                _field("Your name", "name", auto_complete="name"),
                _field("Email", "email", "email", required=True, auto_complete="username"),
                _field(
                    "Password (8 characters or more)",
                    "password",
                    "password",
                    required=True,
                    auto_complete="new-password",
                ),
                _field(
                    "Repeat the password",
                    "confirm",
                    "password",
                    required=True,
                    auto_complete="new-password",
                ),
                _field("Workspace name (your business)", "workspace", required=True),
                rx.button(
                    "Create account", type="submit", size="3", width="100%", id="setup-submit"
                ),
                spacing="3",
            ),
            on_submit=AuthState.setup,
        ),
        open_session_form(),
    )
