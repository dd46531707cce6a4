"""The public API the widget talks to: bot config, chat (SSE and JSON), feedback on an answer.

Authenticated by the bot's widget key (and its allowed domains), not by a login. CORS is open on
these routes only (`cors.py`). Every refusal is JSON `{"detail": ...}` with 401/403/404/413/422/429
(`Retry-After` on 429); failures after the stream started arrive as an `error` event.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from fastapi import APIRouter, Header, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from chatapp.api.deps import Id, client_ip
from chatapp.api.shared import ChatOut, chat_stream, json_reply, widget_key
from chatapp.core.db import session_scope
from chatapp.core.errors import PermissionDenied
from chatapp.services.accounts import refused_origins, visitor_access
from chatapp.services.chat import begin as chat_begin
from chatapp.services.chat import engine as chat_engine
from chatapp.services.chat import feedback
from chatapp.services.chat.request import ChatRequest

router = APIRouter(tags=["public"])

SSE_EXAMPLE = (
    'event: token\ndata: {"type":"token","content":"We "}\n\n'
    'event: token\ndata: {"type":"token","content":"open at 9am [1]."}\n\n'
    'event: sources\ndata: {"type":"sources","sources":[{"n":1,"title":"Hours","url":"",'
    '"file":"","page":null,"snippet":"...","source_id":4}]}\n\n'
    'event: done\ndata: {"type":"done","message_id":42,"conversation_id":7,'
    '"session_id":"visitor-123","answered":true,"usage":{"prompt_tokens":0,'
    '"completion_tokens":0,"total_tokens":0},"latency_ms":35}\n\n'
)


class HandoffConfig(BaseModel):
    enabled: bool = Field(description="Show the 'Talk to a person' button.")
    button_label: str


class AudienceOut(BaseModel):
    key: str = Field(description="Send it back as `audience` in the chat request.")
    label: str = Field(description="The quick reply the widget shows at the start.")
    starter_questions: list[str]


class LeadFormField(BaseModel):
    name: Literal["name", "email", "phone", "message"]
    label: str
    type: str = Field(description="The input's type: text, email, tel or textarea.")
    required: bool


class LeadForm(BaseModel):
    enabled: bool = Field(description="false when the bot has no enabled Collect lead action.")
    title: str
    fields: list[LeadFormField]


class WidgetConfig(BaseModel):
    bot_id: str
    name: str
    active: bool
    welcome_message: str
    starter_questions: list[str]
    avatar_url: str
    accent_color: str
    position: str
    show_button_text: bool
    button_text: str
    handoff: HandoffConfig
    audiences: list[AudienceOut] = Field(
        default_factory=list, description="Who the visitor may say they are (quick replies)."
    )
    lead_form: LeadForm


class ChatIn(BaseModel):
    bot_id: str = Field(max_length=64, description="The bot's public id (bot_...).")
    message: str = Field(max_length=100_000, description="The visitor's message.")
    session_id: str | None = Field(
        default=None,
        max_length=200,
        description="The visitor's session (8-64 of A-Z a-z 0-9 - _); made for you if missing.",
    )
    api_key: str | None = Field(
        default=None,
        max_length=200,
        description="The widget key (or send it as 'Authorization: Bearer ck_...').",
    )
    client_id: str | None = Field(
        default=None,
        max_length=200,
        description="Your id for this message: a retry with the same id is answered from the "
        "stored answer and never counted or stored twice.",
    )
    stream: bool = Field(default=True, description="false: one JSON answer instead of SSE.")
    audience: str | None = Field(
        default=None,
        max_length=40,
        description="The key of the audience the visitor picked (from the config's "
        "`audiences`); stored on the conversation. An unknown key is refused with 422.",
    )
    # What the widget's JS API was given (`Chatapp('setContext', {...})`, `Chatapp('identify',
    # {name, email})`). Validated; `visitor` links the conversation to a contact.
    context: dict[str, Any] | None = Field(
        default=None, description="The page's context (the widget's setContext); not stored yet."
    )
    visitor: dict[str, Any] | None = Field(
        default=None,
        description=(
            "Who the visitor is (the widget's identify: name, email, phone, id): the conversation "
            "is linked to that contact, created or completed in the bot's workspace."
        ),
    )


class FeedbackIn(BaseModel):
    bot_id: str = Field(max_length=64)
    session_id: str = Field(max_length=64)
    rating: Literal["up", "down", "none"]
    api_key: str | None = Field(default=None, max_length=200)


class FeedbackOut(BaseModel):
    message_id: int
    rating: Literal["up", "down", "none"]


def _config_response(request: Request, bot_id: str) -> Response:
    origin, referer = request.headers.get("origin"), request.headers.get("referer")
    with session_scope() as session:
        bot = visitor_access.public_bot(session, bot_id)
        refusal = refused_origins.site_refusal(session, bot, origin, referer)  # counted, kept
        config = None if refusal else visitor_access.widget_config(bot, session)
    if config is None:  # a website the bot does not allow: the widget does not show at all
        raise PermissionDenied(refusal or visitor_access.WRONG_SITE)
    body = json.dumps(config, separators=(",", ":")).encode()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {"Cache-Control": "public, max-age=60", "ETag": etag, "Vary": "Origin"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


CONFIG_DOC = {
    "response_model": WidgetConfig,
    "responses": {
        304: {"description": "Not modified (If-None-Match matched the ETag)."},
        403: {
            "description": "The website (Origin or Referer) is not in the bot's allowed "
            "domains: the widget does not show. Counted for the owner (Connect)."
        },
    },
}


@router.get("/api/public/bots/{bot_id}/config", **CONFIG_DOC)
def bot_config(bot_id: str, request: Request):
    """What the widget needs to render a bot. No key needed, nothing secret; cacheable 60 s.
    Refused (403) on a website the bot's allowed domains do not list."""
    return _config_response(request, bot_id)


