"""The frame on a phone (below the `md` breakpoint): a slim top bar with a menu button that opens
the navigation in a drawer, so a page's content starts at the top of the screen.

The drawer is a Radix dialog: its trigger carries aria-expanded and aria-controls, it keeps
focus inside while open, Escape closes it and focus goes back to the menu button.
"""

from __future__ import annotations

import reflex as rx

from chatapp.components.sidebar import brand, sidebar_body
from chatapp.state.inbox import InboxBadgeState

PREFIX = "menu-"  # ids inside the drawer (the desktop sidebar's stay unprefixed)
ON_PHONE = rx.breakpoints(initial="flex", md="none")


def drawer() -> rx.Component:
    return rx.dialog.content(
        rx.vstack(
            rx.hstack(
                rx.icon("message-circle", size=24, color=rx.color("accent", 9)),
                rx.dialog.title("Chatapp", custom_attrs={"as": "h2"}, margin="0"),
                rx.spacer(),
                rx.dialog.close(
                    rx.icon_button(
                        rx.icon("x", size=18),
                        variant="ghost",
                        color_scheme="gray",
                        aria_label="Close navigation",
                        id="nav-menu-close",
                    )
                ),
                width="100%",
                align="center",
            ),
            rx.dialog.description("Sections of the dashboard", class_name="visually-hidden"),
            *sidebar_body(PREFIX),
            spacing="4",
            min_height="100%",
        ),
        class_name="nav-drawer",  # no id: Radix ties the menu button's aria-controls to its own
        position="fixed",
        top="0",
        left="0",
        height="100dvh",
        max_height="100dvh",
        width="min(20rem, 85vw)",
        max_width="min(20rem, 85vw)",
        margin="0",
        border_radius="0",
        padding="1em",
    )


def top_bar() -> rx.Component:
    """Brand, the pending conversations, and the menu button; hidden on wider screens."""
    return rx.el.header(
        rx.dialog.root(
            rx.dialog.trigger(
                rx.icon_button(
                    rx.icon("menu", size=20),
                    variant="soft",
                    color_scheme="gray",
                    size="3",
                    aria_label="Menu",
                    id="nav-menu",
                )
            ),
            drawer(),
        ),
        brand(),
        rx.spacer(),
        rx.cond(
            InboxBadgeState.pending > 0,
            rx.link(
                rx.badge(
                    InboxBadgeState.pending,
                    color_scheme="orange",
                    high_contrast=True,
                    radius="full",
                ),
                href="/inbox",
                aria_label=InboxBadgeState.pending.to_string() + " waiting in the Inbox",
                id="topbar-inbox-badge",
            ),
        ),
        display=ON_PHONE,
        align_items="center",
        gap="0.75em",
        padding="0.5em 1em",
        width="100%",
        border_bottom=f"1px solid {rx.color('gray', 5)}",
        background=rx.color("gray", 2),
    )
