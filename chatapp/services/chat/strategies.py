"""Each kind of answer as one small strategy: an async generator of the text pieces the visitor
is sent, which fills in the answer's `Draft` (sources, fell back, usage) as it goes.

    replay       the stored answer of a retried request (engine.py: nothing is stored again)
    human        a person handles the conversation: the bot says nothing (engine.py)
    say          a fixed text: the handoff's message, or a reply to small talk offline
    offline      answerable: the sentences of the passages that answer; else the fallback;
                 then the owner's action rules (lead form, handoff, HTTP call, link)
    llm_answer   the model, from the passages only, with the bot's actions as tools
    routed       a router bot's chosen bot(s) (routed.py)

`plan()` picks one from the turn: the answerability verdict comes before any answer is composed,
with or without an LLM and with or without actions.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import anyio
import anyio.to_thread

from chatapp.core.config import get_settings
from chatapp.core.errors import ServiceError
from chatapp.services.actions import in_chat
from chatapp.services.bots import audiences
from chatapp.services.chat import citations, followup
from chatapp.services.chat.compose import answerability, extractive
from chatapp.services.chat.llm import client as llm
from chatapp.services.chat.llm import outcome as llm_outcome
from chatapp.services.chat.llm import prompts
from chatapp.services.chat.turn import Draft, Turn, retrieve_passages
from chatapp.services.knowledge.embeddings import get_embedder
from chatapp.services.knowledge.retrieval import Passage, Retrieval

Strategy = Callable[[Turn, Draft], AsyncIterator[str]]


def sources(question: str, passages: Sequence[Passage]) -> list[dict[str, Any]]:
    """Numbered sources, each with the owner's plain word for how well it matches."""
    return [
        {**citations.source(n, p), "strength": answerability.passage_strength(question, p)}
        for n, p in enumerate(passages, 1)
    ]


def _embedder():
    try:
        return get_embedder()
    except ServiceError:
        return None


def judge(question: str, found: Retrieval, *, sentences: bool = True) -> answerability.Verdict:
    """Do the passages answer the question? With `sentences`, the best sentence's meaning is
    weighed too (it embeds them: in a worker thread; offline, composing reuses the vectors).
    Without, words and passage scores decide: cheap for an LLM turn, whose model has its own
    "not in the sources" outcome."""
    if not found.confident:
        return answerability.Verdict(False, "none", 0.0)
    embedder = _embedder() if sentences else None
    return answerability.judge(question, found.passages, embedder=embedder)


async def say(text: str, turn: Turn, draft: Draft) -> AsyncIterator[str]:
    for piece in extractive.word_chunks(text):
        yield piece


async def offline(
    found: Retrieval, verdict: answerability.Verdict, turn: Turn, draft: Draft
) -> AsyncIterator[str]:
    text = None
    if verdict.answerable:
        query = followup.heuristic_query(turn.message, list(turn.history))
        extract = await anyio.to_thread.run_sync(compose, turn.message, query, found)
        if extract is not None:
            text = extract.text
            draft.sources = sources(turn.message, extract.passages)
    if text is None:
        text, draft.fell_back = turn.fallback, True
    if turn.bot_actions is not None and turn.bot_actions.available:  # the owner's rules pick
        ran = await anyio.to_thread.run_sync(
            lambda: in_chat.offline(turn.bot_actions, turn.message, fell_back=draft.fell_back)
        )
        if ran is not None:
            text, draft.fell_back, draft.sources = ran, False, []
    for piece in extractive.word_chunks(text):
        yield piece


def compose(question: str, query: str, found: Retrieval) -> extractive.Extract | None:
    """The offline answer from the retrieved passages (in a worker thread: it embeds)."""
    return extractive.compose(question, found.passages, query=query, embedder=_embedder())


