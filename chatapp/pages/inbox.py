"""The Inbox section (workspace-wide): conversations waiting for a person, taken, answered live.

Agents, admins and owners see it; viewers get a notice (the services refuse them anyway).
"""

from __future__ import annotations

import reflex as rx

from chatapp.components.inbox_queue import queue_panel
from chatapp.components.inbox_thread import live_announcer, thread_panel
from chatapp.components.layout import dashboard
from chatapp.state.auth import AuthState
from chatapp.state.inbox import InboxState


@rx.page(
    route="/inbox",
    title="Inbox - Chatapp",
    on_load=[AuthState.require_login, InboxState.open_page],
)
def inbox_page() -> rx.Component:
    return dashboard(
        rx.cond(
            InboxState.can_handle,
            rx.vstack(
                rx.text(
                    "Visitors who asked for a person, across all bots. Take one to answer it "
                    "live; the bot stays silent until you hand it back or resolve it.",
                    color_scheme="gray",
                    size="2",
                ),
                rx.flex(
                    queue_panel(),
                    rx.box(thread_panel(), flex="1", min_width="0"),
                    spacing="5",
                    flex_direction=rx.breakpoints(initial="column", md="row"),
                    width="100%",
                ),
                live_announcer(),
                width="100%",
                spacing="3",
            ),
            rx.callout(
                "Your role (viewer) cannot handle conversations. Ask an owner for the agent role.",
                icon="info",
                id="inbox-viewer",
            ),
        ),
        title="Inbox",
    )
