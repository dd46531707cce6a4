"""A router bot's choice per message: one target bot, two (a message with two intents), or a
clarifying question (seed 002).

Candidates: the router's workspace's other active bots that have a description (read through
the router's own `workspace_id`: another workspace's bot can never be a candidate).

Offline, each candidate is scored by three signals, measured on `bench/routing.py`:
  * meaning: cosine of the message with the bot's name and description (local embedder);
  * knowledge: the best cosine of the message with the bot's indexed chunks;
  * words: BM25 of the message over one document per bot (name, description, source titles,
    chunk headings and texts), normalised by the best bot's score.
The top bot is chosen when it leads clearly; otherwise the router asks which bot is meant. A
message of two parts (two sentences or questions, or clauses joined by "and"/"also") is split
when each part goes to a different bot with confidence.

With an LLM, a JSON classification is asked for (`{"routes": [{"bot": name, "text": part}]}` or
`{"clarify": true}`), strictly parsed; any error or unexpected reply falls back to offline.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio.to_thread
import bm25s
import numpy as np
import Stemmer
from sqlalchemy import func
from sqlmodel import Session, col, select

from chatapp.core.db import session_scope
from chatapp.services.chat.llm import client as llm
from chatapp.services.knowledge.embeddings import get_embedder
from chatapp.services.knowledge.index.vector_index import get_index
from chatapp.services.models import Bot, BotStatus, KnowledgeChunk, Source

log = logging.getLogger(__name__)

# Weights and thresholds chosen on bench/routing.py (docs/ARCHITECTURE.md has the figures).
W_MEANING = 1.0
W_KNOWLEDGE = 1.0
W_WORDS = 0.2
MIN_SCORE = 0.30  # below this the best bot is not a fit: ask
MIN_MARGIN = 0.05  # the best bot must lead the second by this much, else ask
PART_MARGIN = 0.05  # each part of a split message must be this clear
MIN_PART_WORDS = 3
MAX_CHUNKS_PER_BOT = 400
_stemmer = Stemmer.Stemmer("english")


@dataclass(frozen=True)
class RouterRef:
    """The router bot as routing needs it (no session-bound row)."""

    id: int
    workspace_id: int


@dataclass(frozen=True)
class Candidate:
    bot_id: int
    name: str
    description: str


@dataclass(frozen=True)
class Target:
    bot_id: int
    name: str
    text: str  # the part of the message this bot answers
    score: float = 0.0


@dataclass
class Decision:
    kind: str  # "route" (one or two targets), "clarify", or "none" (no candidate bot)
    targets: list[Target] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)  # named in a clarifying question
    method: str = "offline"  # or "llm"

    @property
    def question(self) -> str:
        """The clarifying question, naming the candidate bots."""
        names = [c.name for c in self.candidates]
        listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
        return (
            f"I want to make sure the right assistant answers you: is your question about "
            f"{listed}? Please tell me a little more."
        )


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


# --------------------------------------------------------------------------- splitting


_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_JOIN = re.compile(
    r"\s*(?:,\s*)?\b(?:and also|and then|also|plus|and|as well as|another thing|oh and)\b\s*",
    re.IGNORECASE,
)


def splits(message: str) -> list[tuple[str, str]]:
    """Ways to cut a message into two intents: between sentences, then at joining words."""
    text = message.strip()
    found: list[tuple[str, str]] = []
    sentences = [s for s in _SENTENCE.split(text) if s.strip()]
    for i in range(1, len(sentences)):
        found.append((" ".join(sentences[:i]), " ".join(sentences[i:])))
    for match in _JOIN.finditer(text):
        left, right = text[: match.start()].strip(" ,;"), text[match.end() :].strip(" ,;")
        if left and right:
            found.append((left, right))
    return [
        (a, b)
        for a, b in found
        if len(a.split()) >= MIN_PART_WORDS and len(b.split()) >= MIN_PART_WORDS
    ]


# ---------------------------------------------------------------------------- deciding


def _ranked(scores: np.ndarray) -> tuple[int, float, float]:
    order = np.argsort(-scores)
    best = float(scores[order[0]])
    second = float(scores[order[1]]) if len(order) > 1 else 0.0
    return int(order[0]), best, best - second


def decide_offline(
    session: Session, router: Any, message: str, embedder: Any = None, pool=None
) -> Decision:
    """Route by meaning, knowledge and words; split two intents; ask when unclear."""
    pool = candidates(session, router) if pool is None else pool
    if not pool:
        return Decision("none")
    if len(pool) == 1:
        c = pool[0]
        return Decision("route", [Target(c.bot_id, c.name, message, 1.0)])
    if embedder is None:
        embedder = get_embedder()
    scorer = Scorer(session, router.workspace_id, pool, embedder)
    whole = scorer.scores(message)
    top, best, margin = _ranked(whole)

    # Two intents: the clearest cut whose parts go to two different bots, each with confidence.
    best_split: tuple[float, list[Target]] | None = None
    for left, right in splits(message):
        a, a_best, a_margin = _ranked(scorer.scores(left))
        b, b_best, b_margin = _ranked(scorer.scores(right))
        if a == b or min(a_margin, b_margin) < PART_MARGIN:
            continue
        if min(a_best, b_best) < MIN_SCORE:
            continue
        strength = min(a_margin, b_margin)
        if best_split is None or strength > best_split[0]:
            best_split = (
                strength,
                [
                    Target(pool[a].bot_id, pool[a].name, left, a_best),
                    Target(pool[b].bot_id, pool[b].name, right, b_best),
                ],
            )
    if best_split is not None:
        return Decision("route", best_split[1])

    if best >= MIN_SCORE and margin >= MIN_MARGIN:
        c = pool[top]
        return Decision("route", [Target(c.bot_id, c.name, message, best)])
    order = np.argsort(-whole)
    close = [pool[int(i)] for i in order if whole[int(i)] >= best - 2 * MIN_MARGIN]
    return Decision("clarify", candidates=close[:3] if len(close) >= 2 else pool[:3])


# ----------------------------------------------------------------------------------- LLM


def llm_messages(pool: Sequence[Candidate], message: str) -> list[dict[str, str]]:
    bots = "\n".join(f"- {c.name}: {c.description}" for c in pool)
    return [
        {
            "role": "system",
            "content": (
                "You route a customer's message to the assistant(s) that should answer it.\n"
                f"Assistants:\n{bots}\n"
                'Reply with JSON only: {"routes": [{"bot": "<assistant name>", "text": "<the '
                'part of the message for it>"}]} with one route, or two when the message asks '
                'two things for two different assistants; or {"clarify": true} when it is not '
                "clear which assistant fits."
            ),
        },
        {"role": "user", "content": message[:4000]},
    ]


def parse_llm(pool: Sequence[Candidate], message: str, reply: str) -> Decision | None:
    """The model's JSON as a Decision; None when it is not exactly what was asked for."""
    text = reply.strip()
    fenced = re.fullmatch(r"```(?:json)?\s*(.*?)\s*```", text, re.DOTALL)
    if fenced:
        text = fenced.group(1)
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    if data.get("clarify") is True and not data.get("routes"):
        return Decision("clarify", candidates=list(pool[:3]), method="llm")
    routes = data.get("routes")
    if not isinstance(routes, list) or not 1 <= len(routes) <= 2:
        return None
    by_name = {c.name.strip().lower(): c for c in pool}
    targets = []
    for route in routes:
        if not isinstance(route, dict) or not isinstance(route.get("bot"), str):
            return None
        c = by_name.get(route["bot"].strip().lower())
        if c is None:
            return None
        part = route.get("text") if isinstance(route.get("text"), str) else ""
        targets.append(Target(c.bot_id, c.name, part.strip() or message, 1.0))
    if len(targets) == 2 and targets[0].bot_id == targets[1].bot_id:
        targets = [Target(targets[0].bot_id, targets[0].name, message, 1.0)]
    if len(targets) == 1:
        targets = [Target(targets[0].bot_id, targets[0].name, message, 1.0)]
    return Decision("route", targets, method="llm")


async def decide(router: Any, message: str, config: Any = None, embedder: Any = None) -> Decision:
    """The LLM's routing when one is configured and answers well; offline otherwise."""

    def offline_pool() -> list[Candidate]:
        with session_scope() as session:
            return candidates(session, router)

    pool = await anyio.to_thread.run_sync(offline_pool)
    if config is not None and len(pool) > 1:
        try:
            reply = await llm.complete(config, llm_messages(pool, message), max_tokens=300)
        except llm.LLMError:
            log.info("routing by the model failed; routing offline")
        else:
            decision = parse_llm(pool, message, reply)
            if decision is not None:
                return decision
            log.info("routing: the model's reply was not the JSON asked for; routing offline")

    def offline() -> Decision:
        with session_scope() as session:
            return decide_offline(session, router, message, embedder, pool)

    return await anyio.to_thread.run_sync(offline)


def decide_sync(router: Any, message: str, embedder: Any = None) -> Decision:
    """Offline routing in its own session (scripts, the benchmark)."""
    with session_scope() as session:
        return decide_offline(session, router, message, embedder)
