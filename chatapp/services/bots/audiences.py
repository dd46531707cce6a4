"""Who the visitor is (seed 003): the conversation's audience and the instructions it brings.

A bot may define audiences (`bot.audiences`: key, label, instructions, starter questions). The
visitor picks one (the widget's quick replies send its `key`); an unknown key is refused with a
sentence. Without a pick, the first messages of a conversation are classified: offline by words
of the label found in the message and by the similarity of the message to each audience's label
and instructions (local embedder), and only when one audience clearly wins; with an LLM, by a
one-word classification, strictly parsed, falling back to offline when the answer is not a key.
Once known, the key is stored on `conversation.audience` and never re-guessed.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

import anyio.to_thread
import numpy as np
import Stemmer
from sqlmodel import col, update

from chatapp.core.db import session_scope
from chatapp.core.errors import ServiceError, ValidationFailed
from chatapp.services.chat.llm import client as llm
from chatapp.services.knowledge.embeddings import get_embedder
from chatapp.services.models import Conversation

log = logging.getLogger(__name__)

CLASSIFY_FIRST_MESSAGES = 3  # user messages of a conversation that may be classified
MIN_SIMILARITY = 0.42  # offline: the best audience's cosine must reach this ...
MIN_MARGIN = 0.07  # ... and beat the second best by this much
_stemmer = Stemmer.Stemmer("english")
_WORD = re.compile(r"[a-z0-9]+")
_GENERIC = frozenset({"a", "an", "the", "other", "someone", "visitor", "people", "i", "am", "im"})


def of(bot: Any) -> list[dict[str, Any]]:
    return list(getattr(bot, "audiences", None) or [])


def find(audiences: Sequence[dict[str, Any]], key: str) -> dict[str, Any] | None:
    return next((a for a in audiences if a.get("key") == key), None)


def check_pick(audiences: Sequence[dict[str, Any]], key: str | None) -> str:
    """The visitor's pick as a stored key ("" for none); an unknown key is refused."""
    key = (key or "").strip()
    if not key:
        return ""
    if find(audiences, key) is None:
        if not audiences:
            raise ValidationFailed(f"This bot has no audiences, so audience {key!r} is unknown.")
        known = ", ".join(a["key"] for a in audiences)
        raise ValidationFailed(f"Unknown audience {key!r}: choose one of {known}.")
    return key


def public(bot: Any) -> list[dict[str, Any]]:
    """What the widget shows: key, label, starter questions (never the instructions)."""
    return [
        {
            "key": a["key"],
            "label": a["label"],
            "starter_questions": list(a.get("starter_questions") or []),
        }
        for a in of(bot)
    ]


def prompt_part(audiences: Sequence[dict[str, Any]], key: str) -> tuple[str, str]:
    """(label, instructions) of the conversation's audience, for the prompt; ("", "") if none."""
    audience = find(audiences, key) if key else None
    if audience is None:
        return "", ""
    return audience["label"], audience.get("instructions", "")


def starter_questions(bot: Any, key: str) -> list[str]:
    """The audience's own starter questions, else the bot's."""
    audience = find(of(bot), key) if key else None
    if audience and audience.get("starter_questions"):
        return list(audience["starter_questions"])
    return list(getattr(bot, "starter_questions", None) or [])


# ------------------------------------------------------------------------------- offline


def _stems(text: str) -> set[str]:
    words = [w for w in _WORD.findall(text.lower()) if w not in _GENERIC and len(w) > 2]
    return set(_stemmer.stemWords(words))


def keyword_hits(audiences: Sequence[dict[str, Any]], message: str) -> list[str]:
    """Keys of the audiences whose label words appear in the message (stemmed)."""
    said = _stems(message)
    return [a["key"] for a in audiences if _stems(a["label"]) & said]


