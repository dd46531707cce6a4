"""The chat pipeline: one visitor message in, a stored, cited answer out, as a stream of events.

    begin()   validate -> bot, widget key, website -> conversation, question stored -> history
              -> rate limits -> monthly quota            (one worker thread, one transaction)
    events()  follow-up query -> retrieve -> answer (LLM stream, or extractive offline, or the
              bot's fallback) -> `token`... -> `sources` -> store answer -> `done`
              (or `error`)

Refusals (401/403/404/413/422/429) are raised by `begin()` as `ServiceError`s before any event, so
HTTP routes can answer with a status; `stream()` turns them into an `error` event for callers
that only want events, and `reply()` collects everything for the JSON form. Database and model
work runs in worker threads (`anyio.to_thread`): the event loop only relays tokens.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import anyio
import anyio.to_thread

from chatapp.services import (
    access,
    audiences,
    citations,
    contacts,
    conversations,
    extractive,
    followup,
    handoff,
    llm,
    prompts,
    quota,
    routed_chat,
    routing,
)
from chatapp.services import ratelimit as rl
from chatapp.services.actions import in_chat as actions
from chatapp.services.chat_request import ChatReply, ChatRequest, Event, validate
from chatapp.services.config import get_settings
from chatapp.services.db import session_scope
from chatapp.services.errors import NotFound, ServiceError, ValidationFailed
from chatapp.services.models import Conversation, Message, Workspace
from chatapp.services.providers import LLMConfig, llm_config
from chatapp.services.retrieval import Passage, Retrieval, retrieve
from chatapp.services.tenancy import Permission

log = logging.getLogger(__name__)

UNAVAILABLE = "The assistant is unavailable right now. Please try again in a moment."


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


# ----------------------------------------------------------------------------------- begin


def _limits(request: ChatRequest, bot_id: int, session_id: str) -> list[rl.Limit]:
    settings = get_settings()
    limits = [rl.Limit(f"chat:s:{bot_id}:{session_id}", settings.chat_session_per_minute)]
    if request.ip:
        limits.append(rl.Limit(f"chat:ip:{request.ip}", settings.chat_ip_per_minute))
    return limits


def _retrieve(turn: Turn, query: str) -> Retrieval:
    with session_scope() as session:
        return retrieve(
            session,
            workspace_id=turn.workspace_id,
            bot_id=turn.bot_id,
            query=query,
            limit=get_settings().chat_passages,
        )


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
            turn.prefetched = _retrieve(turn, message)  # same thread: no extra hop
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
    settings = handoff.settings_for(session, conversation.bot_id)
    if not handoff.matches_phrase(settings, turn.message):
        return False
    _set_handoff(turn, handoff.request(session, conversation, reason="phrase"))
    return True


def _set_handoff(turn: Turn, outcome: handoff.HandoffOutcome) -> None:
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


# ---------------------------------------------------------------------------------- events


def _ms(turn: Turn) -> int:
    return round((time.perf_counter() - turn.started) * 1000)


def _store(turn: Turn, answer: conversations.Answer) -> int:
    with session_scope() as session:
        conversation = session.get(Conversation, turn.conversation_id)
        message_id = conversations.add_answer(
            session, conversation, answer, turn.request.client_id or None
        )
        if turn.handoff is None and turn.request.actor is None:
            outcome = handoff.after_answer(session, conversation, fell_back=answer.fell_back)
            if outcome is not None:
                _set_handoff(turn, outcome)
        if turn.handoff is None and conversation.status != "bot":
            turn.status = conversation.status  # the model or a rule handed it to a person
        actions.attach(session, message_id, turn.bot_actions, also=turn.handoff_actions)
        conversations.count_usage(
            session,
            workspace_id=turn.workspace_id,
            bot_id=turn.bot_id,
            answered=not answer.fell_back,
            fell_back=answer.fell_back,
            prompt_tokens=answer.prompt_tokens,
            completion_tokens=answer.completion_tokens,
        )
        return message_id


def _record_failure(turn: Turn) -> None:
    """The answer failed before it was delivered: give the message back, count the error."""
    with session_scope() as session:
        quota.refund(session, turn.bot_id)
        conversations.count_usage(
            session, workspace_id=turn.workspace_id, bot_id=turn.bot_id, error=True
        )


async def _replay(turn: Turn) -> AsyncIterator[Event]:
    stored = turn.replay
    for piece in extractive.word_chunks(stored.content):
        yield Event("token", {"content": piece})
    yield Event("sources", {"sources": list(stored.citations or [])})
    yield _done(
        turn, stored.id, not stored.fell_back, stored.prompt_tokens, stored.completion_tokens
    )


def _done(
    turn: Turn, message_id: int | None, answered: bool, prompt: int, completion: int
) -> Event:
    return Event(
        "done",
        {
            "message_id": message_id,
            "conversation_id": turn.conversation_id,
            "session_id": turn.session_id,
            "answered": answered,
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
            },
            "latency_ms": _ms(turn),
            "conversation_status": turn.status,
            "handled_by": turn.handled_by,
        },
    )


async def events(turn: Turn) -> AsyncIterator[Event]:
    """Answer a begun turn: tokens, then sources, then done (or an error event)."""
    if turn.replay is not None:
        async for event in _replay(turn):
            yield event
        return
    if turn.handled_by == "human":
        yield _done(turn, None, False, 0, 0)
        return
    if turn.route is not None:
        async for event in routed_chat.events(turn):
            yield event
        return
    pieces: list[str] = []
    first_token_ms: int | None = None
    stored = False
    failed = False
    try:
        passages: list[Passage] = []
        shown: list[dict[str, Any]] = []  # the sources listed under the answer
        fell_back = False
        usage = llm.Usage()
        canned = extractive.small_talk(turn.message, welcome=turn.welcome)
        if turn.handoff is not None:
            text: str | None = turn.handoff.message
        elif canned is not None and turn.llm is None:
            text = canned
        else:
            if canned is not None:
                found = Retrieval([], True)
            elif turn.prefetched is not None:
                found = turn.prefetched
            else:
                query = await followup.retrieval_query(turn.message, turn.history, turn.llm)
                found = await anyio.to_thread.run_sync(_retrieve, turn, query)
            tools = turn.llm is not None and bool(turn.bot_actions and turn.bot_actions.has_tools)
            if canned is None and not found.confident and not tools:
                text, fell_back = turn.fallback, True
            elif turn.llm is None:
                query = followup.heuristic_query(turn.message, turn.history)
                extract = await anyio.to_thread.run_sync(_extract, turn.message, query, found)
                if extract is None:
                    text, fell_back = turn.fallback, True
                else:
                    text = extract.text
                    shown = [citations.source(n, p) for n, p in enumerate(extract.passages, 1)]
            else:
                text, passages = None, found.passages
            offline_actions = turn.llm is None and canned is None and turn.bot_actions is not None
            if offline_actions and turn.bot_actions.available:  # offline: the owner's rules pick
                ran = await anyio.to_thread.run_sync(
                    lambda: actions.offline(turn.bot_actions, turn.message, fell_back=fell_back)
                )
                if ran is not None:
                    text, fell_back, shown = ran, False, []

        if text is not None:
            for piece in extractive.word_chunks(text):
                if first_token_ms is None:
                    first_token_ms = _ms(turn)
                pieces.append(piece)
                yield Event("token", {"content": piece})
        else:
            settings = get_settings()
            messages = prompts.chat_messages(
                bot_name=turn.bot_name,
                instructions=turn.instructions,
                fallback=turn.fallback,
                passages=passages,
                history=turn.history,
                question=turn.message,
                audience=audiences.prompt_part(turn.audiences, turn.audience),
            )
            async for piece in actions.stream_answer(
                turn.bot_actions,
                turn.llm,
                messages,
                usage=usage,
                max_tokens=settings.llm_max_tokens,
                temperature=turn.temperature,
                attempts=settings.llm_attempts,
                retry_base=settings.llm_retry_base_seconds,
            ):
                if first_token_ms is None:
                    first_token_ms = _ms(turn)
                pieces.append(piece)
                yield Event("token", {"content": piece})
            answer_text = "".join(pieces)
            if not usage.reported:
                usage.prompt_tokens = sum(llm.estimate_tokens(m["content"]) for m in messages)
                usage.completion_tokens = llm.estimate_tokens(answer_text)
            fell_back = canned is None and citations.is_fallback(answer_text, turn.fallback)
            if not fell_back and canned is None:
                shown = citations.cited(answer_text, passages)

        yield Event("sources", {"sources": shown})
        for event in actions.events(turn.bot_actions):
            yield event
        answer = conversations.Answer(
            content="".join(pieces),
            citations=shown,
            fell_back=fell_back,
            model=turn.llm.model if turn.llm and text is None else "extractive",
            latency_ms=_ms(turn),
            first_token_ms=first_token_ms,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
        )
        message_id = await anyio.to_thread.run_sync(_store, turn, answer)
        stored = True
        for action in turn.handoff_actions:
            yield Event("action", action)
        yield _done(turn, message_id, not fell_back, usage.prompt_tokens, usage.completion_tokens)
    except Exception as exc:  # the visitor gets a sentence; the details go to the log
        failed = True
        if isinstance(exc, llm.LLMError):
            code, message = exc.code, exc.message
        else:
            log.exception("chat answer failed (bot %s)", turn.bot_id)
            code, message = "unavailable", UNAVAILABLE
        if not pieces:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(_record_failure, turn)
        yield Event("error", {"code": code, "message": message})
    finally:
        if not stored and not failed and pieces:
            # The visitor left mid-answer: keep what was said (shielded from the cancellation).
            with anyio.CancelScope(shield=True):
                partial = conversations.Answer(
                    "".join(pieces),
                    [],
                    False,
                    turn.llm.model if turn.llm else "extractive",
                    _ms(turn),
                    first_token_ms,
                    0,
                    llm.estimate_tokens("".join(pieces)),
                )
                try:
                    await anyio.to_thread.run_sync(_store, turn, partial)
                except Exception:
                    log.warning("could not store an interrupted answer", exc_info=True)


def _extract(question: str, query: str, found: Retrieval) -> extractive.Extract | None:
    from chatapp.services.embeddings import get_embedder

    try:
        embedder = get_embedder()
    except ServiceError:
        embedder = None
    return extractive.compose(question, found.passages, query=query, embedder=embedder)


# ------------------------------------------------------------------------------ conveniences


async def stream(request: ChatRequest) -> AsyncIterator[Event]:
    """begin() + events(), with refusals as an `error` event (code = the HTTP status)."""
    try:
        turn = await begin(request)
    except ServiceError as exc:
        yield Event("error", {"code": str(exc.status), "message": exc.message})
        return
    async for event in events(turn):
        yield event


async def reply(request: ChatRequest) -> ChatReply:
    """The non-streaming form: the whole answer at once (refusals raise ServiceError)."""
    turn = await begin(request)
    result = ChatReply(session_id=turn.session_id, conversation_id=turn.conversation_id)
    parts: list[str] = []
    async for event in events(turn):
        if event.type == "token":
            parts.append(event.data["content"])
        elif event.type == "sources":
            result.sources = event.data["sources"]
        elif event.type == "done":
            result.message_id = event.data["message_id"]
            result.answered = event.data["answered"]
            result.usage = event.data["usage"]
            result.latency_ms = event.data["latency_ms"]
        elif event.type == "error":
            result.error = {"code": event.data["code"], "message": event.data["message"]}
    result.answer = "".join(parts)
    return result
