"""The Bots page: cards with usage, create, rename, delete, search."""

from __future__ import annotations

import dataclasses

import reflex as rx

from chatapp.services.bots import bots
from chatapp.services.models import BotCreate
from chatapp.state import calls
from chatapp.state.auth import AuthState
from chatapp.state.bot_scope import BotScopeState

SEARCH_THRESHOLD = 6  # the search box appears once a workspace has more bots than this
OPEN_SECTION = "/playground"  # where a bot's card leads: the first of the bot sections


@dataclasses.dataclass
class BotCard:
    id: int
    public_id: str
    name: str
    avatar_url: str
    accent_color: str
    status: str
    usage_label: str
    usage_percent: int
    initial: str


def _card(bot) -> BotCard:
    usage = bots.usage(bot)
    return BotCard(
        id=bot.id,
        public_id=bot.public_id,
        name=bot.name,
        avatar_url=bot.avatar_url,
        accent_color=bot.accent_color,
        status=bot.status,
        usage_label=usage.label,
        usage_percent=usage.percent,
        initial=bot.name[:1].upper(),
    )


class BotsState(AuthState):
    cards: list[BotCard] = []
    total: int = 0
    search: str = ""
    create_open: bool = False
    rename_id: int = 0
    rename_value: str = ""

    @rx.var
    def show_search(self) -> bool:
        return self.total > SEARCH_THRESHOLD

    @rx.var
    def count_label(self) -> str:
        return f"{self.total} bot" if self.total == 1 else f"{self.total} bots"

    @rx.event
    async def load(self):
        search = self.search
        done = await calls.as_member(
            self,
            lambda s, a: (bots.count_bots(s, a), bots.list_bots(s, a, search=search)),
            quiet=True,
        )
        total, found = done.value or (0, [])
        self.total, self.cards = total, [_card(b) for b in found]

    @rx.event
    def set_search(self, value: str):
        self.search = value[:100]
        return BotsState.load

    @rx.event
    async def open_bot(self, bot_id: int):
        """A click on a bot's card: that bot becomes the sidebar's bot, and its Playground opens."""
        if not any(card.id == bot_id for card in self.cards):
            return rx.toast.error("Bot not found.")
        scope = await self.get_state(BotScopeState)
        scope.chosen_bot = str(bot_id)
        return rx.redirect(OPEN_SECTION)

    @rx.event
    def set_create_open(self, value: bool):
        self.create_open = value

    @rx.event
    async def create(self, form: dict):
        try:
            data = BotCreate(name=str(form.get("name", "")))
        except ValueError:
            return rx.toast.error("Give the bot a name of 1 to 80 characters.")
        done = await calls.as_member(self, lambda s, a: bots.create_bot(s, a, data))
        if not done.ok:
            return done.toast
        self.create_open = False
        return [BotsState.load, rx.toast.success(f"Created {done.value.name}.")]

    @rx.event
    def start_rename(self, bot_id: int, name: str):
        self.rename_id, self.rename_value = bot_id, name

    @rx.event
    def cancel_rename(self):
        self.rename_id = 0

    @rx.event
    def rename_open_change(self, is_open: bool):
        if not is_open:
            self.rename_id = 0

    @rx.event
    async def rename(self, form: dict):
        bot_id, name = self.rename_id, form.get("name", "")
        done = await calls.as_member(self, lambda s, a: bots.rename_bot(s, a, bot_id, name))
        if not done.ok:
            return done.toast
        self.rename_id = 0
        return [BotsState.load, rx.toast.success("Renamed.")]

    @rx.event
    async def delete(self, bot_id: int):
        done = await calls.as_member(self, lambda s, a: bots.delete_bot(s, a, bot_id))
        if not done.ok:
            return done.toast
        return [BotsState.load, rx.toast.success("Bot deleted.")]