def classify_offline(
    audiences: Sequence[dict[str, Any]], message: str, embedder: Any = None
) -> str:
    """The audience the message clearly comes from, or "" when it is not clear."""
    if not audiences or not message.strip():
        return ""
    hits = keyword_hits(audiences, message)
    if len(hits) == 1:
        return hits[0]
    if embedder is None:
        return ""
    try:
        query = embedder.embed_query(message)
        profiles = embedder.embed_documents(
            [f"{a['label']}. {a.get('instructions', '')}".strip() for a in audiences]
        )
    except ServiceError:
        log.warning("audience classification: embedder unavailable", exc_info=True)
        return ""
    scores = np.asarray(profiles) @ np.asarray(query)
    order = np.argsort(-scores)
    best = float(scores[order[0]])
    second = float(scores[order[1]]) if len(order) > 1 else -1.0
    candidates = [audiences[i]["key"] for i in order]
    if hits:  # several labels named: only those may win
        candidates = [k for k in candidates if k in hits]
        if candidates and candidates[0] == audiences[int(order[0])]["key"]:
            return candidates[0]
        return ""
    if best >= MIN_SIMILARITY and best - second >= MIN_MARGIN:
        return candidates[0]
    return ""


# ----------------------------------------------------------------------------------- LLM


def classify_messages(audiences: Sequence[dict[str, Any]], text: str) -> list[dict[str, str]]:
    """A one-word classification prompt: the model answers a key or `none`."""
    listing = "\n".join(
        f"- {a['key']}: {a['label']}. {a.get('instructions', '')[:300]}".rstrip() for a in audiences
    )
    return [
        {
            "role": "system",
            "content": (
                "Classify who the visitor of a website chat is, from their messages. "
                f"The audiences:\n{listing}\n"
                "Reply with exactly one key from the list, or `none` when the messages do not "
                "say clearly. Reply with the key only."
            ),
        },
        {"role": "user", "content": text[:2000]},
    ]


def parse_key(audiences: Sequence[dict[str, Any]], reply: str) -> str | None:
    """A key the model answered, "" for `none`, None when the reply is not one of them."""
    word = reply.strip().strip("`'\".").strip().lower()
    if word == "none":
        return ""
    return word if find(audiences, word) is not None else None


async def classify(
    audiences: Sequence[dict[str, Any]], text: str, config: Any, embedder: Any = None
) -> str:
    """With an LLM configured ask it; on an error or an unparseable reply, decide offline."""
    if not audiences:
        return ""
    if config is not None:
        try:
            reply = await llm.complete(config, classify_messages(audiences, text), max_tokens=10)
        except llm.LLMError:
            log.info("audience classification by the model failed; classifying offline")
        else:
            key = parse_key(audiences, reply)
            if key is not None:
                return key
    return await anyio.to_thread.run_sync(classify_offline, audiences, text, embedder)


# -------------------------------------------------------------------------------- storing


def store(session: Any, *, workspace_id: int, conversation_id: int, key: str, pick: bool) -> None:
    """Record the audience: a visitor's pick replaces any; a classification only fills a gap."""
    statement = update(Conversation).where(
        col(Conversation.id) == conversation_id, col(Conversation.workspace_id) == workspace_id
    )
    if not pick:
        statement = statement.where(col(Conversation.audience) == "")
    session.execute(statement.values(audience=key))


async def settle(
    *,
    audiences: Sequence[dict[str, Any]],
    workspace_id: int,
    conversation_id: int,
    texts: Sequence[str],
    config: Any,
) -> str:
    """Classify the visitor's first messages and store the audience when one is clear."""
    try:
        embedder = await anyio.to_thread.run_sync(get_embedder)
    except ServiceError:
        embedder = None
    key = await classify(audiences, "\n".join(texts), config, embedder)
    if key:

        def write() -> None:
            with session_scope() as session:
                store(
                    session,
                    workspace_id=workspace_id,
                    conversation_id=conversation_id,
                    key=key,
                    pick=False,
                )

        await anyio.to_thread.run_sync(write)
    return key
