"""The Settings section (being built: issue 6)."""

from __future__ import annotations

import reflex as rx

from chatapp.components.layout import bot_section
from chatapp.state.auth import AuthState
from chatapp.state.bot_scope import BotScopeState


@rx.page(
    route="/settings",
    title="Settings - Chatapp",
    on_load=[AuthState.require_login, BotScopeState.load_bots],
)
def settings_page() -> rx.Component:
    return bot_section(rx.text(BotScopeState.bot_name), title="Settings")