@router.get("/api/public/config/{bot_id}", **CONFIG_DOC)
def bot_config_seed_path(bot_id: str, request: Request):
    """The same as `/api/public/bots/{bot_id}/config` (the path of the original spec)."""
    return _config_response(request, bot_id)


@router.post(
    "/api/chat",
    response_model=ChatOut,
    responses={
        200: {
            "description": "With `stream` (default): Server-Sent Events `token`, `sources`, "
            "`done` or `error`, each `data` a JSON object with its `type`. With "
            '`"stream": false`: one JSON answer.',
            "content": {"text/event-stream": {"example": SSE_EXAMPLE}},
        },
        401: {"description": "Invalid or missing widget key."},
        403: {"description": "Website not allowed, or bot paused."},
        413: {"description": "Message (or request) too long."},
        422: {"description": "Invalid request (empty message, bad session id)."},
        429: {"description": "Monthly limit reached, or too many messages (see Retry-After)."},
        502: {"description": "JSON form: the LLM refused or broke off."},
        503: {"description": "JSON form: the LLM is unavailable."},
        504: {"description": "JSON form: the LLM timed out."},
    },
)
async def post_chat(
    body: ChatIn,
    request: Request,
    authorization: str | None = Header(default=None),
    x_widget_key: str | None = Header(default=None),
) -> Any:
    """Send a visitor's message and get the bot's answer, streamed or as JSON."""
    chat_request = ChatRequest(
        bot_id=body.bot_id,
        message=body.message,
        session_id=body.session_id,
        api_key=widget_key(body.api_key, authorization, x_widget_key),
        origin=request.headers.get("origin"),
        referer=request.headers.get("referer"),
        ip=client_ip(request),
        client_id=body.client_id,
        channel="widget",
        visitor=body.visitor,
        audience=body.audience,
    )
    if not body.stream:
        return json_reply(await chat_engine.reply(chat_request))
    turn = await chat_begin.begin(chat_request)  # refusals become 4xx before the stream starts
    return chat_stream(turn, {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@router.post("/api/public/messages/{message_id}/feedback", response_model=FeedbackOut)
def post_feedback(
    message_id: Id,
    body: FeedbackIn,
    request: Request,
    authorization: str | None = Header(default=None),
    x_widget_key: str | None = Header(default=None),
):
    """Thumbs up or down (or `none` to clear) on an answer in the visitor's own conversation."""
    with session_scope() as session:
        feedback.rate_answer(
            session,
            bot_id=body.bot_id,
            api_key=widget_key(body.api_key, authorization, x_widget_key),
            origin=request.headers.get("origin"),
            referer=request.headers.get("referer"),
            session_id=body.session_id,
            message_id=message_id,
            rating=body.rating,
        )
    return FeedbackOut(message_id=message_id, rating=body.rating)
