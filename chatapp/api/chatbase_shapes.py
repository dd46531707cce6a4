"""Chatbase API v1's request and response shapes (its field names, camelCase included), and how
they map onto ours.

Ids: a `chatbotId` is our bot's public id (`bot_...`); a `conversationId` is the conversation's
session id, kept as it is when it fits our rule (8-64 of A-Z a-z 0-9 - _), otherwise replaced by
a stable digest of it (`cb-` and 40 hex digits), so each of the client's ids still names one
conversation. The settings Chatbase has and we do not are accepted and listed as ignored.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from chatapp.core.errors import ValidationFailed
from chatapp.services.chat.request import SESSION_ID
from chatapp.services.models import Bot, BotStatus, WidgetPosition

MAX_ID = 500  # a conversation id of the client's own making: hashed when it does not fit ours
MAX_NAME = 80  # our bots' names; Chatbase asks for at least 3 characters


def _utc(moment: datetime) -> datetime:
    """Times read back from SQLite lack their zone; they are UTC (and say so in the JSON)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


UtcTime = Annotated[datetime, AfterValidator(_utc)]

# ------------------------------------------------------------------------------------ chat


class ChatMessageIn(BaseModel):
    role: Literal["user", "assistant"]
    content: str = Field(max_length=100_000)


class ChatIn(BaseModel):
    chatbotId: str = Field(max_length=64)
    messages: list[ChatMessageIn] = Field(max_length=1000)
    conversationId: str | None = Field(default=None, max_length=MAX_ID)
    contactId: str | None = Field(default=None, max_length=MAX_ID)
    model: str | None = Field(default=None, max_length=100)
    temperature: float | None = Field(default=None, ge=0, le=1)
    stream: bool = False

    def question_and_history(self) -> tuple[str, tuple[tuple[str, str], ...]]:
        """The last message (the visitor's question) and the turns before it."""
        if not self.messages:
            raise ValidationFailed("messages: send at least the user's question.")
        *earlier, last = self.messages
        if last.role != "user":
            raise ValidationFailed("messages: the last message must be the user's question.")
        return last.content, tuple((m.role, m.content) for m in earlier)


class ChatOut(BaseModel):
    text: str = Field(description="The answer (Chatbase's only field).")
    conversationId: str = Field(description="Chatapp: where the conversation is stored.")
    answered: bool = Field(description="Chatapp: false when the bot gave its fallback message.")
    sources: list[dict[str, Any]] = Field(description="Chatapp: the answer's numbered sources.")


def session_id_for(conversation_id: str | None) -> str | None:
    """Our session id for the client's conversation id (None: a new conversation)."""
    if not conversation_id:
        return None
    if SESSION_ID.fullmatch(conversation_id):
        return conversation_id
    return "cb-" + hashlib.sha256(conversation_id.encode()).hexdigest()[:40]


# ------------------------------------------------------------------------------------ bots


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CreateIn(Strict):
    chatbotName: str = Field(min_length=3, max_length=MAX_NAME)
    sourceText: str | None = None


class UpdateDataIn(Strict):
    chatbotId: str = Field(max_length=64)
    chatbotName: str = Field(min_length=3, max_length=MAX_NAME)
    sourceText: str | None = None


class ChatbotIdOut(BaseModel):
    chatbotId: str


class MessageOut(BaseModel):
    message: str


class ChatbotOut(BaseModel):
    id: str
    name: str
    status: str = Field(description="training, ready or failed (the bot's sources).")
    model: str
    instructions: str
    visibility: Literal["public", "private"]
    created_at: UtcTime
    updated_at: UtcTime


class ChatbotsOut(BaseModel):
    chatbots: list[ChatbotOut]


def chatbot_out(bot: Bot, status: str, default_model: str) -> ChatbotOut:
    return ChatbotOut(
        id=bot.public_id,
        name=bot.name,
        status=status,
        model=bot.model or default_model,
        instructions=bot.instructions,
        visibility="public" if bot.status == BotStatus.ACTIVE else "private",
        created_at=bot.created_at,
        updated_at=bot.updated_at,
    )


# ------------------------------------------------------------------------------------ settings


class Styles(BaseModel):
    model_config = ConfigDict(extra="allow")

    theme: Literal["light", "dark"] | None = None
    buttonColor: str | None = Field(default=None, max_length=20)
    displayName: str | None = Field(default=None, max_length=200)
    alignChatButton: Literal["left", "right"] | None = None
    userMessageColor: str | None = Field(default=None, max_length=20)
    autoOpenChatWindowAfter: int | None = None


