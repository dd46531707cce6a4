"""The missing-content report: what visitors asked that the bot could not answer, grouped.

A question is "unanswered" when the bot's answer to it fell back (`Message.fell_back` on the
assistant row: the bot said it did not know) or the visitor gave that answer a thumbs-down (an
answer the visitor found wrong is missing content too); its question is the visitor's message just
before it in the same conversation.
Only the most recent `MAX_QUESTIONS` such questions of the range are read, so the report costs the
same however long the bot has been running.

Grouping: identical texts (case, spacing and numbers ignored) are counted once, then the distinct
texts are embedded with the configured embedder and grouped greedily, most asked first: each text
not yet in a group starts one, and takes every other ungrouped text whose cosine similarity with
it is at least `SIMILARITY_THRESHOLD`. 0.75 was chosen on MiniLM pairs: paraphrases scored
0.79-0.90 ("Do you ship to Canada?" / "Can you deliver to Canada?" 0.80, "Can I pay with PayPal?"
/ "Do you accept PayPal?" 0.82), different questions on the same theme 0.64-0.71 (Canada / Japan
0.64, PayPal / bitcoin 0.71), unrelated ones below 0.3.

Embeddings of texts already seen are kept in memory (`_VectorCache`): the first report of a large
bot embeds up to a few thousand short texts (seconds on 2 cores), later ones only the new texts.

A group is "covered" when a Q&A source whose question is similar to the group's question was added
after the group was last asked: the report says so instead of asking for an answer again.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, func, select

from chatapp.services.accounts.tenancy import Actor, Permission, get_scoped
from chatapp.services.knowledge.embeddings import Embedder, get_embedder
from chatapp.services.models import Bot, Conversation, Message, Source
from chatapp.services.reports.analytics import DateRange

SIMILARITY_THRESHOLD = 0.75
MAX_QUESTIONS = 2_000
MAX_GROUPS = 50
MAX_EXAMPLES = 3
CACHE_SIZE = 20_000  # vectors kept (384 floats each: ~30 MB at most)


@dataclass(frozen=True)
class AskedQuestion:
    text: str
    asked_at: datetime


@dataclass
class MissingGroup:
    question: str  # the most asked wording
    count: int  # how many times any wording of the group was asked
    last_asked: datetime
    examples: list[str] = field(default_factory=list)  # other wordings, most asked first
    covered: bool = False  # a similar Q&A was added after it was last asked


def unanswered_questions(
    session: Session, actor: Actor, bot_id: int, period: DateRange, limit: int = MAX_QUESTIONS
) -> list[AskedQuestion]:
    """The visitor questions of the range whose answer fell back or got a thumbs-down, most
    recent first."""
    actor.require(Permission.READ)
    get_scoped(session, actor, Bot, bot_id, "Bot")
    begin, stop = period.bounds()
    answer = aliased(Message)
    question = aliased(Message)
    previous_question = (
        select(func.max(question.id))
        .where(
            question.conversation_id == answer.conversation_id,
            question.role == "user",
            question.id < answer.id,
        )
        .scalar_subquery()
    )
    fallbacks = (
        select(answer.id.label("answer_id"), previous_question.label("question_id"))
        .join(Conversation, col(Conversation.id) == answer.conversation_id)
        .where(
            Conversation.workspace_id == actor.workspace_id,
            Conversation.bot_id == bot_id,
            answer.workspace_id == actor.workspace_id,
            answer.role == "assistant",
            or_(col(answer.fell_back).is_(True), col(answer.feedback) < 0),
            answer.created_at >= begin,
            answer.created_at < stop,
        )
        .order_by(col(answer.created_at).desc(), col(answer.id).desc())
        .limit(limit)
        .subquery()
    )
    rows = session.exec(
        select(Message.content, Message.created_at)
        .join(fallbacks, fallbacks.c.question_id == Message.id)
        .order_by(col(Message.created_at).desc(), col(Message.id).desc())
    ).all()
    return [AskedQuestion(text, asked_at) for text, asked_at in rows]


def missing_content(
    session: Session,
    actor: Actor,
    *,
    bot_id: int,
    period: DateRange,
    limit: int = MAX_QUESTIONS,
    embedder: Embedder | None = None,
) -> list[MissingGroup]:
    """The report: groups of similar unanswered questions, most asked first."""
    asked = unanswered_questions(session, actor, bot_id, period, limit)
    if not asked:
        return []
    embedder = embedder or get_embedder()
    groups, leaders = group_questions(asked, embedder)
    _mark_covered(groups, leaders, _qa_questions(session, actor, bot_id), embedder)
    return groups[:MAX_GROUPS]


def normalise_text(text: str) -> str:
    """The key two askings share when they are the same question: case, spacing and numbers
    ignored ("Where is order 48213?" and "where is order 99120 ?" are one wording)."""
    text = re.sub(r"\d+", "0", text.casefold())
    text = re.sub(r"\s+([?!.,])", r"\1", text)
    return re.sub(r"\s+", " ", text).strip()


@dataclass
class _Wording:
    text: str
    count: int
    last_asked: datetime


def group_questions(
    asked: list[AskedQuestion],
    embedder: Embedder,
    threshold: float = SIMILARITY_THRESHOLD,
) -> tuple[list[MissingGroup], np.ndarray]:
    """Greedy grouping (see the module docstring); returns the groups and their leaders' vectors."""
    wordings: dict[str, _Wording] = {}
    for item in asked:
        key = normalise_text(item.text)
        if not key:
            continue
        found = wordings.get(key)
        if found is None:
            wordings[key] = _Wording(item.text.strip(), 1, item.asked_at)
        else:
            found.count += 1
            found.last_asked = max(found.last_asked, item.asked_at)
    # Most asked first, then most recent: the leader of a group is its most common wording.
    ordered = sorted(wordings.values(), key=lambda w: (-w.count, -w.last_asked.timestamp()))
    if not ordered:
        return [], np.zeros((0, 0), dtype=np.float32)
    vectors = _CACHE.embed(embedder, [normalise_text(w.text) for w in ordered])
    similarity = vectors @ vectors.T
    grouped = np.zeros(len(ordered), dtype=bool)
    groups: list[MissingGroup] = []
    leader_rows: list[int] = []
    for leader in range(len(ordered)):
        if grouped[leader]:
            continue
        members = np.flatnonzero(~grouped & (similarity[leader] >= threshold))
        members = members[members != leader]
        grouped[leader] = True
        grouped[members] = True
        family = [ordered[leader], *(ordered[i] for i in members)]
        groups.append(
            MissingGroup(
                question=ordered[leader].text,
                count=sum(w.count for w in family),
                last_asked=max(w.last_asked for w in family),
                examples=[w.text for w in family[1 : MAX_EXAMPLES + 1]],
            )
        )
        leader_rows.append(leader)
    order = sorted(
        range(len(groups)),
        key=lambda i: (-groups[i].count, -groups[i].last_asked.timestamp()),
    )
    return [groups[i] for i in order], vectors[[leader_rows[i] for i in order]]


