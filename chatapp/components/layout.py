"""The dashboard frame: a skip link, the navigation (a sidebar on desktop, a top bar with a drawer
on a phone) and the page's content in the `<main>` landmark, under the page's one `<h1>`."""

from __future__ import annotations

import reflex as rx

from chatapp.components.nav_mobile import top_bar
from chatapp.components.session_forms import end_session_form
from chatapp.components.sidebar import brand, sidebar_body
from chatapp.state.bot_scope import BotScopeState

MAIN_ID = "main-content"
ON_DESKTOP = rx.breakpoints(initial="none", md="flex")
# The skip link moves focus itself: a "#main" fragment would go through the client router.
_FOCUS_MAIN = f"document.getElementById('{MAIN_ID}')?.focus()"


def skip_link() -> rx.Component:
    """The first thing Tab reaches: straight to the page's content (hidden until focused)."""
    return rx.el.a(
        "Skip to content",
        href=f"#{MAIN_ID}",
        on_click=[rx.prevent_default, rx.call_script(_FOCUS_MAIN)],
        id="skip-link",
        class_name="skip-link",
    )


def sidebar() -> rx.Component:
    """The desktop navigation (a phone gets the top bar's drawer instead)."""
    return rx.el.aside(
        rx.vstack(
            brand(),
            *sidebar_body(),
            end_session_form(),
            width="100%",
            height="100%",
            spacing="4",
        ),
        display=ON_DESKTOP,
        flex_shrink="0",
        width="240px",
        min_height="100vh",
        padding="1em",
        border_right=f"1px solid {rx.color('gray', 5)}",
        background=rx.color("gray", 2),
    )


def bot_section(*children: rx.Component, title: str) -> rx.Component:
    """A bot section's page: its content once the workspace has a bot, a pointer to Bots before."""
    return dashboard(
        rx.cond(
            BotScopeState.has_bot,
            rx.fragment(*children),
            rx.vstack(
                rx.callout(
                    "Create a bot first: this section works on one bot at a time.",
                    icon="info",
                    id="no-bot",
                ),
                rx.link("Go to Bots", href="/"),
            ),
        ),
        title=title,
    )


def dashboard(*children: rx.Component, title: str) -> rx.Component:
    """A page inside the frame: navigation on the left (a top bar on a phone), content right."""
    return rx.box(
        skip_link(),
        top_bar(),
        rx.flex(
            sidebar(),
            rx.el.main(
                rx.heading(title, size="7", margin_bottom="0.75em", as_="h1"),
                *children,
                id=MAIN_ID,
                tab_index=-1,
                padding=["1em", "1.5em", "2em"],
                width="100%",
                min_width="0",
                max_width="1200px",
                outline="none",
            ),
            width="100%",
        ),
        width="100%",
    )
