"""How well a message fits each candidate bot of a router (the offline signals of
`routing.py`, measured on `bench/routing.py`).

Candidates: the router's workspace's other active bots that have a description (read through
the router's own `workspace_id`: another workspace's bot can never be a candidate). Each is
scored by three signals:
  * meaning: cosine of the message with the bot's name and description (local embedder);
  * knowledge: the best cosine of the message with the bot's indexed chunks;
  * words: BM25 of the message over one document per bot (name, description, source titles,
    chunk headings and texts), normalised by the best bot's score.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import bm25s
import numpy as np
import Stemmer
from sqlalchemy import func
from sqlmodel import Session, col, select

from chatapp.services.knowledge.index.vector_index import get_index
from chatapp.services.models import Bot, BotStatus, KnowledgeChunk, Source

# Weights chosen on bench/routing.py (docs/ARCHITECTURE.md has the figures).
W_MEANING = 1.0
W_KNOWLEDGE = 1.0
W_WORDS = 0.2
MAX_CHUNKS_PER_BOT = 400
_stemmer = Stemmer.Stemmer("english")


@dataclass(frozen=True)
class Candidate:
    bot_id: int
    name: str
    description: str


def candidates(session: Session, router: Any) -> list[Candidate]:
    """The router's workspace's active bots with a description, the router itself excluded."""
    rows = session.exec(
        select(Bot)
        .where(
            Bot.workspace_id == router.workspace_id,
            Bot.id != router.id,
            Bot.status == BotStatus.ACTIVE,
            col(Bot.is_router).is_(False),
            Bot.description != "",
        )
        .order_by(col(Bot.id))
    ).all()
    return [Candidate(b.id, b.name, b.description) for b in rows if b.description.strip()]


# ---------------------------------------------------------------------------- bot profiles


@dataclass
class _Profile:
    version: tuple
    meaning: np.ndarray  # embedding of name + description


class _Profiles:
    """Embeddings of the candidates' descriptions, kept until a bot's text changes."""

    def __init__(self) -> None:
        self._items: dict[tuple, _Profile] = {}
        self._lock = threading.Lock()

    def meaning(self, embedder: Any, candidate: Candidate) -> np.ndarray:
        key = (getattr(embedder, "name", ""), candidate.bot_id)
        version = (candidate.name, candidate.description)
        with self._lock:
            item = self._items.get(key)
            if item is not None and item.version == version:
                return item.meaning
        vector = embedder.embed_documents([f"{candidate.name}. {candidate.description}"])[0]
        with self._lock:
            self._items[key] = _Profile(version, vector)
        return vector


_profiles = _Profiles()
_lexical_lock = threading.Lock()
_lexical: dict[tuple, tuple[tuple, bm25s.BM25]] = {}


def _bot_documents(session: Session, workspace_id: int, pool: Sequence[Candidate]) -> list[str]:
    docs = []
    for c in pool:
        titles = session.exec(
            select(Source.title).where(
                Source.workspace_id == workspace_id, Source.bot_id == c.bot_id
            )
        ).all()
        chunks = session.exec(
            select(KnowledgeChunk.heading, KnowledgeChunk.text)
            .where(KnowledgeChunk.workspace_id == workspace_id, KnowledgeChunk.bot_id == c.bot_id)
            .order_by(KnowledgeChunk.id)
            .limit(MAX_CHUNKS_PER_BOT)
        ).all()
        parts = [c.name, c.description, c.description, *titles]  # the description counts double
        parts += [f"{heading} {text}" for heading, text in chunks]
        docs.append("\n".join(p for p in parts if p))
    return docs


def _words_index(session: Session, workspace_id: int, pool: Sequence[Candidate]) -> bm25s.BM25:
    """BM25 over one document per candidate, rebuilt when a bot or its knowledge changes."""
    ids = [c.bot_id for c in pool]
    count, newest = session.exec(
        select(func.count(), func.max(KnowledgeChunk.created_at)).where(
            KnowledgeChunk.workspace_id == workspace_id, col(KnowledgeChunk.bot_id).in_(ids)
        )
    ).one()
    key = (str(session.get_bind().url), workspace_id, tuple(ids))
    version = (count, newest, tuple((c.name, c.description) for c in pool))
    with _lexical_lock:
        entry = _lexical.get(key)
        if entry and entry[0] == version:
            return entry[1]
    retriever = bm25s.BM25()
    tokens = bm25s.tokenize(
        _bot_documents(session, workspace_id, pool),
        stopwords="en",
        stemmer=_stemmer,
        show_progress=False,
    )
    retriever.index(tokens, show_progress=False)
    with _lexical_lock:
        _lexical[key] = (version, retriever)
    return retriever


def _word_scores(retriever: bm25s.BM25, text: str, n: int) -> np.ndarray:
    tokens = bm25s.tokenize([text], stopwords="en", stemmer=_stemmer, show_progress=False)
    if not tokens.vocab:
        return np.zeros(n)
    docs, scores = retriever.retrieve(tokens, k=n, show_progress=False)
    out = np.zeros(n)
    for doc, score in zip(docs[0], scores[0], strict=True):
        out[int(doc)] = float(score)
    top = out.max()
    return out / top if top > 0 else out


class Scorer:
    """Scores of a text for each candidate bot (higher fits better)."""

    def __init__(self, session: Session, workspace_id: int, pool: Sequence[Candidate], embedder):
        self.pool = list(pool)
        self.workspace_id = workspace_id
        self.embedder = embedder
        self.index = get_index(embedder.dim)
        self.meaning = np.stack([_profiles.meaning(embedder, c) for c in self.pool])
        self.words = _words_index(session, workspace_id, self.pool)

    def scores(self, text: str) -> np.ndarray:
        meaning, knowledge, words = self.signals(text)
        return (W_MEANING * meaning + W_KNOWLEDGE * knowledge + W_WORDS * words) / (
            W_MEANING + W_KNOWLEDGE
        )

    def signals(self, text: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        vector = self.embedder.embed_query(text)
        meaning = self.meaning @ vector
        knowledge = np.array(
            [
                max(
                    (
                        h.score
                        for h in self.index.search(
                            workspace_id=self.workspace_id,
                            bot_id=c.bot_id,
                            vector=vector,
                            limit=1,
                        )
                    ),
                    default=0.0,
                )
                for c in self.pool
            ]
        )
        return meaning, knowledge, _word_scores(self.words, text, len(self.pool))
