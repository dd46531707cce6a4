"""The Actions section: what the bot can do beside answering (collect a lead, hand over to a
person, call an HTTP API, show a link), each started from a template (which only fills the
editor: the action exists once saved), tested here, every run logged.

Viewers and agents look; owners and admins add, change, test and delete (as the services check).
"""

from __future__ import annotations

import reflex as rx

from chatapp.components.actions_editor import editor_dialog
from chatapp.components.actions_tables import actions_table, runs_table
from chatapp.components.layout import bot_section
from chatapp.state.actions import ActionsState
from chatapp.state.auth import AuthState
from chatapp.state.bot_scope import BotScopeState


def templates_bar() -> rx.Component:
    return rx.cond(
        ActionsState.can_edit_actions,
        rx.flex(
            rx.text("Add from a template:", size="2", weight="medium"),
            rx.foreach(
                ActionsState.kinds,
                lambda kind: rx.button(
                    rx.icon("plus", size=14),
                    kind[1],
                    size="2",
                    variant="soft",
                    on_click=ActionsState.start_from_template(kind[0]),
                    id="add-action-" + kind[0],
                ),
            ),
            spacing="2",
            wrap="wrap",
            align="center",
            margin_bottom="1em",
        ),
    )


@rx.page(
    route="/actions",
    title="Actions - Chatapp",
    on_load=[AuthState.require_login, BotScopeState.load_bots, ActionsState.load],
)
def actions_page() -> rx.Component:
    return bot_section(
        rx.text(
            "What the bot can do beside answering. With a language model configured, the model "
            "chooses actions from their descriptions; offline, each action's rules choose.",
            color_scheme="gray",
            size="2",
            margin_bottom="1em",
        ),
        templates_bar(),
        rx.cond(
            ActionsState.rows.length() > 0,
            actions_table(),
            rx.callout("No actions yet.", icon="info", id="no-actions"),
        ),
        rx.heading("Run log", size="4", margin_top="1.5em", margin_bottom="0.5em", as_="h2"),
        runs_table(),
        editor_dialog(),
        title="Actions",
    )
