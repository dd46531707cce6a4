"""The first half of the chat pipeline: a request becomes a `Turn`, checked and counted, with its
question stored, in one worker thread and one transaction.

    validate -> bot, widget key, website -> conversation, audience pick, question stored ->
    history -> rate limits -> a person involved? (the bot stays silent) -> monthly quota ->
    retrieval prefetched; then the audience classified and a router bot's choice made

Refusals (401/403/404/413/422/429) are raised as `ServiceError`s before any event, so HTTP
routes can answer with a status. `chat.events()` answers the turn.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import anyio
import anyio.to_thread
from sqlmodel import Session

from chatapp.core import ratelimit as rl
from chatapp.core.config import get_settings
from chatapp.core.db import session_scope
from chatapp.core.errors import NotFound
from chatapp.core.schemas import parse
from chatapp.services.accounts import visitor_access
from chatapp.services.accounts.tenancy import Permission
from chatapp.services.actions import in_chat
from chatapp.services.bots import audiences, quota, routing
from chatapp.services.bots.providers import llm_config
from chatapp.services.chat import conversations, followup
from chatapp.services.chat.compose import extractive
from chatapp.services.chat.request import ChatRequest, validate
from chatapp.services.chat.schemas import PlaygroundTweaks
from chatapp.services.chat.turn import Turn, retrieve_passages
from chatapp.services.contacts import contacts
from chatapp.services.knowledge.embeddings import get_embedder
from chatapp.services.live import handoff
from chatapp.services.models import Bot, Conversation, Workspace

log = logging.getLogger(__name__)


def _limits(request: ChatRequest, bot_id: int, session_id: str) -> list[rl.Limit]:
    settings = get_settings()
    limits = [rl.Limit(f"chat:s:{bot_id}:{session_id}", settings.chat_session_per_minute)]
    if request.ip:
        limits.append(rl.Limit(f"chat:ip:{request.ip}", settings.chat_ip_per_minute))
    return limits


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

    try:
        embedder = get_embedder()
    except Exception:  # retrieval reports it, in its own time
        return None
    return _embed_ahead.submit(embedder.embed_query, message)


def _begin_sync(request: ChatRequest, started: float) -> Turn:
    message, session_id, client_id = validate(request)
    settings = get_settings()
    with session_scope() as session:
        bot = _allowed_bot(session, request)
        pick = audiences.check_pick(audiences.of(bot), request.audience)
        vector_ahead = _embed_question_ahead(message, bot)
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
        turn = _first_turn(session, request, message, session_id, started, bot, conversation, pick)
        if client_id is not None:
            stored = conversations.by_client_id(session, conversation.id, "assistant", client_id)
            if stored is not None:  # a retry of an answered request: replay, count nothing
                return replace(turn, replay=stored)
        user_message_id, created = conversations.add_user_message(
            session, conversation, message, client_id
        )
        limit = settings.chat_history_messages
        history = (
            (list(request.history[-limit:]) if limit > 0 else [])
            if request.history is not None  # the client keeps the conversation (OpenAI, Chatbase)
            else conversations.history(session, conversation.id, user_message_id, limit)
        )
        turn = replace(turn, user_message_id=user_message_id, history=tuple(history))
        rl.hit(session, _limits(request, bot.id, session_id))
        if request.actor is None:
            handed = _handoff_turn(session, turn, conversation, created)
            if handed is not None:
                return handed  # a person answers (or is being asked for): no bot answer, no quota
        quota.consume(session, bot.id)  # last: the bot row stays locked only until commit
    return _with_prefetched_passages(turn, message, vector_ahead)


def _allowed_bot(session: Session, request: ChatRequest) -> Bot:
    """The requested bot, once the widget key and origin (or the member's access) are checked
    and the bot is active."""
    bot = visitor_access.public_bot(session, request.bot_id)
    if request.actor is None:
        visitor_access.check_key(session, bot, request.api_key)
        if request.check_site:
            visitor_access.check_origin(bot, request.origin, request.referer)
    else:
        request.actor.require(Permission.READ)
        if request.actor.workspace_id != bot.workspace_id:
            raise NotFound("Bot not found.")
    visitor_access.check_active(bot)
    return bot


def _first_turn(
    session: Session,
    request: ChatRequest,
    message: str,
    session_id: str,
    started: float,
    bot: Bot,
    conversation: Conversation,
    pick: str | None,
) -> Turn:
    """The turn's read-only context before the visitor's message is stored (no history yet)."""
    workspace = session.get(Workspace, bot.workspace_id)
    tweaks = _playground_tweaks(request, llm_config(workspace, bot, get_settings()), bot)
    bot_actions = in_chat.load(
        session, workspace_id=bot.workspace_id, bot_id=bot.id, conversation_id=conversation.id
    )
    turn = Turn(
        request=request,
        message=message,
        session_id=session_id,
        workspace_id=bot.workspace_id,
        bot_id=bot.id,
        bot_name=bot.name,
        fallback=bot.fallback_message,
        welcome=bot.welcome_message,
        conversation_id=conversation.id,
        user_message_id=0,
        history=(),
        started=started,
        audiences=tuple(audiences.of(bot)),
        audience=pick or conversation.audience,
        is_router=bot.is_router,
        bot_actions=bot_actions,
        status=conversation.status,
        **tweaks,
    )
    return replace(
        turn,
        classify_audience=bool(turn.audiences and not turn.audience)
        and (conversation.message_count < 2 * audiences.CLASSIFY_FIRST_MESSAGES),
    )


def _with_prefetched_passages(turn: Turn, message: str, vector_ahead) -> Turn:
    """The turn with its passages retrieved here (same thread: no hop), when the answer will
    need them: not for a router, small talk or a follow-up (those retrieve in events())."""
    if (
        turn.is_router
        or extractive.small_talk(message, welcome=turn.welcome) is not None
        or (
            followup.recent_user_turns(list(turn.history)) and followup.looks_like_followup(message)
        )
    ):
        return turn
    try:
        vector = vector_ahead.result() if vector_ahead is not None else None
        return replace(turn, prefetched=retrieve_passages(turn, message, vector))
    except Exception:  # counted already: events() retries and reports a failure cleanly
        log.warning("retrieval failed in begin(); retried in events()", exc_info=True)
        return turn


def _handoff_turn(session, turn: Turn, conversation, created: bool) -> Turn | None:
    """The turn a person answers, when one is involved or the visitor asks for one."""
    if handoff.human_handles(conversation):
        if created:
            handoff.visitor_message(session, conversation, turn.user_message_id, turn.message)
        return replace(turn, handled_by="human")
    # The bot's enabled actions are loaded already: no second query for the handoff's settings.
    available = turn.bot_actions.available if turn.bot_actions is not None else []
    action = next((a for a in available if a.kind == "handoff"), None)
    settings = handoff.settings_from(action.config) if action is not None else None
    if not handoff.matches_phrase(settings, turn.message):
        return None
    outcome = handoff.request(session, conversation, reason="phrase")
    status = outcome.status if outcome.status != "unavailable" else turn.status
    return replace(turn, handoff=outcome, status=status, handoff_actions=(handoff_event(outcome),))


def handoff_event(outcome: handoff.HandoffOutcome) -> dict[str, Any]:
    """The `action` event that tells the widget about a handoff."""
    action = {"kind": "handoff", "status": outcome.status, "message": outcome.message}
    return {**action, "offer_lead_form": outcome.offer_lead_form}


def _playground_tweaks(request: ChatRequest, config, bot) -> dict[str, Any]:
    """Instructions, temperature and model: the bot's, or for a member (the playground) the
    unsaved values being tried before they are saved to the bot."""
    tweaks = {"instructions": bot.instructions, "temperature": bot.temperature, "llm": config}
    if request.actor is None:
        return tweaks
    tried = parse(
        PlaygroundTweaks,
        instructions=request.instructions,
        model=request.model,
        temperature=request.temperature,
    )
    if tried.instructions is not None:
        tweaks["instructions"] = tried.instructions
    if tried.temperature is not None:
        tweaks["temperature"] = tried.temperature
    if tried.model and config is not None:
        tweaks["llm"] = replace(config, model=tried.model)
    return tweaks


async def begin(request: ChatRequest) -> Turn:
    """Check and count the request and store the question; raises ServiceError on refusal."""
    started = time.perf_counter()
    turn = await anyio.to_thread.run_sync(_begin_sync, request, started)
    if turn.replay is None:
        turn = await _shape(turn)
    return turn


async def _shape(turn: Turn) -> Turn:
    """Who the visitor is (audience) and, for a router bot, which bot(s) answer."""
    try:
        if turn.classify_audience:
            texts = [content for role, content in turn.history if role == "user"]
            audience = await audiences.settle(
                audiences=list(turn.audiences),
                workspace_id=turn.workspace_id,
                conversation_id=turn.conversation_id,
                texts=[*texts, turn.message],
                config=turn.llm,
            )
            turn = replace(turn, audience=audience)
        if turn.is_router:
            router = routing.RouterRef(turn.bot_id, turn.workspace_id)
            decision = await routing.decide(router, turn.message, turn.llm)
            turn = replace(turn, route=decision if decision.kind != "none" else None)
    except Exception:  # never lose the (counted) message over this: answer as a plain bot
        log.warning("audience or routing failed (bot %s)", turn.bot_id, exc_info=True)
    return turn
