"""The hidden forms through which the dashboard reaches its HttpOnly session cookie.

A websocket event cannot set an HttpOnly cookie, so login and logout end in a full-page POST to
the API (`api/routes_auth.py`), which answers with `Set-Cookie` and a redirect. The script that
submits a form (`state/auth.py`) sets its action to the backend's URL as the browser sees it.
"""

from __future__ import annotations

import reflex as rx

from chatapp.state.auth import END_FORM_ID, OPEN_FORM_ID


def open_session_form() -> rx.Component:
    """Login's second step: the login event fills in the one-time ticket and submits it."""
    return rx.el.form(
        rx.el.input(type="hidden", name="ticket"), id=OPEN_FORM_ID, method="post", display="none"
    )


def end_session_form() -> rx.Component:
    """Logout's last step: the server clears the cookie and sends the browser to the login page."""
    return rx.el.form(id=END_FORM_ID, method="post", display="none")
