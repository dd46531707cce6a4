"""The Playground: chat with the current bot as a visitor would, and try settings before saving.

Answers come from the same pipeline as the widget (`chat_engine.stream`, channel "playground"),
streamed into `stream_text` while they arrive and kept in `messages` once done. The instructions,
model and temperature typed beside the chat are sent with every question (unsaved tweaks, honoured
only for members); "Save to bot" writes them to the bot (owners and admins; the service checks it
too).
"""

from __future__ import annotations

import logging
import secrets
import time

import reflex as rx

from chatapp.components.chat_view import BubbleView, CitationView, citation_view, format_time
from chatapp.core.config import get_settings
from chatapp.core.schemas import field_errors
from chatapp.services.bots import bots, providers
from chatapp.services.bots.fields import MAX_TEMPERATURE, MIN_TEMPERATURE
from chatapp.services.chat import engine as chat_engine
from chatapp.services.chat.request import ChatRequest
from chatapp.services.chat.schemas import PlaygroundTweaks
from chatapp.services.models import BotUpdate, utcnow
from chatapp.state import calls
from chatapp.state.bot_scope import BotScopeState

log = logging.getLogger(__name__)

TEMPERATURE_LABEL = f"Temperature ({MIN_TEMPERATURE:g} to {MAX_TEMPERATURE:g})"
FLUSH_SECONDS = 0.05  # streamed tokens reach the page at most this often (fewer websocket frames)


def new_session_id() -> str:
    return "playground-" + secrets.token_hex(8)


def _tweak_error(**field) -> str:
    """The playground schema's words about one tweak (what the engine would refuse)."""
    (name,) = field
    return field_errors(PlaygroundTweaks, **field).get(name, "")


def temperature_error(raw: str) -> str:
    try:
        value = float(raw)
    except ValueError:
        return f"Enter a number between {MIN_TEMPERATURE:g} and {MAX_TEMPERATURE:g}, like 0.3."
    return _tweak_error(temperature=value)


def instructions_error(text: str) -> str:
    return _tweak_error(instructions=text)


def model_error(name: str) -> str:
    return _tweak_error(model=name)


def question_error(text: str) -> str:
    if not text.strip():
        return "Type a question first."
    limit = get_settings().max_message_chars
    if len(text.strip()) > limit:
        return f"At most {limit:,} characters."
    return ""


