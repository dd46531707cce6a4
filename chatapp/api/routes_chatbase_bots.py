"""Chatbase API v1's chatbot routes: list, create from a text, retrain from a new text, change
settings, delete. A chatbot is one of the token's workspace's bots, its id the bot's public id.

`create-chatbot`'s `sourceText` becomes a pasted text source, queued for training like any
(`get-chatbots` says `training` until it is ready); `update-chatbot-data` renames the bot and
makes its `sourceText` the bot's only pasted text (files, pages and Q&A pairs stay).
"""

from __future__ import annotations

from pydantic import ValidationError
from sqlmodel import Session

from chatapp.api.chatbase_common import ACTOR, new_router
from chatapp.api.chatbase_shapes import (
    THEIR_NAMES,
    ChatbotIdOut,
    ChatbotsOut,
    CreateIn,
    MessageOut,
    SettingsIn,
    SettingsOut,
    UpdateDataIn,
    chatbot_out,
    settings_changes,
)
from chatapp.api.deps import REQUEST_SESSION
from chatapp.core.errors import ValidationFailed
from chatapp.core.schemas import message_of
from chatapp.services.accounts.tenancy import Actor
from chatapp.services.bots import bot_text, bots, providers
from chatapp.services.knowledge.training_state import training_states
from chatapp.services.models import BotUpdate

router = new_router()
SAVED = "Your changes are saved."


@router.get("/get-chatbots", response_model=ChatbotsOut)
def get_chatbots(actor: Actor = ACTOR, session: Session = REQUEST_SESSION):
    """The workspace's bots (up to 200, newest first), each with its training state."""
    found = bots.list_bots(session, actor)
    states = training_states(session, actor, [bot.id for bot in found])
    default_model = providers.get_provider(session, actor).model
    return ChatbotsOut(chatbots=[chatbot_out(bot, states[bot.id], default_model) for bot in found])


@router.post("/create-chatbot", response_model=ChatbotIdOut)
def create_chatbot(body: CreateIn, actor: Actor = ACTOR, session: Session = REQUEST_SESSION):
    bot = bot_text.create_with_text(session, actor, name=body.chatbotName, text=body.sourceText)
    return ChatbotIdOut(chatbotId=bot.public_id)


@router.post("/update-chatbot-data", response_model=ChatbotIdOut)
def update_chatbot_data(
    body: UpdateDataIn, actor: Actor = ACTOR, session: Session = REQUEST_SESSION
):
    bot = bot_text.replace_text(
        session, actor, body.chatbotId, name=body.chatbotName, text=body.sourceText
    )
    return ChatbotIdOut(chatbotId=bot.public_id)


@router.delete("/delete-chatbot", response_model=MessageOut)
def delete_chatbot(chatbotId: str, actor: Actor = ACTOR, session: Session = REQUEST_SESSION):
    bot = bot_text.bot_by_public_id(session, actor, chatbotId)
    bots.delete_bot(session, actor, bot.id)
    return MessageOut(message="Deleted successfully")


@router.post("/update-chatbot-settings", response_model=SettingsOut, status_code=202)
def update_chatbot_settings(
    body: SettingsIn, actor: Actor = ACTOR, session: Session = REQUEST_SESSION
):
    """The settings a bot of ours has are saved; the others are listed in `ignored`."""
    bot = bot_text.bot_by_public_id(session, actor, body.chatbotId)
    changes, ignored = settings_changes(body, bot)
    if changes:
        bots.update_bot(session, actor, bot.id, _bot_update(changes))
    return SettingsOut(message=SAVED, ignored=ignored)


def _bot_update(changes: dict) -> BotUpdate:
    """Our bot's own checks, their refusal worded with Chatbase's name of the setting."""
    try:
        return BotUpdate.model_validate(changes)
    except ValidationError as exc:
        first = exc.errors()[0]
        ours = str(first["loc"][0]) if first.get("loc") else ""
        raise ValidationFailed(f"{THEIR_NAMES.get(ours, ours)}: {message_of(first)}") from None
