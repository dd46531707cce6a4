"""Settings > Audiences & routing: the bot's description, the router switch (with the bots it
would route to) and the audiences editor. Saved through `bots.update_bot` with `BotUpdate`,
whose validation (`bot_fields.check_audiences`) speaks in sentences shown above the editor."""

from __future__ import annotations

import reflex as rx
from pydantic import ValidationError

from chatapp.services.bots import bots, routing, routing_scores
from chatapp.services.models import Bot, BotUpdate
from chatapp.state import calls
from chatapp.state.bot_scope import BotScopeState
from chatapp.state.settings import field_errors

AUDIENCE_FIELDS = ("label", "instructions", "starters")


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _with_pool(session, bot: Bot) -> tuple[Bot, list[str]]:
    """The bot and the names of the bots it would route to (read in the worker thread)."""
    pool = routing_scores.candidates(session, routing.RouterRef(bot.id, bot.workspace_id))
    return bot, [c.name for c in pool]


class RoutingSettingsState(BotScopeState):
    description: str = ""
    is_router: bool = False
    routes_to: list[str] = []  # names of the bots a router would send messages to
    # Each audience as the form edits it: key (kept when editing), label, instructions, starters
    # (one starter question per line).
    audiences: list[dict[str, str]] = []
    errors: dict[str, str] = {}

    @rx.event
    async def load(self):
        self.errors = {}
        if not self.bot_id:
            return None
        bot_id = self.bot_id
        done = await calls.as_member(self, lambda s, a: _with_pool(s, bots.get_bot(s, a, bot_id)))
        if not done.ok:
            return done.toast
        self._show(*done.value)
        return None

    def _show(self, bot: Bot, pool: list[str]) -> None:
        self.description, self.is_router = bot.description, bot.is_router
        self.routes_to = pool
        self.audiences = [
            {
                "key": a["key"],
                "label": a["label"],
                "instructions": a.get("instructions", ""),
                "starters": "\n".join(a.get("starter_questions") or []),
            }
            for a in bot.audiences or []
        ]

    @rx.event
    def set_description(self, value: str):
        self.description = value
        self.errors = {k: v for k, v in self.errors.items() if k != "description"}

    @rx.event
    def set_is_router(self, value: bool):
        self.is_router = bool(value)

    @rx.event
    def add_audience(self):
        self.audiences = [
            *self.audiences,
            {"key": "", "label": "", "instructions": "", "starters": ""},
        ]

    @rx.event
    def remove_audience(self, index: int):
        self.audiences = [a for i, a in enumerate(self.audiences) if i != index]

    @rx.event
    def set_audience_field(self, index: int, field: str, value: str):
        if field not in AUDIENCE_FIELDS or not 0 <= index < len(self.audiences):
            return
        self.audiences = [
            {**a, field: value} if i == index else a for i, a in enumerate(self.audiences)
        ]
        self.errors = {k: v for k, v in self.errors.items() if k != "audiences"}

    def _take(self, form: dict) -> None:
        """The texts as submitted with the click (`description`, `label-0`, `starters-1`...):
        never older than the screen, whatever the debounced inputs sent before."""
        if isinstance(form.get("description"), str):
            self.description = form["description"]
        self.audiences = [
            {
                **audience,
                **{
                    field: form[f"{field}-{i}"]
                    for field in AUDIENCE_FIELDS
                    if isinstance(form.get(f"{field}-{i}"), str)
                },
            }
            for i, audience in enumerate(self.audiences)
        ]

    @rx.event
    async def save(self, form: dict):
        self._take(form)
        self.errors = {}
        values = {
            "description": self.description.strip(),
            "is_router": self.is_router,
            "audiences": [
                {
                    "key": a["key"],
                    "label": a["label"],
                    "instructions": a["instructions"],
                    "starter_questions": _lines(a["starters"]),
                }
                for a in self.audiences
            ],
        }
        try:
            data = BotUpdate(**values)
        except ValidationError as error:
            self.errors = field_errors(error)
            return rx.toast.error("Fix the fields marked in red.")
        bot_id = self.bot_id
        done = await calls.as_member(
            self, lambda s, a: _with_pool(s, bots.update_bot(s, a, bot_id, data))
        )
        if not done.ok:
            return done.toast
        self._show(*done.value)
        return rx.toast.success("Audiences and routing saved.")
