"""The Connect section: the embed code, the widget key, the allowed domains, a preview.

The plain widget key exists only in the answer to creating it: it is kept here while the page is
open (so it can be copied into the embed code) and never again; afterwards the code shows a
placeholder. A new key revokes the old ones at once (services/bots.py).
"""

from __future__ import annotations

import html

import reflex as rx
from pydantic import ValidationError

from chatapp.components.widget_preview import text_on
from chatapp.core.config import get_settings
from chatapp.services.bots import bots
from chatapp.services.models import Bot, BotUpdate
from chatapp.state import calls
from chatapp.state.bot_scope import BotScopeState
from chatapp.state.settings import field_errors

KEY_PLACEHOLDER = "YOUR_WIDGET_KEY"
INLINE_TARGET = "chatapp-chat"


def embed_code(*, origin: str, bot_id: str, key: str, inline: bool) -> str:
    """The tag to paste into a website (the inline variant fills an element of the page)."""
    attrs = [
        f'src="{html.escape(origin.rstrip("/"))}/widget.js"',
        f'data-bot-id="{html.escape(bot_id)}"',
        f'data-key="{html.escape(key or KEY_PLACEHOLDER)}"',
    ]
    if inline:
        attrs += ['data-mode="inline"', f'data-target="#{INLINE_TARGET}"']
    script = "<script " + " ".join(attrs) + " async></script>"
    if inline:
        return f'<div id="{INLINE_TARGET}" style="height: 600px"></div>\n{script}'
    return script


class ConnectState(BotScopeState):
    """View data and actions of /connect for the chosen bot."""

    origin: str = ""
    variant: str = "bubble"
    new_key: str = ""  # the plain key, right after creating it; never loaded from anywhere
    key_prefix: str = ""
    key_created: str = ""
    domains_text: str = ""
    errors: dict[str, str] = {}

    # the bot's saved appearance, for the preview
    name: str = ""
    welcome_message: str = ""
    starters: list[str] = []
    avatar_url: str = ""
    accent_color: str = "#4f46e5"
    position: str = "bottom-right"
    show_button_text: bool = False
    button_text: str = ""

    @rx.var
    def embed_code(self) -> str:
        return embed_code(
            origin=self.origin,
            bot_id=self.bot_public_id,
            key=self.new_key,
            inline=self.variant == "inline",
        )

    @rx.var
    def accent_text(self) -> str:
        return text_on(self.accent_color)

    @rx.event
    async def load(self):
        """on_load after `load_bots`: the bot, its current key's prefix, where the app is served."""
        self.new_key, self.errors = "", {}
        # The address the dashboard is reached at is where widget.js is served (same server).
        origin = self.router.url.origin
        self.origin = origin if origin.startswith("http") else get_settings().public_url
        if not self.bot_id:
            return None
        bot_id = self.bot_id
        done = await calls.as_member(
            self,
            lambda s, a: (bots.get_bot(s, a, bot_id), bots.current_widget_key(s, a, bot_id)),
        )
        if not done.ok:
            return done.toast
        bot, key = done.value
        self._show_bot(bot)
        self._show_key(key)
        return None

    def _show_bot(self, bot: Bot) -> None:
        self.domains_text = "\n".join(bot.allowed_domains or [])
        self.name, self.welcome_message = bot.name, bot.welcome_message
        self.starters = list(bot.starter_questions or [])
        self.avatar_url, self.accent_color = bot.avatar_url, bot.accent_color
        self.position, self.button_text = bot.position, bot.button_text
        self.show_button_text = bot.show_button_text

    def _show_key(self, key) -> None:
        self.key_prefix = key.prefix if key else ""
        self.key_created = key.created_at.strftime("%Y-%m-%d %H:%M UTC") if key else ""

    @rx.event
    def set_variant(self, value: str | list[str]):
        self.variant = "inline" if value == "inline" else "bubble"

    @rx.event
    def set_domains_text(self, value: str):
        self.domains_text = value
        self.errors = {}

    @rx.event
    async def create_key(self):
        """A new key, shown once; any older key stops working at once."""
        bot_id = self.bot_id
        done = await calls.as_member(self, lambda s, a: bots.create_widget_key(s, a, bot_id))
        if not done.ok:
            return done.toast
        key, self.new_key = done.value
        self._show_key(key)
        return rx.toast.success("New key created. Copy the embed code now: it is shown only once.")

    @rx.event
    async def revoke_keys(self):
        bot_id = self.bot_id
        done = await calls.as_member(self, lambda s, a: bots.revoke_widget_keys(s, a, bot_id))
        if not done.ok:
            return done.toast
        self.new_key, self.key_prefix, self.key_created = "", "", ""
        return rx.toast.success(f"Revoked {done.value} key(s): the widget stops answering.")

    @rx.event
    async def save_domains(self):
        lines = [line.strip() for line in self.domains_text.splitlines() if line.strip()]
        try:
            data = BotUpdate(allowed_domains=lines)
        except ValidationError as error:
            self.errors = field_errors(error)
            return rx.toast.error("Fix the allowed domains.")
        bot_id = self.bot_id
        done = await calls.as_member(self, lambda s, a: bots.update_bot(s, a, bot_id, data))
        if not done.ok:
            return done.toast
        self._show_bot(done.value)
        self.errors = {}
        return rx.toast.success("Allowed domains saved.")
