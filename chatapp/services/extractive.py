"""Offline answers: the sentences of the retrieved passages that answer the question, cited.

No LLM is needed. Each passage is split into sentences (headings, questions and navigation-like
fragments dropped); each sentence is scored by meaning (cosine between the question's and the
sentence's embeddings, from the same local embedder as retrieval) and by words (stemmed content
words shared with the question, and with the condensed follow-up query at lower weight), plus a
small bonus for the passage's rank. The best sentences (at most 3, about 80 words) are kept in
their original order, grouped by passage, each group ending with its citation number: short,
readable prose taken word for word from the owner's content, so it cannot invent anything.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import Stemmer

from chatapp.services.errors import ServiceError
from chatapp.services.retrieval import Passage

log = logging.getLogger(__name__)

MAX_SENTENCES = 3
MAX_WORDS = 80
KEEP_RATIO = 0.6  # keep sentences scoring at least this share of the best one
MIN_SIMILARITY = 0.25  # below this, and with no shared word, a sentence does not answer
CACHE_CHUNKS = 1024

_stemmer = Stemmer.Stemmer("english")
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])")
_BULLET = re.compile(r"^\s*(?:[-*+\u2022]|\d+[.)])\s+")
_MARKUP = re.compile(r"(\*\*|__|`|^#+\s*)")
STOPWORDS = frozenset(
    """a an the and or but if of to in on at by for with about from into over under as is are was
    were be been being do does did have has had having i me my we our ours you your yours he him his
    she her it its they them their what which who whom this that these those am can could should
    would will shall may might must not no yes so than too very just also any some there here when
    where why how all each both few more most other such only own same then once again further s t
    tell please know want need like get""".split()  # noqa: SIM905
)
_GREETING = re.compile(
    r"^(hi|hello|hey|hiya|howdy|good (morning|afternoon|evening|day)|bonjour|hallo|hola)\b"
    r"[\s\w,!.]{0,20}$",
    re.IGNORECASE,
)
_THANKS = re.compile(
    r"^(thanks|thank you|thx|ty|cheers|great|perfect|ok|okay|cool)\b[\s\w,!.]{0,25}$", re.IGNORECASE
)
_BYE = re.compile(r"^(bye|goodbye|see you|have a nice day)\b[\s\w,!.]{0,20}$", re.IGNORECASE)


@dataclass(frozen=True)
class Extract:
    text: str  # prose with citation markers [1], [2] ...
    passages: list[Passage]  # the cited passages; passage n is passages[n - 1]


def small_talk(message: str, *, welcome: str) -> str | None:
    """A short reply to a greeting, thanks or goodbye; None for anything else."""
    text = message.strip()
    if len(text) > 40:
        return None
    if _GREETING.match(text):
        return welcome.strip() or "Hello! How can I help you today?"
    if _THANKS.match(text):
        return "You're welcome! Is there anything else I can help you with?"
    if _BYE.match(text):
        return "Goodbye, and thanks for your visit!"
    return None


def content_terms(text: str) -> set[str]:
    words = [w for w in _WORD.findall(text.lower()) if w not in STOPWORDS and len(w) > 1]
    return set(_stemmer.stemWords(words))


def _clean(line: str) -> str:
    line = _MARKUP.sub("", _BULLET.sub("", line)).strip()
    return re.sub(r"\s+", " ", line)


def split_sentences(passage: Passage) -> list[str]:
    """The passage's sentences, without headings, questions and tiny fragments."""
    labels = {s.strip().lower() for s in (passage.title, passage.heading) if s}
    lines = [_clean(line) for line in passage.text.splitlines()]
    lines = [line for line in lines if line]
    sentences: list[str] = []
    for line in lines:
        if line.lower().rstrip(":") in labels:
            continue
        words = line.split()
        if not line.endswith((".", "!", ":", ";", ")", '"')) and len(words) <= 6 and len(lines) > 1:
            continue  # a heading or a navigation fragment
        for sentence in _SPLIT.split(line):
            sentence = sentence.strip()
            if len(sentence.split()) < 2 or sentence.endswith("?"):
                continue
            if not sentence.endswith((".", "!", ":", ";", '"', ")")):
                sentence += "."
            sentences.append(sentence)
    return sentences


