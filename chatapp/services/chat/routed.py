"""A router bot's answer: the chosen bot(s) answer with their own knowledge, instructions and
fallback; a message with two intents gets two answers in one reply, each introduced by the
answering bot's name, with the sources of both; an unclear message gets the clarifying question.

The conversation (its history, usage and quota) stays on the router bot; the stored answer
records the (first) answering bot in `message.routed_bot_id`. It is one strategy of the engine:
storing, accounting and the `sources`, `action` and `done` events are the engine's, as for any
answer. What the visitor is sent is exactly what is stored: the second part's citation numbers
are shifted as they stream, and its heading starts on a new paragraph.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import anyio
import anyio.to_thread

from chatapp.core.config import get_settings
from chatapp.core.db import session_scope
from chatapp.services.actions import in_chat
from chatapp.services.bots import audiences
from chatapp.services.bots.routing import Target
from chatapp.services.chat import citations, followup, strategies
from chatapp.services.chat.compose import extractive
from chatapp.services.chat.llm import client as llm
from chatapp.services.chat.llm import outcome as llm_outcome
from chatapp.services.chat.llm import prompts
from chatapp.services.chat.turn import Draft, Turn, retrieve_passages
from chatapp.services.knowledge.retrieval import Retrieval
from chatapp.services.models import Bot

_CITATION = re.compile(r"\[(\d{1,2})\]")
_OPEN_CITATION = re.compile(r"\[\d{0,2}$")  # a marker cut between two streamed pieces


@dataclass(frozen=True)
class _Answerer:
    bot_id: int
    name: str
    instructions: str
    fallback: str


def _answerer(workspace_id: int, target: Target) -> _Answerer:
    with session_scope() as session:
        bot = session.get(Bot, target.bot_id)
        if bot is None or bot.workspace_id != workspace_id:  # never another workspace's bot
            raise LookupError(f"routed bot {target.bot_id} is not in workspace {workspace_id}")
        return _Answerer(bot.id, bot.name, bot.instructions, bot.fallback_message)


def renumber(text: str, sources: list[dict[str, Any]], offset: int) -> tuple[str, list[dict]]:
    """Shift citation numbers by `offset` so two answers' sources do not collide."""
    if not offset:
        return text, sources
    shifted = _CITATION.sub(lambda m: f"[{int(m.group(1)) + offset}]", text)
    return shifted, [{**s, "n": s["n"] + offset} for s in sources]


class Renumbering:
    """Shifts citation numbers in a stream of pieces, holding back a marker cut in two."""

    def __init__(self, offset: int) -> None:
        self.offset, self.held = offset, ""

    def feed(self, piece: str) -> str:
        text = self.held + piece
        cut = _OPEN_CITATION.search(text)
        self.held = text[cut.start() :] if cut else ""
        return renumber(text[: cut.start()] if cut else text, [], self.offset)[0]

    def flush(self) -> str:
        rest, self.held = self.held, ""
        return renumber(rest, [], self.offset)[0]


async def _part(
    turn: Turn, who: _Answerer, question: str, draft: Draft, fell_back: list[bool]
) -> AsyncIterator[str]:
    """One bot's part of the answer, its citations numbered after the earlier parts' sources;
    whether it fell back is appended to `fell_back`."""
    offset = len(draft.sources)
    found: Retrieval = await anyio.to_thread.run_sync(
        lambda: retrieve_passages(turn, question, bot_id=who.bot_id)
    )
    verdict = await anyio.to_thread.run_sync(
        lambda: strategies.judge(question, found, sentences=turn.llm is None)
    )
    if not verdict.answerable:
        fell_back.append(True)
        for piece in extractive.word_chunks(who.fallback):
            yield piece
        return
    if turn.llm is None:
        query = followup.heuristic_query(question, list(turn.history))
        extract = await anyio.to_thread.run_sync(strategies.compose, question, query, found)
        if extract is None:
            fell_back.append(True)
            text = who.fallback
        else:
            fell_back.append(False)
            text, listed = renumber(
                extract.text, strategies.sources(question, extract.passages), offset
            )
            draft.sources += listed
        for piece in extractive.word_chunks(text):
            yield piece
        return
    settings = get_settings()
    window = llm.context_tokens(turn.llm)
    fit = prompts.fit_chat_messages(
        context_tokens=window,
        max_tokens=settings.llm_max_tokens,
        bot_name=who.name,
        instructions=who.instructions,
        fallback=who.fallback,
        passages=found.passages,
        history=list(turn.history),
        question=question,
        audience=audiences.prompt_part(list(turn.audiences), turn.audience),
        marker=llm_outcome.MARKER,
    )
    usage = llm.Usage()
    stream = llm.stream_chat(
        turn.llm,
        fit.messages,
        usage=usage,
        max_tokens=fit.max_tokens,
        temperature=turn.temperature,
        attempts=settings.llm_attempts,
        retry_base=settings.llm_retry_base_seconds,
    )
    shown = llm_outcome.AnswerFilter()
    shift = Renumbering(offset)
    async for piece in llm_outcome.filtered(stream, shown):
        if shifted := shift.feed(piece):
            yield shifted
    if rest := shift.flush():
        yield rest
    draft.usage.prompt_tokens += usage.prompt_tokens
    draft.usage.completion_tokens += usage.completion_tokens
    if shown.not_in_sources and not shown.text.strip():
        fell_back.append(True)
        for piece in extractive.word_chunks(who.fallback):
            yield piece
        return
    fell_back.append(shown.not_in_sources or citations.is_fallback(shown.text, who.fallback))
    if not fell_back[-1]:
        listed = strategies.with_strength(
            question, citations.listed(shown.text, fit.passages), fit.passages
        )
        _, listed = renumber("", listed, offset)
        draft.sources += listed


async def answer(turn: Turn, draft: Draft) -> AsyncIterator[str]:
    """The routed (or clarifying) answer's pieces; `draft` gets its sources and outcome."""
    decision = turn.route
    assert decision is not None, "engine.events answers this way only for a routed turn"
    draft.model = turn.llm.model if turn.llm else "extractive"
    draft.done_extra |= {"routed_to": [], "clarify": decision.kind == "clarify"}
    if decision.kind == "clarify":
        for piece in extractive.word_chunks(decision.question):
            yield piece
        return
    two = len(decision.targets) > 1
    fell_back: list[bool] = []
    for number, target in enumerate(decision.targets):
        who = await anyio.to_thread.run_sync(_answerer, turn.workspace_id, target)
        draft.done_extra["routed_to"].append(who.name)
        draft.routed_bot_id = draft.routed_bot_id or who.bot_id
        if two:
            yield ("\n\n" if number else "") + f"**{who.name}:** "
        async for piece in _part(turn, who, target.text, draft, fell_back):
            yield piece
    draft.fell_back = all(fell_back)
    if turn.llm is None and turn.bot_actions is not None and turn.bot_actions.available:
        # The router's own actions apply to its answers as to any bot's (link, lead form...).
        ran = await anyio.to_thread.run_sync(
            lambda: in_chat.offline(turn.bot_actions, turn.message, fell_back=draft.fell_back)
        )
        if ran is not None:
            draft.fell_back = False
            yield "\n\n" + ran
