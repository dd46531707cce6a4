"""Admin side of chat: widget keys, the workspace's LLM provider, and a playground chat.

Allowed domains, starter questions and a bot's model override are bot fields: change them with
`PATCH /api/v1/workspaces/{ws}/bots/{bot}`. New widget keys: `POST .../bots/{bot}/keys`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from sqlmodel import Session

from chatapp.api.deps import REQUEST_SESSION, Id, client_ip, current_actor
from chatapp.api.shared import ChatOut, chat_stream, json_reply
from chatapp.core.db import session_scope
from chatapp.services.accounts.tenancy import Actor
from chatapp.services.bots import bots, providers
from chatapp.services.chat import begin as chat_begin
from chatapp.services.chat import engine as chat_engine
from chatapp.services.chat.request import ChatRequest
from chatapp.services.chat.schemas import PlaygroundIn

router = APIRouter(prefix="/api/v1/workspaces/{workspace_id}", tags=["chat settings"])


class WidgetKeyInfo(BaseModel):
    id: int
    prefix: str
    created_at: datetime
    revoked_at: datetime | None
    active: bool


class ProviderIn(BaseModel):
    base_url: str = Field(
        default="", max_length=500, description="OpenAI-compatible endpoint; empty = OpenAI."
    )
    api_key: str = Field(default="", max_length=500, description="Stored encrypted.")
    model: str = Field(default="", max_length=100, description="Empty = the plan's model.")


class ProviderOut(BaseModel):
    source: str = Field(description="workspace, installation or offline")
    base_url: str
    model: str
    key_hint: str = Field(description="The key's last 4 characters; never the key.")


@router.get("/bots/{bot_id}/keys", response_model=list[WidgetKeyInfo])
def list_widget_keys(
    bot_id: Id, actor: Actor = Depends(current_actor), session: Session = REQUEST_SESSION
):
    """The bot's widget keys (prefix only: a key is shown once, when it is created)."""
    return [
        WidgetKeyInfo(
            id=key.id,
            prefix=key.prefix,
            created_at=key.created_at,
            revoked_at=key.revoked_at,
            active=key.revoked_at is None,
        )
        for key in bots.list_widget_keys(session, actor, bot_id)
    ]


def _provider(view: providers.ProviderView) -> ProviderOut:
    return ProviderOut(
        source=view.source, base_url=view.base_url, model=view.model, key_hint=view.key_hint
    )


@router.get("/llm", response_model=ProviderOut)
def get_llm_provider(actor: Actor = Depends(current_actor), session: Session = REQUEST_SESSION):
    """Where this workspace's answers come from (its own provider, the installation's, offline)."""
    return _provider(providers.get_provider(session, actor))


@router.put("/llm", response_model=ProviderOut)
def set_llm_provider(
    body: ProviderIn, actor: Actor = Depends(current_actor), session: Session = REQUEST_SESSION
):
    """Use the workspace's own OpenAI-compatible provider and key (owners and admins)."""
    view = providers.set_provider(
        session, actor, base_url=body.base_url, api_key=body.api_key, model=body.model
    )
    return _provider(view)


@router.delete("/llm", response_model=ProviderOut)
def clear_llm_provider(actor: Actor = Depends(current_actor), session: Session = REQUEST_SESSION):
    """Forget the workspace's own provider (back to the installation's settings)."""
    return _provider(providers.clear_provider(session, actor))


def _public_id(bot_id: Id, actor: Actor = Depends(current_actor)) -> str:
    """The bot's public id, read in a transaction that ends before the chat starts."""
    with session_scope() as session:
        return bots.get_bot(session, actor, bot_id).public_id


@router.post("/bots/{bot_id}/chat", response_model=ChatOut)
async def playground_chat(
    body: PlaygroundIn,
    request: Request,
    actor: Actor = Depends(current_actor),
    public_id: str = Depends(_public_id),
) -> Any:
    """Talk to a bot as a member (the dashboard playground): no widget key, same pipeline.

    Like the playground, instructions, model and temperature may be tried without saving them."""
    chat_request = ChatRequest(
        bot_id=public_id,
        message=body.message,
        session_id=body.session_id,
        ip=client_ip(request),
        channel="playground",
        actor=actor,
        instructions=body.instructions,
        model=body.model,
        temperature=body.temperature,
        audience=body.audience,
    )
    if not body.stream:
        return json_reply(await chat_engine.reply(chat_request))
    turn = await chat_begin.begin(chat_request)
    return chat_stream(turn, {"Cache-Control": "no-cache"})
