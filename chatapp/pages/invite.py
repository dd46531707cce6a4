"""The invitation page: open a link from a teammate, set a password (or log in), join."""

from __future__ import annotations

import reflex as rx

from chatapp.components.session_forms import end_session_form, open_session_form
from chatapp.pages.login import auth_card
from chatapp.state.auth import AuthState
from chatapp.state.invite import InviteState


def _field(label: str, name: str, kind: str = "text", **props) -> rx.Component:
    return rx.vstack(
        rx.el.label(rx.text(label, size="2", weight="medium", as_="span"), html_for=name),
        rx.input(name=name, id=name, type=kind, width="100%", size="3", **props),
        spacing="1",
        width="100%",
    )


def _email_field() -> rx.Component:
    """The invitation's own email (fixed), or a box when the link names no one."""
    return rx.cond(
        InviteState.invite_email != "",
        rx.text("Email: ", rx.text.strong(InviteState.invite_email), size="2"),
        _field("Email", "email", "email", required=True, auto_complete="username"),
    )


def _password(label: str, name: str, complete: str) -> rx.Component:
    return _field(label, name, "password", required=True, auto_complete=complete)


def _switch(text: str, mode: str) -> rx.Component:
    return rx.cond(
        InviteState.invite_email == "",
        rx.link(text, href="#", on_click=InviteState.choose_mode(mode).prevent_default, size="2"),
    )


def _new_account() -> rx.Component:
    return rx.form(
        rx.vstack(
            _email_field(),
            _field("Your name", "name", auto_complete="name"),
            _password("Choose a password (8 characters or more)", "password", "new-password"),
            _password("Repeat the password", "confirm", "new-password"),
            rx.button(
                "Create account and join", type="submit", size="3", width="100%", id="invite-submit"
            ),
            _switch("I already have an account", "existing"),
            spacing="3",
        ),
        on_submit=InviteState.sign_up,
    )


def _existing_account() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.text("You already have an account: log in to join.", size="2"),
            _email_field(),
            _password("Password", "password", "current-password"),
            rx.button("Log in and join", type="submit", size="3", width="100%", id="invite-login"),
            _switch("I am new here", "new"),
            spacing="3",
        ),
        on_submit=InviteState.log_in,
    )


def _logged_in() -> rx.Component:
    return rx.vstack(
        rx.text("You are logged in as ", rx.text.strong(InviteState.invite_user), ".", size="2"),
        rx.button("Join the workspace", size="3", width="100%", on_click=InviteState.join),
        width="100%",
    )


def _someone_else() -> rx.Component:
    return rx.vstack(
        rx.text(
            "This invitation is for ",
            rx.text.strong(InviteState.invite_email),
            ", but you are logged in as ",
            rx.text.strong(InviteState.invite_user),
            ". Log out, then open the link again.",
            size="2",
        ),
        rx.button("Log out", variant="soft", on_click=AuthState.logout),
        width="100%",
    )


def _offer() -> rx.Component:
    return rx.vstack(
        rx.heading("Join ", InviteState.invite_workspace, size="6"),
        rx.text(
            rx.cond(InviteState.invite_by != "", InviteState.invite_by, "A manager"),
            " invited you as ",
            rx.text.strong(InviteState.invite_role, id="invite-offer-role"),
            ". The link works once, until ",
            InviteState.invite_expires,
            ".",
            color_scheme="gray",
            size="2",
        ),
        width="100%",
    )


def _error() -> rx.Component:
    return rx.cond(
        InviteState.invite_error != "",
        rx.callout(
            InviteState.invite_error,
            icon="triangle-alert",
            color_scheme="red",
            id="invite-error",
            role="alert",
        ),
    )


@rx.page(
    route="/invite/[invite_token]",
    title="Invitation - Chatapp",
    on_load=InviteState.open_invitation,
)
def invite_page() -> rx.Component:
    return auth_card(
        rx.match(
            InviteState.invite_mode,
            ("loading", rx.text("Opening the invitation...", color_scheme="gray")),
            (
                "gone",
                rx.vstack(
                    rx.heading("This invitation cannot be used", size="6"),
                    _error(),
                    rx.link("Go to the login page", href="/login"),
                ),
            ),
            rx.vstack(
                _offer(),
                _error(),
                rx.match(
                    InviteState.invite_mode,
                    ("new", _new_account()),
                    ("existing", _existing_account()),
                    ("member", _logged_in()),
                    _someone_else(),
                ),
                spacing="4",
                width="100%",
            ),
        ),
        open_session_form(),
        end_session_form(),
    )
