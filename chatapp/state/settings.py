"""The Settings section: the bot's behaviour and appearance, the workspace, a backup download.

Form values live here (not in the browser's form) so the widget preview follows every keystroke.
Saving validates with the services' own schema (`BotUpdate`): each error is shown next to its
field; refusals by the services (roles, limits) become toasts. Only managers (owner, admin) can
save; the page hides what other roles cannot do and the services refuse it anyway.
"""

from __future__ import annotations

import reflex as rx
from pydantic import ValidationError

from chatapp.components.widget_preview import text_on
from chatapp.services.accounts import workspace_defaults, workspaces
from chatapp.services.bots import avatars, bots, providers
from chatapp.services.models import Bot, BotUpdate
from chatapp.services.ops import retention, workspace_export
from chatapp.state import calls
from chatapp.state.bot_scope import BotScopeState

# Text fields the form edits, as the inputs send them.
TEXT_FIELDS = {
    "name",
    "instructions",
    "welcome_message",
    "starters_text",
    "fallback_message",
    "model",
    "temperature",
    "message_limit",
    "accent_color",
    "position",
    "button_text",
    "new_workspace_name",
    "default_limit",
    "retention_days",
}
FIELD_OF = {"starter_questions": "starters_text"}  # schema field -> form field
BEHAVIOUR_FIELDS = ("name", "instructions", "welcome_message", "fallback_message", "model")


def _message(error: dict) -> str:
    """One pydantic error in the words of the form."""
    kind, ctx = error.get("type", ""), error.get("ctx") or {}
    if kind == "string_too_long":
        return f"Use at most {ctx.get('max_length')} characters."
    if kind == "string_too_short":
        return "This cannot be empty."
    if kind == "greater_than_equal":
        return f"Use {ctx.get('ge')} or more."
    if kind == "less_than_equal":
        return f"Use at most {ctx.get('le')}."
    if kind == "enum":
        return "Choose one of the options."
    message = str(error.get("msg", "This value is not valid.")).removeprefix("Value error, ")
    return message[:1].upper() + message[1:].rstrip(".") + "."


def field_errors(error: ValidationError) -> dict[str, str]:
    """Pydantic's errors of a schema, keyed by the form field to show them next to."""
    found: dict[str, str] = {}
    for item in error.errors():
        field = str(item["loc"][0]) if item.get("loc") else "form"
        found.setdefault(FIELD_OF.get(field, field), _message(item))
    return found


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _backup_bytes(session, actor) -> tuple[str, bytes]:
    backup = workspace_export.build_backup(session, actor)
    try:
        return backup.filename, backup.path.read_bytes()
    finally:
        backup.path.unlink(missing_ok=True)


