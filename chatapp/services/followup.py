"""Follow-up questions: build a retrieval query that carries the conversation's subject.

"and on weekends?" alone finds nothing; together with the previous question ("What are your
opening hours?") it finds the opening-hours passage. A message that looks like a follow-up (short,
starts with "and"/"what about"..., or leans on a pronoun) is condensed: by the LLM when one is
configured (falling back to the heuristic if it fails), otherwise by joining the recent user turns.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

from chatapp.services import llm, prompts
from chatapp.services.providers import LLMConfig

log = logging.getLogger(__name__)

_WORD = re.compile(r"[\w']+", re.UNICODE)
_STARTERS = (
    "and ",
    "but ",
    "or ",
    "also ",
    "so ",
    "then ",
    "what about",
    "how about",
    "what else",
    "same ",
    "is that",
    "does that",
    "why ",
)
_PRONOUN = re.compile(
    r"\b(it|its|it's|that|those|these|this|they|them|their|there|he|she|him|her|one|ones)\b",
    re.IGNORECASE,
)
SHORT_WORDS = 3
PRONOUN_WORDS = 10


def looks_like_followup(message: str) -> bool:
    text = message.strip().lower()
    words = _WORD.findall(text)
    if not words:
        return False
    if len(words) <= SHORT_WORDS or text.startswith(_STARTERS):
        return True
    return len(words) <= PRONOUN_WORDS and bool(_PRONOUN.search(text))


def recent_user_turns(history: Sequence[tuple[str, str]], limit: int = 2) -> list[str]:
    return [content for role, content in history if role == "user"][-limit:]


def heuristic_query(message: str, history: Sequence[tuple[str, str]]) -> str:
    """The recent user turns followed by the message (the message alone if not a follow-up)."""
    previous = recent_user_turns(history, limit=1)
    if not previous or not looks_like_followup(message):
        return message
    return f"{previous[-1].strip()[:500]} {message.strip()}"


async def retrieval_query(
    message: str,
    history: Sequence[tuple[str, str]],
    config: LLMConfig | None,
    *,
    max_tokens: int = 80,
) -> str:
    """The query to retrieve passages with (the message itself when it stands alone)."""
    if not recent_user_turns(history) or not looks_like_followup(message):
        return message
    if config is not None:
        try:
            rewritten = await llm.complete(
                config, prompts.condense_messages(history, message), max_tokens=max_tokens
            )
        except llm.LLMError:
            rewritten = ""
        rewritten = rewritten.strip().strip('"').strip()
        if rewritten and len(rewritten) <= 1000:
            return rewritten
        log.info("follow-up condensation unavailable; using the recent turns")
    return heuristic_query(message, history)
