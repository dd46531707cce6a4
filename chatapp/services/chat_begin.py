"""The first half of the chat pipeline: a request becomes a `Turn`, checked and counted, with its
question stored, in one worker thread and one transaction.

    validate -> bot, widget key, website -> conversation, audience pick, question stored ->
    history -> rate limits -> a person involved? (the bot stays silent) -> monthly quota ->
    retrieval prefetched; then the audience classified and a router bot's choice made

Refusals (401/403/404/413/422/429) are raised as `ServiceError`s before any event, so HTTP
routes can answer with a status. `chat.events()` answers the turn.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import anyio
import anyio.to_thread

from chatapp.services import (
    access,
    audiences,
    contacts,
    conversations,
    extractive,
    followup,
    handoff,
    quota,
    routing,
)
from chatapp.services import ratelimit as rl
from chatapp.services.actions import in_chat as actions
from chatapp.services.chat_request import ChatRequest, validate
from chatapp.services.config import get_settings
from chatapp.services.db import session_scope
from chatapp.services.errors import NotFound, ValidationFailed
from chatapp.services.models import Message, Workspace
from chatapp.services.providers import LLMConfig, llm_config
from chatapp.services.retrieval import Retrieval, retrieve
from chatapp.services.tenancy import Permission

log = logging.getLogger(__name__)


@dataclass
class Turn:
    """A validated, counted request whose question is stored; `events()` answers it."""

    request: ChatRequest
    message: str
    session_id: str
    workspace_id: int
    bot_id: int
    bot_name: str
    instructions: str
    fallback: str
    welcome: str
    conversation_id: int
    user_message_id: int
    history: list[tuple[str, str]]
    llm: LLMConfig | None
    started: float
    temperature: float | None = None
    replay: Message | None = None
    prefetched: Retrieval | None = None
    status: str = "bot"  # the conversation's status, as `done` reports it
    handled_by: str = "bot"  # "human": pending or assigned, the bot stays silent
    handoff: handoff.HandoffOutcome | None = None  # a handoff phrase: answer with its message
    handoff_actions: list[dict[str, Any]] = dataclasses.field(default_factory=list)  # events
    audiences: list[dict[str, Any]] = field(default_factory=list)  # the bot's (seed 003)
    audience: str = ""  # the conversation's audience key ("" = not known)
    classify_audience: bool = False  # early in the conversation, no audience yet: classify
    is_router: bool = False
    route: routing.Decision | None = None  # a router bot's choice of bot(s) for this message
    bot_actions: actions.TurnActions | None = None  # the bot's actions for this message


def _limits(request: ChatRequest, bot_id: int, session_id: str) -> list[rl.Limit]:
    settings = get_settings()
    limits = [rl.Limit(f"chat:s:{bot_id}:{session_id}", settings.chat_session_per_minute)]
    if request.ip:
        limits.append(rl.Limit(f"chat:ip:{request.ip}", settings.chat_ip_per_minute))
    return limits


def retrieve_passages(turn: Turn, query: str, query_vector=None) -> Retrieval:
    """The bot's passages for `query` (in a worker thread: it embeds and searches)."""
    with session_scope() as session:
        return retrieve(
            session,
            workspace_id=turn.workspace_id,
            bot_id=turn.bot_id,
            query=query,
            limit=get_settings().chat_passages,
            query_vector=query_vector,
        )


# Embedding the question (~7 ms on 2 cores) needs nothing from the database: it runs here while
# the transaction of begin() does its ~10 statements, instead of after them.
_embed_ahead = ThreadPoolExecutor(max_workers=4, thread_name_prefix="chat-embed")


def _embed_question_ahead(message: str, bot) -> Future | None:
    """Start embedding a question that will be searched as it is (not small talk, not for a
    router bot); only called once the key and the website are accepted, so refused requests
    cost no embedding. A follow-up question is searched with another query: its vector is
    then unused."""
    if bot.is_router or extractive.small_talk(message, welcome=bot.welcome_message) is not None:
        return None
    from chatapp.services.embeddings import get_embedder

    try:
        embedder = get_embedder()
    except Exception:  # retrieval reports it, in its own time
        return None
    return _embed_ahead.submit(embedder.embed_query, message)


