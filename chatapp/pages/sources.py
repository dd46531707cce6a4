"""The Sources section: what the chosen bot knows, how it got there, and adding more."""

from __future__ import annotations

import reflex as rx

from chatapp.components.layout import bot_section
from chatapp.components.sources_forms import add_sources_card
from chatapp.components.sources_table import sources_table, storage_gauge
from chatapp.state.auth import AuthState
from chatapp.state.bot_scope import BotScopeState
from chatapp.state.source_details import SourceDetailsState
from chatapp.state.source_edit import SourceEditState
from chatapp.state.sources import SourcesState


@rx.page(
    route="/sources",
    title="Sources - Chatapp",
    on_load=[
        AuthState.require_login,
        BotScopeState.load_bots,
        SourcesState.load,
        SourceEditState.toggle_edit(False, 0),  # no dialog left open from an earlier visit
        SourceDetailsState.toggle_details(False, 0),
    ],
)
def sources_page() -> rx.Component:
    return bot_section(
        rx.text(
            "What ",
            rx.text.strong(BotScopeState.bot_name),
            " knows. New sources train in the background; the table updates by itself.",
            color_scheme="gray",
            margin_bottom="1em",
        ),
        rx.cond(AuthState.is_manager, add_sources_card()),
        storage_gauge(),
        sources_table(),
        title="Sources",
    )
