"""Actions inside the chat pipeline (the few calls `chat.py` makes).

load()          the bot's enabled actions, once per turn (in begin()'s transaction)
offline()       no LLM: the rules pick actions; an HTTP action's filled answer_template
                becomes the answer's text
stream_answer() with an LLM: the actions are tools; calls are run (at most
                ACTION_MAX_TOOL_CALLS per message), their results go back to the model,
                which writes the answer
events()        the `action` events (after `sources`, before `done`)
attach()        what the answer offered, stored in `message.actions`
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import anyio.to_thread
from sqlmodel import Session

from chatapp.core.config import get_settings
from chatapp.core.db import session_scope
from chatapp.services.actions import execute as runner
from chatapp.services.actions import rules, store, tools
from chatapp.services.chat.llm import client as llm
from chatapp.services.chat.llm import prompts
from chatapp.services.chat.request import Event
from chatapp.services.models import ActionRunOutcome, Message

log = logging.getLogger(__name__)
MAX_TOOL_RESULT_CHARS = 4000  # an API's answer goes back to the model; a whole page would not fit


@dataclass
class TurnActions:
    """One visitor message's actions: those available, and what was offered."""

    workspace_id: int
    bot_id: int
    conversation_id: int
    available: list[store.Snapshot]
    offered: list[dict[str, Any]] = field(default_factory=list)
    called: int = 0  # tool calls the model made, run or refused

    @property
    def has_tools(self) -> bool:
        return bool(self.available) and get_settings().action_max_tool_calls > 0

    def tool_specs(self) -> list[dict[str, Any]] | None:
        """The tools the model is offered (their schemas take room in the prompt), or None."""
        return tools.as_tools(self.available) if self.has_tools else None

    def add(self, outcome: runner.Outcome) -> None:
        self.offered.append(outcome.offered)


def load(session: Session, *, workspace_id: int, bot_id: int, conversation_id: int) -> TurnActions:
    available = store.enabled_actions(session, workspace_id=workspace_id, bot_id=bot_id)
    return TurnActions(workspace_id, bot_id, conversation_id, available)


def offline(turn: TurnActions | None, message: str, *, fell_back: bool) -> str | None:
    """Run the actions whose rules fire (in a worker thread); the HTTP answer text, if any."""
    if turn is None or not turn.available:
        return None
    picked = rules.pick(turn.available, message, fell_back=fell_back)
    answer = None
    for action, why in picked:
        params: dict[str, Any] = {}
        if action.kind == "http":
            if answer is not None:
                continue  # one HTTP answer per message
            params = rules.extract_parameters(action.config.get("parameters") or {}, message)
        with session_scope() as session:
            outcome = runner.run(
                session,
                action,
                trigger="rule",
                params=params,
                conversation_id=turn.conversation_id,
                reason=why,
            )
        turn.add(outcome)
        if action.kind == "http" and outcome.outcome == ActionRunOutcome.OK:
            answer = outcome.answer
    return answer


async def stream_answer(
    turn: TurnActions | None,
    config: llm.LLMConfig,
    messages: list[dict],
    *,
    usage: llm.Usage,
    context_tokens: int | None = None,
    **options: Any,
) -> AsyncIterator[str]:
    """The model's answer, with the actions offered as tools; same options as stream_chat.

    With `context_tokens` (the model's window), `max_tokens` of the rounds after a tool call is
    capped to what the grown prompt leaves; each tool result is cut at MAX_TOOL_RESULT_CHARS.
    `usage` sums the rounds; it is `reported` only if every round's was, and `cut` if the last
    round was cut."""
    if turn is None or not turn.has_tools:
        async for piece in llm.stream_chat(config, messages, usage=usage, **options):
            yield piece
        return
    offered = tools.as_tools(turn.available)
    left = get_settings().action_max_tool_calls
    conversation = list(messages)
    reported = True
    usage.prompt_tokens = usage.completion_tokens = 0
    max_tokens = options.get("max_tokens", 0)
    while True:
        calls: list[llm.ToolCall] = []
        round_usage = llm.Usage()
        async for piece in llm.stream_chat(
            config,
            conversation,
            usage=round_usage,
            tools=offered,
            tool_choice=None if left > 0 else "none",
            tool_calls=calls,
            **options,
        ):
            yield piece
        usage.prompt_tokens += round_usage.prompt_tokens
        usage.completion_tokens += round_usage.completion_tokens
        reported = reported and round_usage.reported
        usage.cut, usage.finish_reason = round_usage.cut, round_usage.finish_reason
        calls = calls[:left]
        if not calls:
            break
        left -= len(calls)
        conversation.append(llm.tool_call_message(calls))
        for call in calls:
            outcome = await anyio.to_thread.run_sync(_run_call, turn, call)
            content = outcome[:MAX_TOOL_RESULT_CHARS]
            conversation.append({"role": "tool", "tool_call_id": call.id, "content": content})
        if context_tokens:  # the results grew the prompt: leave the answer what still fits
            size = prompts.prompt_tokens(conversation, offered)
            options["max_tokens"] = max(16, min(max_tokens, context_tokens - size))
    usage.reported = reported


def _run_call(turn: TurnActions, call: llm.ToolCall) -> str:
    turn.called += 1
    with session_scope() as session:
        outcome = tools.run_call(
            session,
            turn.available,
            name=call.name,
            arguments=call.arguments,
            conversation_id=turn.conversation_id,
        )
    if outcome.outcome != ActionRunOutcome.REFUSED or outcome.event:
        turn.add(outcome)
    return outcome.output or outcome.error or outcome.outcome


def events(turn: TurnActions | None) -> list[Event]:
    """The `action` events of what this answer offered (link, lead_form, handoff)."""
    if turn is None:
        return []
    shown = []
    for offered in turn.offered:
        if (
            offered.get("kind") in ("link", "lead_form", "handoff")
            and offered["outcome"] == ActionRunOutcome.OK
        ):
            data = {k: v for k, v in offered.items() if k not in ("action_id", "name", "outcome")}
            shown.append(Event("action", data))
    return shown


def attach(
    session: Session,
    message_id: int,
    turn: TurnActions | None,
    *,
    also: list[dict[str, Any]] | None = None,
) -> None:
    """Store what the answer offered on its message (`message.actions`); `also`: the pipeline's
    own offers (a handoff asked for by a phrase or after fallbacks in a row)."""
    offered = (list(turn.offered) if turn is not None else []) + list(also or [])
    if not offered or not message_id:
        return
    message = session.get(Message, message_id)
    if message is not None:  # the answer's own message: the pipeline just stored it
        message.actions = offered
        session.add(message)
        session.flush()