class SettingsIn(BaseModel):
    """Every setting Chatbase documents; unknown ones are accepted and reported as ignored."""

    model_config = ConfigDict(extra="allow")

    chatbotId: str = Field(max_length=64)
    name: str | None = Field(default=None, max_length=MAX_NAME)
    instructions: str | None = None
    initialMessages: list[str] | None = Field(default=None, max_length=20)
    suggestedMessages: list[str] | None = Field(default=None, max_length=50)
    visibility: Literal["public", "private"] | None = None
    domains: list[str] | None = Field(default=None, max_length=200)
    onlyAllowOnAddedDomains: bool | None = None
    ipLimit: int | None = None
    ipLimitTimeframe: int | None = None
    ipLimitMessage: str | None = None
    model: str | None = Field(default=None, max_length=100)
    temp: float | None = Field(default=None, ge=0, le=1)
    styles: Styles | None = None
    collectCustomerInformation: dict[str, Any] | None = None


class SettingsOut(BaseModel):
    message: str
    ignored: list[str] = Field(
        description="Chatapp: the settings received that Chatapp has no equivalent for."
    )


# What ours are called: a setting not listed (nor mapped below) is reported as ignored.
SAME_MEANING = {"name": "name", "instructions": "instructions", "model": "model"}
STYLE_MEANING = {"buttonColor": "accent_color", "alignChatButton": "position"}
THEIR_NAMES = {  # ours -> theirs, to word a refusal of a value in the client's terms
    **{ours: theirs for theirs, ours in SAME_MEANING.items()},
    **{ours: f"styles.{theirs}" for theirs, ours in STYLE_MEANING.items()},
    "temperature": "temp",
    "welcome_message": "initialMessages",
    "starter_questions": "suggestedMessages",
    "status": "visibility",
    "allowed_domains": "domains",
}
POSITIONS = {"left": WidgetPosition.BOTTOM_LEFT, "right": WidgetPosition.BOTTOM_RIGHT}


def settings_changes(body: SettingsIn, bot: Bot) -> tuple[dict[str, Any], list[str]]:
    """Our bot fields for Chatbase's settings, and the names of those we have no place for."""
    given = body.model_dump(exclude_unset=True, exclude={"chatbotId"})
    changes = {ours: given[theirs] for theirs, ours in SAME_MEANING.items() if theirs in given}
    if "temp" in given:
        changes["temperature"] = given["temp"]
    if body.initialMessages is not None:
        changes["welcome_message"] = "\n\n".join(m.strip() for m in body.initialMessages if m)
    if body.suggestedMessages is not None:
        changes["starter_questions"] = body.suggestedMessages
    if body.visibility is not None:
        active = body.visibility == "public"
        changes["status"] = BotStatus.ACTIVE if active else BotStatus.PAUSED
    handled = {*SAME_MEANING, "temp", "initialMessages", "suggestedMessages", "visibility"}
    handled |= {"domains", "onlyAllowOnAddedDomains", "styles"}
    ignored = sorted(set(given) - handled)
    ignored += _domains(body, bot, changes)
    ignored += _styles(body.styles, changes)
    return {k: v for k, v in changes.items() if v is not None}, ignored  # null: unchanged


def _domains(body: SettingsIn, bot: Bot, changes: dict[str, Any]) -> list[str]:
    """Chatbase keeps a list of domains and a switch that enforces it; a bot of ours enforces its
    list whenever it has one. So the list is kept only while it is enforced."""
    enforce = body.onlyAllowOnAddedDomains
    if enforce is None:
        enforce = bool(bot.allowed_domains)  # unchanged: as the bot is now
    if not enforce:
        if body.onlyAllowOnAddedDomains is False:
            changes["allowed_domains"] = []
        return ["domains (enforced only with onlyAllowOnAddedDomains)"] if body.domains else []
    if body.domains is not None:
        if not [d for d in body.domains if d.strip()]:
            raise ValidationFailed("domains: list the domains the chatbot may be used on.")
        changes["allowed_domains"] = body.domains
    elif not bot.allowed_domains:
        raise ValidationFailed("domains: list the domains to allow with onlyAllowOnAddedDomains.")
    return []


def _styles(styles: Styles | None, changes: dict[str, Any]) -> list[str]:
    if styles is None:
        return []
    given = styles.model_dump(exclude_unset=True)
    if "buttonColor" in given:
        changes["accent_color"] = given["buttonColor"]
    if given.get("alignChatButton"):
        changes["position"] = POSITIONS[given["alignChatButton"]]
    return [f"styles.{name}" for name in sorted(set(given) - set(STYLE_MEANING))]


# ------------------------------------------------------------------------------------ reads


class ChatMessageOut(BaseModel):
    id: str
    role: Literal["user", "assistant"]
    content: str
    type: Literal["text"] = "text"


class ConversationOut(BaseModel):
    id: str
    chatbot_id: str
    created_at: UtcTime
    updated_at: UtcTime
    source: Literal["api", "website"]
    messages: list[ChatMessageOut]


class ConversationsOut(BaseModel):
    data: list[ConversationOut]


class LeadOut(BaseModel):
    id: str
    name: str
    email: str | None = Field(default=None, description="Left out when the lead gave none.")
    phone: str
    created_at: UtcTime
    chatbot_id: str
    account_id: str = Field(description="The workspace's id.")


class LeadsOut(BaseModel):
    collectedCustomers: list[LeadOut]