async def llm_answer(
    passages: list[Passage], small_talk: bool, turn: Turn, draft: Draft
) -> AsyncIterator[str]:
    """The model's answer from `passages` only (none: it may only call a tool or say that it
    does not know), fitted to the model's window. "Not in the sources" (the prompt's marker) and
    tool calls written as text never reach the visitor; the marker becomes the fallback."""
    settings = get_settings()
    assert turn.llm is not None, "plan() picks the model's answer only when the bot has one"
    draft.model = turn.llm.model
    window = llm.context_tokens(turn.llm)
    fit = prompts.fit_chat_messages(
        context_tokens=window,
        max_tokens=settings.llm_max_tokens,
        tools=turn.bot_actions.tool_specs() if turn.bot_actions is not None else None,
        bot_name=turn.bot_name,
        instructions=turn.instructions,
        fallback=turn.fallback,
        passages=passages,
        history=list(turn.history),
        question=turn.message,
        audience=audiences.prompt_part(list(turn.audiences), turn.audience),
        marker=llm_outcome.MARKER,
    )
    stream = in_chat.stream_answer(
        turn.bot_actions,
        turn.llm,
        fit.messages,
        usage=draft.usage,
        context_tokens=window,
        max_tokens=fit.max_tokens,
        temperature=turn.temperature,
        attempts=settings.llm_attempts,
        retry_base=settings.llm_retry_base_seconds,
    )
    shown = llm_outcome.AnswerFilter()
    # Without passages (not answerable, but the bot has actions) the model may only act: what it
    # says is held back and shown only if it called an action (run or refused), else the
    # fallback is said.
    hold = not passages and not small_talk
    async for piece in llm_outcome.filtered(stream, shown):
        if not hold:
            yield piece
    if hold:
        if turn.bot_actions is not None and turn.bot_actions.called and shown.text.strip():
            for piece in extractive.word_chunks(shown.text):
                yield piece
        else:
            draft.fell_back = True
            for piece in extractive.word_chunks(turn.fallback):
                yield piece
            return
    if draft.usage.cut:
        draft.done_extra["cut"] = True  # the model stopped at its length limit
    if shown.not_in_sources and not shown.text.strip():
        draft.fell_back = True
        for piece in extractive.word_chunks(turn.fallback):
            yield piece
        return
    offered = turn.bot_actions is not None and bool(turn.bot_actions.offered)
    draft.fell_back = not small_talk and (
        shown.not_in_sources
        or citations.is_fallback(shown.text, turn.fallback)
        or (not fit.passages and not offered)
    )
    if not draft.fell_back and not small_talk and fit.passages:
        draft.sources = with_strength(
            turn.message, citations.listed(shown.text, fit.passages), fit.passages
        )


def with_strength(
    question: str, listed: list[dict[str, Any]], passages: Sequence[Passage]
) -> list[dict[str, Any]]:
    """Listed sources (numbered as the prompt's passages) with the owner's word for each."""
    return [
        {**item, "strength": answerability.passage_strength(question, passages[item["n"] - 1])}
        for item in listed
    ]


async def plan(turn: Turn) -> Strategy:
    """The strategy that answers this turn (routed, human and replay are the engine's)."""
    if turn.handoff is not None:
        return functools.partial(say, turn.handoff.message)
    canned = extractive.small_talk(turn.message, welcome=turn.welcome)
    if canned is not None:
        if turn.llm is None:
            return functools.partial(say, canned)
        return functools.partial(llm_answer, [], True)
    if turn.prefetched is not None:
        query, found = turn.message, turn.prefetched
    else:
        query = await followup.retrieval_query(turn.message, list(turn.history), turn.llm)
        found = await anyio.to_thread.run_sync(retrieve_passages, turn, query)
    # A follow-up ("and on weekends?") is judged as the question it continues.
    verdict = await anyio.to_thread.run_sync(
        lambda: judge(query, found, sentences=turn.llm is None)
    )
    if turn.llm is None:
        return functools.partial(offline, found, verdict)
    tools = turn.bot_actions is not None and turn.bot_actions.has_tools
    if not verdict.answerable and not tools:
        return functools.partial(say_fallback)
    # With actions, a question the passages do not answer still reaches the model, which may
    # call an action; it is given no passage to answer from.
    return functools.partial(llm_answer, found.passages if verdict.answerable else [], False)


async def say_fallback(turn: Turn, draft: Draft) -> AsyncIterator[str]:
    draft.fell_back = True
    for piece in extractive.word_chunks(turn.fallback):
        yield piece
