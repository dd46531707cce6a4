"""The Bots page: cards with usage, create, rename, delete, search."""

from __future__ import annotations

import dataclasses

import reflex as rx

from chatapp.services import bots
from chatapp.services.db import session_scope
from chatapp.services.errors import ServiceError
from chatapp.services.models import BotCreate
from chatapp.state.auth import AuthState

SEARCH_THRESHOLD = 6  # the search box appears once a workspace has more bots than this


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

    @rx.event
    def load(self):
        try:
            with session_scope() as session:
                actor = self.actor(session)
                self.total = bots.count_bots(session, actor)
                self.cards = [_card(b) for b in bots.list_bots(session, actor, search=self.search)]
        except ServiceError:
            self.cards, self.total = [], 0

    @rx.event
    def set_search(self, value: str):
        self.search = value[:100]
        return BotsState.load

    @rx.event
    def set_create_open(self, value: bool):
        self.create_open = value

    @rx.event
    def create(self, form: dict):
        try:
            data = BotCreate(name=str(form.get("name", "")))
        except ValueError:
            return rx.toast.error("Give the bot a name of 1 to 80 characters.")
        try:
            with session_scope() as session:
                bot = bots.create_bot(session, self.actor(session), data)
        except ServiceError as error:
            return rx.toast.error(error.message)
        self.create_open = False
        return [BotsState.load, rx.toast.success(f"Created {bot.name}.")]

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
    def rename(self, form: dict):
        try:
            with session_scope() as session:
                bots.rename_bot(session, self.actor(session), self.rename_id, form.get("name", ""))
        except ServiceError as error:
            return rx.toast.error(error.message)
        self.rename_id = 0
        return [BotsState.load, rx.toast.success("Renamed.")]

    @rx.event
    def delete(self, bot_id: int):
        try:
            with session_scope() as session:
                bots.delete_bot(session, self.actor(session), bot_id)
        except ServiceError as error:
            return rx.toast.error(error.message)
        return [BotsState.load, rx.toast.success("Bot deleted.")]
