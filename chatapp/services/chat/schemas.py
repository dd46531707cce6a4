"""The shapes of a chat request where the API, the engine and the dashboard meet.

`PlaygroundTweaks` are a bot's answering settings tried before they are saved (instructions,
model, temperature): the dashboard's playground checks its fields with this schema, the members'
playground API takes the same fields in `PlaygroundIn`, and the engine validates them with it
before honouring them for a member (`begin.py`). The limits are the bot's own (`bots/fields.py`).
"""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

from chatapp.core.schemas import limited_text
from chatapp.services.bots.fields import (
    MAX_INSTRUCTIONS,
    MAX_MODEL,
    MAX_TEMPERATURE,
    MIN_TEMPERATURE,
)

MAX_MESSAGE_FIELD = 100_000  # what a request may carry; MAX_MESSAGE_CHARS (a setting) is the limit
MAX_SESSION_FIELD = 200  # the session id's own rule (8-64 of A-Z a-z 0-9 - _) is the engine's
MAX_AUDIENCE_KEY = 40

Instructions = limited_text(
    MAX_INSTRUCTIONS, "Instructions are limited to {limit:,} characters.", strip=False
)
NO_SPACES = "A model name has no spaces, like gpt-4o-mini."
TEMPERATURE_RANGE = f"Temperature must be between {MIN_TEMPERATURE:g} and {MAX_TEMPERATURE:g}."


class PlaygroundTweaks(BaseModel):
    instructions: Instructions | None = Field(
        default=None, description="Instructions to try instead of the bot's (not saved)."
    )
    model: str | None = Field(
        default=None,
        json_schema_extra={"maxLength": MAX_MODEL},
        description="A model to try instead of the bot's (with an LLM provider); empty: the bot's.",
    )
    temperature: float | None = Field(
        default=None,
        json_schema_extra={"minimum": MIN_TEMPERATURE, "maximum": MAX_TEMPERATURE},
        description="A temperature to try instead of the bot's.",
    )

    @field_validator("model")
    @classmethod
    def _model(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        if len(value) > MAX_MODEL:
            raise ValueError(f"A model name is at most {MAX_MODEL} characters.")
        if any(c.isspace() for c in value):
            raise ValueError(NO_SPACES)
        return value or None

    @field_validator("temperature")
    @classmethod
    def _temperature(cls, value: float | None) -> float | None:
        if value is not None and not MIN_TEMPERATURE <= value <= MAX_TEMPERATURE:
            raise ValueError(TEMPERATURE_RANGE)
        return value


class PlaygroundIn(PlaygroundTweaks):
    """A member's question to a bot (the dashboard playground's request, over HTTP)."""

    message: str = Field(max_length=MAX_MESSAGE_FIELD)
    session_id: str | None = Field(default=None, max_length=MAX_SESSION_FIELD)
    stream: bool = False
    audience: str | None = Field(
        default=None,
        max_length=MAX_AUDIENCE_KEY,
        description="Talk as this audience (a key of the bot's audiences).",
    )
