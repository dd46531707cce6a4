"""Which bot the bot sections (Playground, Activity, Sources, ...) work on.

The choice is remembered per browser (localStorage) and re-checked against the workspace's bots on
every page load: a deleted bot or another workspace's bot falls back to the first bot.
"""

from __future__ import annotations

import dataclasses

import reflex as rx

from chatapp.services.bots import bots
from chatapp.state import calls
from chatapp.state.auth import AuthState


@dataclasses.dataclass
class BotOption:
    id: str
    name: str


class BotScopeState(AuthState):
    """Page states of bot sections inherit from this and read `self.bot_id` (0: no bot yet)."""

    chosen_bot: str = rx.LocalStorage("", name="chatapp_bot")
    bot_options: list[BotOption] = []
    bot_id: int = 0
    bot_public_id: str = ""
    bot_name: str = ""

    @rx.var
    def has_bot(self) -> bool:
        return self.bot_id != 0

    @rx.event
    async def load_bots(self):
        """on_load of every bot section, after `require_login`: pick the remembered bot."""
        found = (await calls.as_member(self, bots.list_bots, quiet=True)).value or []
        self.bot_options = [BotOption(str(bot.id), bot.name) for bot in found]
        current = next((bot for bot in found if str(bot.id) == self.chosen_bot), None)
        current = current or (found[0] if found else None)
        if current is None:
            self.bot_id, self.bot_public_id, self.bot_name = 0, "", ""
            return
        self.bot_id, self.bot_public_id, self.bot_name = current.id, current.public_id, current.name
        self.chosen_bot = str(current.id)

    @rx.event
    def switch_bot(self, bot_id: str):
        """Choose another bot and reload the current section for it."""
        if not any(option.id == bot_id for option in self.bot_options):
            return rx.toast.error("Bot not found.")
        self.chosen_bot = bot_id
        return rx.redirect(self.router.url.path or "/")