class _SentenceCache:
    """Sentences and their vectors per chunk id (a chunk id changes when its text changes)."""

    def __init__(self, capacity: int = CACHE_CHUNKS):
        self.capacity = capacity
        self._items: OrderedDict[tuple, tuple[list[str], np.ndarray | None]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, passage: Passage, embedder) -> tuple[list[str], np.ndarray | None]:
        key = (getattr(embedder, "name", None), passage.chunk_id)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        sentences = split_sentences(passage)
        vectors = None
        if embedder is not None and sentences:
            try:
                vectors = np.asarray(embedder.embed_documents(sentences), dtype=np.float32)
            except ServiceError:
                log.warning("sentence embeddings unavailable; scoring by words only")
        with self._lock:
            self._items[key] = (sentences, vectors)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)
        return sentences, vectors


_cache = _SentenceCache()


@dataclass
class _Candidate:
    passage_rank: int
    position: int
    text: str
    score: float
    similarity: float
    overlap: float


def _embed_query(embedder, text: str) -> np.ndarray | None:
    if embedder is None:
        return None
    try:
        return np.asarray(embedder.embed_query(text), dtype=np.float32)
    except ServiceError:
        return None


def compose(
    question: str,
    passages: Sequence[Passage],
    *,
    query: str | None = None,
    embedder=None,
    max_sentences: int = MAX_SENTENCES,
    max_words: int = MAX_WORDS,
) -> Extract | None:
    """The extractive answer, or None when no sentence answers the question."""
    if not passages:
        return None
    query = query if query and query != question else None
    q_terms = content_terms(question)
    c_terms = content_terms(query) - q_terms if query else set()
    weight = len(q_terms) + 0.5 * len(c_terms)
    q_vec = _embed_query(embedder, question)
    c_vec = _embed_query(embedder, query) if query else None

    candidates: list[_Candidate] = []
    for rank, passage in enumerate(passages):
        sentences, vectors = _cache.get(passage, embedder if q_vec is not None else None)
        for position, sentence in enumerate(sentences):
            terms = content_terms(sentence)
            overlap = (
                (len(terms & q_terms) + 0.5 * len(terms & c_terms)) / weight if weight else 0.0
            )
            similarity = 0.0
            if vectors is not None and q_vec is not None:
                similarity = float(vectors[position] @ q_vec)
                if c_vec is not None:
                    similarity = 0.6 * similarity + 0.4 * float(vectors[position] @ c_vec)
            prior = 0.05 * (1 - rank / len(passages))
            score = (0.65 * similarity + 0.35 * overlap if vectors is not None else overlap) + prior
            candidates.append(_Candidate(rank, position, sentence, score, similarity, overlap))
    if not candidates:
        return None
    candidates.sort(key=lambda c: c.score, reverse=True)
    best = candidates[0]
    if best.overlap == 0 and best.similarity < MIN_SIMILARITY:
        return None

    chosen = [best]
    words = len(best.text.split())
    for candidate in candidates[1:]:
        if len(chosen) == max_sentences or candidate.score < KEEP_RATIO * best.score:
            break
        size = len(candidate.text.split())
        if words + size > max_words or any(candidate.text == c.text for c in chosen):
            continue
        chosen.append(candidate)
        words += size

    # Group by passage (best passage first), sentences in their original order.
    order: list[int] = []
    for candidate in chosen:
        if candidate.passage_rank not in order:
            order.append(candidate.passage_rank)
    parts: list[str] = []
    cited: list[Passage] = []
    for number, rank in enumerate(order, start=1):
        group = sorted((c for c in chosen if c.passage_rank == rank), key=lambda c: c.position)
        text = " ".join(c.text for c in group)
        end = text[-1] if text[-1] in ".!;:" else ""
        text = f"{text[: len(text) - len(end)]} [{number}]{end}"
        parts.append(text)
        cited.append(passages[rank])
    return Extract(" ".join(parts), cited)


def word_chunks(text: str) -> list[str]:
    """The answer cut into words (each with its trailing space) for streaming."""
    return re.findall(r"\S+\s*", text)