def _begin_sync(request: ChatRequest, started: float) -> Turn:
    message, session_id, client_id = validate(request)
    settings = get_settings()
    with session_scope() as session:
        bot = access.public_bot(session, request.bot_id)
        if request.actor is None:
            access.check_key(session, bot, request.api_key)
            access.check_origin(bot, request.origin, request.referer)
        else:
            request.actor.require(Permission.READ)
            if request.actor.workspace_id != bot.workspace_id:
                raise NotFound("Bot not found.")
        access.check_active(bot)
        pick = audiences.check_pick(audiences.of(bot), request.audience)
        vector_ahead = _embed_question_ahead(message, bot)
        workspace = session.get(Workspace, bot.workspace_id)
        conversation = conversations.find_or_create(session, bot, session_id, request.channel)
        if request.visitor and request.actor is None:
            contacts.link_visitor(session, bot, conversation, request.visitor)
        if pick:
            audiences.store(
                session,
                workspace_id=bot.workspace_id,
                conversation_id=conversation.id,
                key=pick,
                pick=True,
            )
        turn = Turn(
            request=request,
            message=message,
            session_id=session_id,
            workspace_id=bot.workspace_id,
            bot_id=bot.id,
            bot_name=bot.name,
            instructions=bot.instructions,
            fallback=bot.fallback_message,
            welcome=bot.welcome_message,
            conversation_id=conversation.id,
            user_message_id=0,
            history=[],
            llm=llm_config(workspace, bot, settings),
            started=started,
            temperature=bot.temperature,
            audiences=audiences.of(bot),
            audience=pick or conversation.audience,
            is_router=bot.is_router,
        )
        turn.classify_audience = bool(turn.audiences and not turn.audience) and (
            conversation.message_count < 2 * audiences.CLASSIFY_FIRST_MESSAGES
        )
        if request.actor is not None:
            _apply_playground_tweaks(turn, request)
        turn.bot_actions = actions.load(
            session, workspace_id=bot.workspace_id, bot_id=bot.id, conversation_id=conversation.id
        )
        if client_id is not None:
            stored = conversations.by_client_id(session, conversation.id, "assistant", client_id)
            if stored is not None:  # a retry of an answered request: replay, count nothing
                turn.replay = stored
                return turn
        turn.user_message_id, created = conversations.add_user_message(
            session, conversation, message, client_id
        )
        turn.history = conversations.history(
            session, conversation.id, turn.user_message_id, settings.chat_history_messages
        )
        rl.hit(session, _limits(request, bot.id, session_id))
        turn.status = conversation.status
        if request.actor is None and _handoff_turn(session, turn, conversation, created):
            return turn  # a person answers (or is being asked for): no bot answer, no quota
        quota.consume(session, bot.id)  # last: the bot row stays locked only until commit
    if (
        not turn.is_router
        and extractive.small_talk(message, welcome=turn.welcome) is None
        and (
            not followup.recent_user_turns(turn.history)
            or not followup.looks_like_followup(message)
        )
    ):
        try:
            vector = vector_ahead.result() if vector_ahead is not None else None
            turn.prefetched = retrieve_passages(turn, message, vector)  # same thread: no hop
        except Exception:  # counted already: events() retries and reports a failure cleanly
            log.warning("retrieval failed in begin(); retried in events()", exc_info=True)
    return turn


def _handoff_turn(session, turn: Turn, conversation, created: bool) -> bool:
    """Hand the message to a person when one is involved or the visitor asks for one."""
    if handoff.human_handles(conversation):
        if created:
            handoff.visitor_message(session, conversation, turn.user_message_id, turn.message)
        turn.handled_by = "human"
        return True
    # The bot's enabled actions are loaded already: no second query for the handoff's settings.
    available = turn.bot_actions.available if turn.bot_actions is not None else []
    action = next((a for a in available if a.kind == "handoff"), None)
    settings = handoff.settings_from(action.config) if action is not None else None
    if not handoff.matches_phrase(settings, turn.message):
        return False
    note_handoff(turn, handoff.request(session, conversation, reason="phrase"))
    return True


def note_handoff(turn: Turn, outcome: handoff.HandoffOutcome) -> None:
    """The turn answers with the handoff's message and reports it as an `action` event."""
    turn.handoff = outcome
    if outcome.status != "unavailable":
        turn.status = outcome.status
    action = {"kind": "handoff", "status": outcome.status, "message": outcome.message}
    turn.handoff_actions.append({**action, "offer_lead_form": outcome.offer_lead_form})


def _apply_playground_tweaks(turn: Turn, request: ChatRequest) -> None:
    """Let a member try instructions, model and temperature before saving them to the bot."""
    if request.instructions is not None:
        if len(request.instructions) > 20000:
            raise ValidationFailed("Instructions are limited to 20,000 characters.")
        turn.instructions = request.instructions
    if request.temperature is not None:
        if not 0.0 <= request.temperature <= 2.0:
            raise ValidationFailed("Temperature must be between 0 and 2.")
        turn.temperature = request.temperature
    if request.model and turn.llm is not None:
        if len(request.model) > 100:
            raise ValidationFailed("The model name is too long.")
        turn.llm = dataclasses.replace(turn.llm, model=request.model.strip())


async def begin(request: ChatRequest) -> Turn:
    """Check and count the request and store the question; raises ServiceError on refusal."""
    started = time.perf_counter()
    turn = await anyio.to_thread.run_sync(_begin_sync, request, started)
    if turn.replay is None:
        await _shape(turn)
    return turn


async def _shape(turn: Turn) -> None:
    """Who the visitor is (audience) and, for a router bot, which bot(s) answer."""
    try:
        if turn.classify_audience:
            texts = [content for role, content in turn.history if role == "user"]
            turn.audience = await audiences.settle(
                audiences=turn.audiences,
                workspace_id=turn.workspace_id,
                conversation_id=turn.conversation_id,
                texts=[*texts, turn.message],
                config=turn.llm,
            )
        if turn.is_router:
            router = routing.RouterRef(turn.bot_id, turn.workspace_id)
            decision = await routing.decide(router, turn.message, turn.llm)
            turn.route = decision if decision.kind != "none" else None
    except Exception:  # never lose the (counted) message over this: answer as a plain bot
        log.warning("audience or routing failed (bot %s)", turn.bot_id, exc_info=True)