def _qa_questions(session: Session, actor: Actor, bot_id: int) -> list[tuple[str, datetime]]:
    """(question, added at) of the bot's Q&A sources."""
    rows = session.exec(
        select(Source.meta, Source.created_at).where(
            Source.workspace_id == actor.workspace_id,
            Source.bot_id == bot_id,
            Source.kind == "qa",
        )
    ).all()
    return [
        (str(meta.get("question", "")), _aware(added))
        for meta, added in rows
        if meta.get("question")
    ]


def _mark_covered(
    groups: list[MissingGroup],
    leaders: np.ndarray,
    qa: list[tuple[str, datetime]],
    embedder: Embedder,
) -> None:
    if not groups or not qa:
        return
    qa_vectors = _CACHE.embed(embedder, [normalise_text(text) for text, _ in qa])
    similarity = leaders @ qa_vectors.T
    for index, group in enumerate(groups):
        last = _aware(group.last_asked)
        group.covered = any(
            similarity[index, j] >= SIMILARITY_THRESHOLD and added >= last
            for j, (_, added) in enumerate(qa)
        )


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class _VectorCache:
    """Embeddings of recently seen texts, per embedder, least recently used dropped first."""

    def __init__(self, size: int):
        self.size = size
        self._vectors: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def embed(self, embedder: Embedder, texts: list[str]) -> np.ndarray:
        keys = [(embedder.name, text) for text in texts]
        with self._lock:
            missing = sorted({key[1] for key in keys if key not in self._vectors})
        fresh = embedder.embed_documents(missing) if missing else []
        with self._lock:
            for text, vector in zip(missing, fresh, strict=True):
                self._vectors[(embedder.name, text)] = np.asarray(vector, dtype=np.float32)
            out = np.empty((len(keys), embedder.dim), dtype=np.float32)
            for row, key in enumerate(keys):
                vector = self._vectors.get(key)
                if vector is None:  # dropped by a concurrent call; embed it again below
                    vector = embedder.embed_documents([key[1]])[0]
                else:
                    self._vectors.move_to_end(key)
                out[row] = vector
            while len(self._vectors) > self.size:
                self._vectors.popitem(last=False)
        return out

    def clear(self) -> None:
        with self._lock:
            self._vectors.clear()


_CACHE = _VectorCache(CACHE_SIZE)


def forget_cached_vectors() -> None:
    """Drop the in-memory embeddings (tests, benchmarks measuring a cold report)."""
    _CACHE.clear()
