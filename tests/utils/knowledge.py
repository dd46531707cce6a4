"""A small shop's knowledge, ingested through the real sources service and worker; a visitor's
message to a bot through the real chat engine (`ask`: the reply, `collect`: the stream's events)."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from typing import Protocol

from chatapp.core.db import session_scope
from chatapp.services.bots import bots
from chatapp.services.chat import engine as chat_engine
from chatapp.services.chat.request import ChatReply, ChatRequest, Event
from chatapp.services.knowledge import sources
from chatapp.workers import ingest as worker
from tests.utils.factories import Tenant, make_tenant

HOURS = (
    "Opening hours\n\nOur shop in Lyon is open Monday to Friday from 9am to 6pm. "
    "On Saturdays we open from 10am to 4pm. We are closed on Sundays and public holidays."
)
RETURNS = (
    "Returns policy\n\nYou can return any item within 30 days of delivery for a full refund. "
    "Items must be unused and in their original packaging."
)
SHIPPING_Q = "Do you ship to Canada?"
SHIPPING_A = "Yes, we ship to Canada in 5 to 8 days."


@dataclass
class Shop:
    tenant: Tenant
    key: str  # the widget key, plain
    public_id: str

    @property
    def bot_id(self) -> int:
        return self.tenant.bot.id


def make_shop(label: str = "a") -> Shop:
    with session_scope() as session:
        tenant = make_tenant(session, label)
        _, key = bots.create_widget_key(session, tenant.owner, tenant.bot.id)
        sources.add_text(session, tenant.owner, tenant.bot.id, title="Hours", text=HOURS)
        sources.add_text(session, tenant.owner, tenant.bot.id, title="Returns", text=RETURNS)
        sources.add_qa(session, tenant.owner, tenant.bot.id, question=SHIPPING_Q, answer=SHIPPING_A)
    worker.run_until_idle()
    return Shop(tenant, key, tenant.bot.public_id)


def new_session_id() -> str:
    return "visitor-" + secrets.token_hex(8)


class WidgetBot(Protocol):
    """A bot as a visitor reaches it: its public id and a widget key (a Shop is one)."""

    public_id: str
    key: str


@dataclass
class BotKey:
    """A WidgetBot from its two values."""

    public_id: str
    key: str


def chat_request(
    bot: WidgetBot, message: str, session_id: str | None = None, **extra
) -> ChatRequest:
    """A visitor's message to `bot` with its widget key (a new visitor unless `session_id`)."""
    values = {"bot_id": bot.public_id, "api_key": bot.key, **extra}
    return ChatRequest(message=message, session_id=session_id or new_session_id(), **values)


def ask(bot: WidgetBot, message: str, session_id: str | None = None, **extra) -> ChatReply:
    """The engine's whole reply to a visitor's message (the non-streaming form)."""
    return asyncio.run(chat_engine.reply(chat_request(bot, message, session_id, **extra)))


def collect(bot: WidgetBot, message: str, session_id: str | None = None, **extra) -> list[Event]:
    """The events the engine streams for a visitor's message, in order."""
    request = chat_request(bot, message, session_id, **extra)

    async def run():
        return [event async for event in chat_engine.stream(request)]

    return asyncio.run(run())