class SettingsState(BotScopeState):
    """View data and actions of /settings for the chosen bot."""

    name: str = ""
    instructions: str = ""
    welcome_message: str = ""
    starters_text: str = ""
    fallback_message: str = ""
    model: str = ""
    temperature: str = "0.3"
    message_limit: str = "0"
    usage_label: str = ""
    usage_percent: int = 0

    avatar_url: str = ""
    accent_color: str = "#4f46e5"
    position: str = "bottom-right"
    show_button_text: bool = False
    button_text: str = ""

    new_workspace_name: str = ""
    default_limit: str = ""
    retention_days: str = ""  # empty: conversations are kept for ever
    installation_limit: int = 0
    provider_source: str = ""
    provider_base_url: str = ""
    provider_model: str = ""
    provider_key_hint: str = ""

    errors: dict[str, str] = {}
    saving: bool = False

    # --- what the page shows ------------------------------------------------------------------

    @rx.var
    def starters(self) -> list[str]:
        return _lines(self.starters_text)[:6]

    @rx.var
    def accent_text(self) -> str:
        return text_on(self.accent_color)

    # --- loading ------------------------------------------------------------------------------

    @rx.event
    async def load(self):
        """on_load after `load_bots`: the bot's settings and the workspace's."""
        self.errors = {}
        if not self.bot_id:
            return None
        bot_id, manager = self.bot_id, self.is_manager

        def read(session, actor):
            return (
                bots.get_bot(session, actor, bot_id),
                workspace_defaults.get_bot_defaults(session, actor),
                retention.get_retention(session, actor),
                # Only managers see (and change) where answers come from.
                providers.get_provider(session, actor) if manager else None,
            )

        done = await calls.as_member(self, read)
        if not done.ok:
            return done.toast
        bot, defaults, days, provider = done.value
        self._show_bot(bot)
        self.new_workspace_name = self.workspace_name
        self.default_limit = "" if defaults.message_limit is None else str(defaults.message_limit)
        self.installation_limit = defaults.installation_limit
        self.retention_days = "" if days is None else str(days)
        self._show_provider(provider or providers.ProviderView("", "", "", ""))
        return None

    def _show_bot(self, bot: Bot) -> None:
        for field in BEHAVIOUR_FIELDS:
            setattr(self, field, getattr(bot, field) or "")
        self.starters_text = "\n".join(bot.starter_questions or [])
        self.temperature = f"{bot.temperature:g}"
        self.message_limit = str(bot.message_limit)
        usage = bots.usage(bot)
        self.usage_label, self.usage_percent = usage.label, usage.percent
        self.avatar_url = bot.avatar_url
        self.accent_color = bot.accent_color
        self.position = bot.position
        self.show_button_text = bot.show_button_text
        self.button_text = bot.button_text

    # --- editing ------------------------------------------------------------------------------

    @rx.event
    def set_field(self, field: str, value: str):
        self._set(field, value)

    def _set(self, field: str, value: str) -> None:
        if field not in TEXT_FIELDS:
            return
        setattr(self, field, value)
        if field in self.errors:
            self.errors = {k: v for k, v in self.errors.items() if k != field}

    def _take(self, form: dict) -> None:
        """The text fields as the submitted form holds them: the latest the person typed."""
        for field, value in form.items():
            if field in TEXT_FIELDS and isinstance(value, str):
                self._set(field, value)

    @rx.event
    def set_show_button_text(self, value: bool):
        self.show_button_text = bool(value)

    def _number(self, field: str, text: str, kind: type) -> int | float | None:
        try:
            return kind(text.strip().replace(",", "."))
        except ValueError:
            self.errors = {**self.errors, field: "Enter a number."}
            return None

    async def _save(self, values: dict, success: str):
        """Validate with BotUpdate (errors next to fields), then save through the service."""
        if self.errors:
            return rx.toast.error("Fix the fields marked in red.")
        try:
            data = BotUpdate(**values)
        except ValidationError as error:
            self.errors = field_errors(error)
            return rx.toast.error("Fix the fields marked in red.")
        bot_id = self.bot_id
        done = await calls.as_member(self, lambda s, a: bots.update_bot(s, a, bot_id, data))
        if not done.ok:
            return done.toast
        self._show_bot(done.value)
        return [SettingsState.load_bots, rx.toast.success(success)]

    @rx.event
    async def save_bot(self, form: dict):
        self._take(form)
        self.errors = {}
        temperature = self._number("temperature", self.temperature, float)
        limit = self._number("message_limit", self.message_limit, int)
        values = {field: getattr(self, field) for field in BEHAVIOUR_FIELDS}
        values.update(
            starter_questions=_lines(self.starters_text),
            temperature=temperature,
            message_limit=limit,
        )
        return await self._save(values, "Bot settings saved.")

    @rx.event
    async def save_appearance(self, form: dict):
        self._take(form)
        self.errors = {}
        values = {
            "accent_color": self.accent_color,
            "position": self.position,
            "show_button_text": self.show_button_text,
            "button_text": self.button_text,
        }
        return await self._save(values, "Appearance saved.")

    @rx.event
    async def upload_avatar(self, files: list[rx.UploadFile]):
        """Check and store the avatar at once; a refused file is explained next to the field."""
        if not files:  # the browser refused the file: `avatar_rejected` explains why
            return None
        self.errors = {k: v for k, v in self.errors.items() if k != "avatar"}
        data = await files[0].read(avatars.MAX_AVATAR_BYTES + 1)
        bot_id = self.bot_id
        done = await calls.as_member(
            self, lambda s, a: avatars.set_avatar(s, a, bot_id, data), field="avatar"
        )
        if not done.ok:
            return done.toast
        self.avatar_url = done.value.avatar_url
        return rx.toast.success("Avatar saved.")

    @rx.event
    def avatar_rejected(self, rejected: list[dict]):
        """The browser refused the file before sending it (its type)."""
        self.errors = {**self.errors, "avatar": f"{avatars.REFUSED[:-1]} of at most 500 KB."}

    @rx.event
    async def remove_avatar(self):
        bot_id = self.bot_id
        done = await calls.as_member(self, lambda s, a: avatars.remove_avatar(s, a, bot_id))
        if not done.ok:
            return done.toast
        self.avatar_url = ""
        return rx.toast.success("Avatar removed.")

    # --- workspace ----------------------------------------------------------------------------

    @rx.event
    async def save_workspace_name(self, form: dict):
        self._take(form)
        name = self.new_workspace_name
        done = await calls.as_member(
            self,
            lambda s, a: workspaces.rename_workspace(s, a, name=name),
            field="new_workspace_name",
        )
        if not done.ok:
            return done.toast
        return [SettingsState.require_login, rx.toast.success(f"Renamed to {done.value.name}.")]

    @rx.event
    async def save_default_limit(self, form: dict):
        self._take(form)
        text = self.default_limit.strip()
        limit = None if not text else self._number("default_limit", text, int)
        if text and limit is None:
            return None
        done = await calls.as_member(
            self,
            lambda s, a: workspace_defaults.set_default_message_limit(s, a, limit),
            field="default_limit",
        )
        if not done.ok:
            return done.toast
        return rx.toast.success("Default limit for new bots saved.")

    @rx.event
    async def save_retention(self, form: dict):
        self._take(form)
        days = self.retention_days
        done = await calls.as_member(
            self, lambda s, a: retention.set_retention(s, a, days), field="retention_days"
        )
        if not done.ok:
            return done.toast
        kept = self.retention_days.strip()
        return rx.toast.success(
            f"Conversations are now kept {kept} days." if kept else "Conversations are kept."
        )

    @rx.event
    async def save_provider(self, form: dict):
        given = {k: str(form.get(k, "")) for k in ("base_url", "api_key", "model")}
        done = await calls.as_member(self, lambda s, a: providers.set_provider(s, a, **given))
        if not done.ok:  # shown by the form and as a toast, whatever the error
            self.errors = {**self.errors, "provider": done.error.message}
            return done.toast
        self.errors = {k: v for k, v in self.errors.items() if k != "provider"}
        self._show_provider(done.value)
        return rx.toast.success("LLM provider saved. The key is stored encrypted.")

    @rx.event
    async def clear_provider(self):
        done = await calls.as_member(self, providers.clear_provider)
        if not done.ok:
            return done.toast
        self._show_provider(done.value)
        return rx.toast.success("The workspace's own provider was removed.")

    def _show_provider(self, view: providers.ProviderView) -> None:
        self.provider_source, self.provider_base_url = view.source, view.base_url
        self.provider_model, self.provider_key_hint = view.model, view.key_hint

    @rx.event
    async def download_backup(self):
        """Build the zip in a temporary file, read it, delete it: all in the worker thread."""
        done = await calls.as_member(self, _backup_bytes)
        if not done.ok:
            return done.toast
        filename, data = done.value
        return rx.download(data=data, filename=filename, mime_type="application/zip")
