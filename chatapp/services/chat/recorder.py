"""The one place an answer is stored and accounted, whatever kind of answer it was.

complete  stored; counted answered or unanswered (fell back); handoff rules after it
partial   the visitor left mid-answer: what they were sent is stored and counted
failed    the answer broke: what the visitor saw (if anything) is stored, the message is
          given back to the quota and the failure counted as an error, never as answered
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from chatapp.core import metrics
from chatapp.core.db import session_scope
from chatapp.services.actions import in_chat
from chatapp.services.bots import quota
from chatapp.services.chat import conversations
from chatapp.services.chat.begin import handoff_event
from chatapp.services.chat.llm import client as llm
from chatapp.services.chat.turn import Draft, Turn
from chatapp.services.live import handoff
from chatapp.services.models import Conversation, ConversationStatus

log = logging.getLogger(__name__)


@dataclass
class Recorded:
    message_id: int | None
    status: str  # the conversation's status after the answer
    handoff_actions: list[dict[str, Any]] = field(default_factory=list)  # `action` events


def _answer(turn: Turn, draft: Draft, *, estimated: bool = False) -> conversations.Answer:
    text = draft.text
    usage = draft.usage
    prompt, completion = usage.prompt_tokens, usage.completion_tokens
    if estimated and not usage.reported:
        completion = completion or llm.estimate_tokens(text)
    return conversations.Answer(
        content=text,
        citations=draft.sources,
        fell_back=draft.fell_back,
        model=draft.model,
        latency_ms=turn.elapsed_ms(),
        first_token_ms=draft.first_token_ms,
        prompt_tokens=prompt,
        completion_tokens=completion,
        routed_bot_id=draft.routed_bot_id,
    )


def complete(turn: Turn, draft: Draft, *, partial: bool = False) -> Recorded:
    """Store a delivered answer (whole, or as far as the visitor stayed) and count it."""
    answer = _answer(turn, draft, estimated=partial)
    recorded = Recorded(None, turn.status, list(turn.handoff_actions))
    with session_scope() as session:
        conversation = session.get_one(Conversation, turn.conversation_id)
        recorded.message_id = conversations.add_answer(
            session, conversation, answer, turn.request.client_id or None
        )
        if turn.handoff is None and turn.request.actor is None and not partial:
            outcome = handoff.after_answer(session, conversation, fell_back=answer.fell_back)
            if outcome is not None:
                recorded.handoff_actions.append(handoff_event(outcome))
                if outcome.status != "unavailable":
                    recorded.status = outcome.status
        if turn.handoff is None and conversation.status != ConversationStatus.BOT:
            recorded.status = conversation.status  # the model or a rule handed it to a person
        in_chat.attach(
            session, recorded.message_id, turn.bot_actions, also=recorded.handoff_actions
        )
        conversations.count_usage(
            session,
            workspace_id=turn.workspace_id,
            bot_id=turn.bot_id,
            answered=not answer.fell_back,
            fell_back=answer.fell_back,
            prompt_tokens=answer.prompt_tokens,
            completion_tokens=answer.completion_tokens,
        )
    metrics.observe_answer(answer)
    return recorded


def failed(turn: Turn, draft: Draft) -> None:
    """The answer broke: keep what the visitor saw, give the message back, count the error.

    Never raises: when the database itself is what failed, the visitor still gets the `error`
    event (the refund is then lost, and logged)."""
    try:
        with session_scope() as session:
            if draft.said:
                conversation = session.get_one(Conversation, turn.conversation_id)
                conversations.add_answer(
                    session, conversation, _answer(turn, draft, estimated=True), None
                )
            quota.refund(session, turn.bot_id)
            conversations.count_usage(
                session, workspace_id=turn.workspace_id, bot_id=turn.bot_id, error=True
            )
    except Exception:
        log.warning("could not record a failed answer (bot %s)", turn.bot_id, exc_info=True)
    metrics.answer_outcome("error")
