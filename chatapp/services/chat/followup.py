"""Follow-up questions: build a retrieval query that carries the conversation's subject.

"and on weekends?" alone finds nothing; together with the previous question ("What are your
opening hours?") it finds the opening-hours passage. A message that looks like a follow-up (short,
starts with "and"/"what about"..., or leans on a pronoun) is condensed: by the LLM when one is
configured (falling back to the heuristic if it fails), otherwise by joining the recent user turns.

The LLM's rewrite is checked before it is searched for: a small model may apologise, refuse,
ramble or drift off the subject, and searching for "I'm sorry, I can't..." retrieves nothing
useful. Such a rewrite is discarded for the heuristic query. The rewrite costs a round trip before
the first token, so it is skipped without history and given up after LLM_REWRITE_TIMEOUT_SECONDS.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence

from chatapp.core.config import get_settings
from chatapp.services.bots.providers import LLMConfig
from chatapp.services.chat.llm import client as llm
from chatapp.services.chat.llm import prompts

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
MAX_REWRITE_CHARS = 300
_NOT_A_QUESTION = re.compile(
    r"\b(sorry|apologi[sz]e|as an ai|language model|unfortunately|i (?:can ?not|can't|"
    r"am unable|'m unable|won't|don't know|do not know)|unable to|not able to|"
    r"cannot (?:help|assist|rewrite|answer))\b",
    re.IGNORECASE,
)
_LABEL = re.compile(r"^(?:standalone |rewritten )?(?:question|query)\s*:\s*", re.IGNORECASE)
# Words that carry no subject: a rewrite must share at least one other word with the talk.
_STOPWORD_LIST = """
    a an the and or but if of to in on at by for with about from as into is are was were be
    been being do does did have has had can could would should will may might must shall i you
    he she it we they me him her us them my your his its our their this that these those what
    which who whom whose when where why how there here not no yes so than then too very also
    just any some all please tell know question"""
_STOPWORDS = frozenset(_STOPWORD_LIST.split())


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
    timeout: float | None = None,
) -> str:
    """The query to retrieve passages with (the message itself when it stands alone)."""
    if not recent_user_turns(history) or not looks_like_followup(message):
        return message
    if config is not None:
        wait = timeout if timeout is not None else get_settings().llm_rewrite_timeout_seconds
        try:
            rewritten = await asyncio.wait_for(
                llm.complete(
                    config, prompts.condense_messages(history, message), max_tokens=max_tokens
                ),
                wait,
            )
        except (llm.LLMError, TimeoutError):
            rewritten = ""
        rewritten = clean_rewrite(rewritten)
        if usable_rewrite(rewritten, message, history):
            return rewritten
        log.info("follow-up rewrite unusable (%r); using the recent turns", rewritten[:80])
    return heuristic_query(message, history)


def clean_rewrite(text: str) -> str:
    """The rewrite without quotes or a "Question:" label around it."""
    text = _LABEL.sub("", text.strip()).strip()
    return text.strip("\"'“”`").strip()


def content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if len(w) > 1 and w not in _STOPWORDS}


def usable_rewrite(rewrite: str, message: str, history: Sequence[tuple[str, str]]) -> bool:
    """A search query worth using: not empty or overlong, one line, no apology or refusal, and
    sharing at least one content word with the message or the recent turns."""
    if not rewrite or len(rewrite) > MAX_REWRITE_CHARS or "\n" in rewrite:
        return False
    talk = " ".join([message, *(content for _, content in history[-6:])])
    refusal = _NOT_A_QUESTION.search(rewrite)
    if refusal and refusal.group(0).lower() not in talk.lower():  # the visitor's words are fine
        return False
    return bool(content_words(rewrite) & content_words(talk))
