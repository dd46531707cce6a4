"""The Connect section: the embed code, the widget key, the allowed domains, a preview.

The widget key is publishable (every page that embeds the widget shows it), so the embed code
has the key in use on every visit (services/bots/widget_keys.py derives it again; only its hash
is stored). A key that cannot be shown again (made before that) leaves a placeholder and a
one-click way to add a readable key while the old one keeps working. Regenerating revokes.
"""

from __future__ import annotations

import html

import reflex as rx
from pydantic import ValidationError

from chatapp.components.widget_preview import text_on
from chatapp.core.config import get_settings
from chatapp.services.accounts import refused_origins
from chatapp.services.bots import bots
from chatapp.services.models import Bot, BotUpdate
from chatapp.state import calls
from chatapp.state.bot_scope import BotScopeState
from chatapp.state.settings import field_errors

KEY_PLACEHOLDER = "YOUR_WIDGET_KEY"
INLINE_TARGET = "chatapp-chat"
# Queues Chatapp(...) calls made before the async script has loaded; widget.js replays them.
API_STUB = (
    "<script>window.Chatapp=window.Chatapp||function(){(Chatapp.q=Chatapp.q||[]).push(arguments)};"
    "</script>"
)


def embed_code(*, origin: str, bot_id: str, key: str, inline: bool) -> str:
    """The code to paste into a website: the JS API's stub, then the script tag (the inline
    variant first has the element the chat fills)."""
    attrs = [
        f'src="{html.escape(origin.rstrip("/"))}/widget.js"',
        f'data-bot-id="{html.escape(bot_id)}"',
        f'data-key="{html.escape(key or KEY_PLACEHOLDER)}"',
    ]
    if inline:
        attrs += ['data-mode="inline"', f'data-target="#{INLINE_TARGET}"']
    script = API_STUB + "\n<script " + " ".join(attrs) + " async></script>"
    if inline:
        return f'<div id="{INLINE_TARGET}" style="height: 600px"></div>\n{script}'
    return script


class ConnectState(BotScopeState):
    """View data and actions of /connect for the chosen bot."""

    origin: str = ""
    variant: str = "bubble"
    widget_key: str = ""  # the publishable key in use ("" when none or not readable)
    key_prefix: str = ""
    key_created: str = ""
    domains_text: str = ""
    errors: dict[str, str] = {}
    # websites where the widget was refused (not in the allowed domains): host, times, when last
    refused: list[dict[str, str]] = []

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
            key=self.widget_key,
            inline=self.variant == "inline",
        )

    @rx.var
    def accent_text(self) -> str:
        return text_on(self.accent_color)

    @rx.event
    async def load(self):
        """on_load after `load_bots`: the bot, its key in use, where the app is served."""
        self.widget_key, self.errors = "", {}
        # The address the dashboard is reached at is where widget.js is served (same server).
        origin = self.router.url.origin
        self.origin = origin if origin.startswith("http") else get_settings().public_url
        if not self.bot_id:
            return None
        bot_id = self.bot_id
        done = await calls.as_member(
            self,
            lambda s, a: (
                bots.get_bot(s, a, bot_id),
                bots.shown_widget_key(s, a, bot_id),
                refused_origins.recent(s, a, bot_id),
            ),
        )
        if not done.ok:
            return done.toast
        bot, (key, plain), refused = done.value
        self._show_bot(bot)
        self._show_key(key, plain)
        self.refused = [
            {
                "host": r.host,
                "times": f"{r.count} time{'s' if r.count != 1 else ''}",
                "last": r.last_seen.strftime("%Y-%m-%d %H:%M UTC"),
            }
            for r in refused
        ]
        return None

    def _show_bot(self, bot: Bot) -> None:
        self.domains_text = "\n".join(bot.allowed_domains or [])
        self.name, self.welcome_message = bot.name, bot.welcome_message
        self.starters = list(bot.starter_questions or [])
        self.avatar_url, self.accent_color = bot.avatar_url, bot.accent_color
        self.position, self.button_text = bot.position, bot.button_text
        self.show_button_text = bot.show_button_text

    def _show_key(self, key, plain: str | None) -> None:
        self.widget_key = plain or ""
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
        """A new key in the embed code; any older key stops working at once."""
        return await self._new_key(keep_older=False)

    @rx.event
    async def add_key(self):
        """A readable key for the embed code while the old one (not readable) keeps working."""
        return await self._new_key(keep_older=True)

    async def _new_key(self, *, keep_older: bool):
        bot_id = self.bot_id
        done = await calls.as_member(
            self, lambda s, a: bots.create_widget_key(s, a, bot_id, keep_older=keep_older)
        )
        if not done.ok:
            return done.toast
        key, plain = done.value
        self._show_key(key, plain)
        kept = " The old key keeps working until you revoke keys." if keep_older else ""
        return rx.toast.success("New key created: the embed code has it." + kept)

    @rx.event
    async def revoke_keys(self):
        bot_id = self.bot_id
        done = await calls.as_member(self, lambda s, a: bots.revoke_widget_keys(s, a, bot_id))
        if not done.ok:
            return done.toast
        self.widget_key, self.key_prefix, self.key_created = "", "", ""
        return rx.toast.success(f"Revoked {done.value} key(s): the widget stops answering.")

    @rx.event
    async def save_domains(self, form: dict):
        self.domains_text = str(form.get("allowed_domains", self.domains_text))
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