class PlaygroundState(BotScopeState):
    messages: list[BubbleView] = []
    stream_text: str = ""
    streaming: bool = False
    question: str = ""
    question_error: str = ""
    passages: list[CitationView] = []  # the sources of the latest answer

    instructions: str = ""
    model: str = ""
    audience: str = "none"  # the audience to talk as, or "none"
    audience_options: list[list[str]] = []  # [key, label] of the bot's audiences
    temperature: str = "0.3"
    instructions_error: str = ""
    model_error: str = ""
    temperature_error: str = ""
    saved_instructions: str = ""
    saved_model: str = ""
    saved_temperature: str = "0.3"
    provider_source: str = "offline"  # workspace, installation or offline
    provider_model: str = ""

    _session_id: str = ""
    _session_bot: int = 0

    @rx.var
    def has_unsaved_tweaks(self) -> bool:
        return (self.instructions, self.model.strip(), self.temperature) != (
            self.saved_instructions,
            self.saved_model,
            self.saved_temperature,
        )

    @rx.var
    def tweaks_valid(self) -> bool:
        return not (self.instructions_error or self.model_error or self.temperature_error)

    @rx.var
    def asked(self) -> bool:
        return any(m.role == "user" for m in self.messages)

    @rx.var
    def can_retry(self) -> bool:
        return not self.streaming and self.asked

    @rx.var
    def offline(self) -> bool:
        return self.provider_source == "offline"

    # --- loading ------------------------------------------------------------------------------

    @rx.event
    async def load(self):
        """on_load: the bot's saved settings; a new chat when the bot changed."""
        if not self.bot_id:
            return None
        bot_id = self.bot_id
        done = await calls.as_member(
            self, lambda s, a: (bots.get_bot(s, a, bot_id), providers.get_provider(s, a))
        )
        if not done.ok:
            return done.toast
        bot, provider = done.value
        saved = (bot.instructions, bot.model, _format_temperature(bot.temperature))
        options = [[a["key"], a["label"]] for a in bot.audiences or []]
        self.audience_options = options
        if self.audience not in {key for key, _ in options}:
            self.audience = "none"
        self.provider_source, self.provider_model = provider.source, provider.model
        changed_bot = self._session_bot != self.bot_id
        self.saved_instructions, self.saved_model, self.saved_temperature = saved
        if changed_bot:
            self._start_new_chat()
            self.instructions, self.model, self.temperature = saved
            self.instructions_error = self.model_error = self.temperature_error = ""
        return None

    def _start_new_chat(self) -> None:
        self._session_id = new_session_id()
        self._session_bot = self.bot_id
        self.messages, self.passages, self.stream_text = [], [], ""
        self.question_error = ""

    # --- inputs -------------------------------------------------------------------------------

    @rx.event
    def set_question(self, value: str):
        self.question = value
        if self.question_error:
            self.question_error = question_error(value)

    @rx.event
    def set_instructions(self, value: str):
        self.instructions = value
        self.instructions_error = instructions_error(value)

    @rx.event
    def set_model(self, value: str):
        self.model = value
        self.model_error = model_error(value)

    @rx.event
    def set_audience(self, value: str):
        """Talk as this audience (seed 003); a new chat so the pick applies from the start."""
        self.audience = value or "none"
        self._start_new_chat()

    @rx.event
    def set_temperature(self, value: str):
        self.temperature = value.strip()
        self.temperature_error = temperature_error(self.temperature)

    # --- chatting -----------------------------------------------------------------------------

    @rx.event(background=True)
    async def ask(self, form: dict):
        """Send the typed question; the answer streams into the page."""
        async with self:
            text = str(form.get("question", self.question) or "")
            self.question_error = question_error(text)
            if self.question_error or self.streaming:
                return
            if not self.tweaks_valid:
                yield rx.toast.error("Fix the settings beside the chat first.")
                return
            self.messages.append(BubbleView(role="user", content=text.strip(), time=_now()))
            self.question = ""
            request = await self._request(text.strip())
        async for update in _answer(self, request):
            yield update

    @rx.event(background=True)
    async def retry(self):
        """Ask the last question again with the settings as they are now."""
        async with self:
            if self.streaming:
                return
            if not self.tweaks_valid:
                yield rx.toast.error("Fix the settings beside the chat first.")
                return
            last = next((m for m in reversed(self.messages) if m.role == "user"), None)
            if last is None:
                yield rx.toast.error("Ask a question first.")
                return
            while self.messages and self.messages[-1].role != "user":
                self.messages.pop()  # the answer being replaced
            request = await self._request(last.content)
        async for update in _answer(self, request):
            yield update

    @rx.event
    def reset_chat(self):
        """Forget this conversation: the next question starts a new one."""
        if self.streaming:
            return rx.toast.error("Wait for the answer to finish.")
        self._start_new_chat()
        return None

    async def _request(self, text: str) -> ChatRequest:
        if not self._session_id or self._session_bot != self.bot_id:
            self._start_new_chat()
        actor = await calls.off_loop(calls.member, self._who())
        return ChatRequest(
            bot_id=self.bot_public_id,
            message=text,
            session_id=self._session_id,
            actor=actor,
            channel="playground",
            instructions=self.instructions,
            model=self.model.strip() or None,
            temperature=float(self.temperature),
            audience=None if self.audience == "none" else self.audience,
        )

    # --- settings -----------------------------------------------------------------------------

    @rx.event
    async def save_tweaks(self):
        """Write the instructions, model and temperature to the bot (owners and admins)."""
        if not self.tweaks_valid:
            return rx.toast.error("Fix the settings first.")
        try:
            data = BotUpdate(
                instructions=self.instructions,
                model=self.model.strip(),
                temperature=float(self.temperature),
            )
        except ValueError:
            return rx.toast.error("These settings cannot be saved: check each field.")
        bot_id = self.bot_id
        done = await calls.as_member(self, lambda s, a: bots.update_bot(s, a, bot_id, data))
        if not done.ok:
            return done.toast
        bot = done.value
        saved = (bot.instructions, bot.model, _format_temperature(bot.temperature))
        self.saved_instructions, self.saved_model, self.saved_temperature = saved
        self.instructions, self.model, self.temperature = saved
        return rx.toast.success(f"Saved to {self.bot_name}.")

    @rx.event
    def revert_tweaks(self):
        """Back to the bot's saved settings."""
        self.instructions = self.saved_instructions
        self.model = self.saved_model
        self.temperature = self.saved_temperature
        self.instructions_error = self.model_error = self.temperature_error = ""


async def _answer(state: PlaygroundState, request: ChatRequest):
    """Relay the pipeline's events into the page (`state` is the background task's proxy)."""
    async with state:
        state.streaming, state.stream_text, state.passages = True, "", []
    answer = BubbleView(role="assistant")
    pending: list[str] = []
    last_flush = time.monotonic()
    try:
        async for event in chat_engine.stream(request):
            if event.type == "token":
                pending.append(event.data["content"])
                if time.monotonic() - last_flush >= FLUSH_SECONDS:
                    async with state:
                        state.stream_text += "".join(pending)
                    pending.clear()
                    last_flush = time.monotonic()
            elif event.type == "sources":
                answer.citations = [citation_view(s) for s in event.data["sources"]]
            elif event.type == "done":
                answer.fell_back = not event.data["answered"]
            elif event.type == "error":
                answer.error = event.data["message"]
    except Exception:  # the pipeline reports its own failures as events; this is a last resort
        log.exception("playground answer failed")
        answer.error = chat_engine.UNAVAILABLE
    finally:
        async with state:
            answer.content = state.stream_text + "".join(pending)
            answer.time = _now()
            state.messages.append(answer)
            state.passages = answer.citations
            state.stream_text, state.streaming = "", False
    if answer.error:
        yield rx.toast.error(answer.error)


def _now() -> str:
    return format_time(utcnow())


def _format_temperature(value: float) -> str:
    return f"{value:g}"
