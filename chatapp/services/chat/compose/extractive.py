"""Offline answers: the whole sentences of the retrieved passages that answer the question, cited.

No LLM is needed. A Q&A pair or a document's FAQ entry whose question matches the visitor's
answers with its answer (`faq_answers`). Otherwise each passage's units are scored against the
question and the best chosen (`unit_scoring`), then quoted with what each needs to be read alone
(`quoting`): verbatim (whitespace normalised), in source order, grouped by passage, each group
cited. This module keeps each passage's units and their vectors in a cache shared with
answerability, which judges from the same vectors before an answer is composed.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from chatapp.core.errors import ServiceError
from chatapp.services.chat.compose import faq_answers, quoting, sentences
from chatapp.services.chat.compose.unit_scoring import (  # noqa: F401 (STOPWORDS, content_terms: exports)
    ANSWERS,
    MIN_SIMILARITY,
    STOPWORDS,
    Extract,
    Prepared,
    Question,
    choose,
    content_terms,
    render,
    score_units,
    unit_terms,
)
from chatapp.services.knowledge.retrieval import Passage

log = logging.getLogger(__name__)

MAX_SENTENCES = 3
MAX_WORDS = 80
CACHE_CHUNKS = 1024

_GREETING = re.compile(
    r"^(hi|hello|hey|hiya|howdy|good (morning|afternoon|evening|day)|bonjour|hallo|hola)\b"
    r"[\s\w,!.]{0,20}$",
    re.IGNORECASE,
)
_THANKS = re.compile(
    r"^(thanks|thank you|thx|ty|cheers|great|perfect|ok|okay|cool)\b[\s\w,!.]{0,25}$", re.IGNORECASE
)
_BYE = re.compile(r"^(bye|goodbye|see you|have a nice day)\b[\s\w,!.]{0,20}$", re.IGNORECASE)


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


def sentence_vectors(passage: Passage, embedder) -> tuple[list[str], np.ndarray | None]:
    """A passage's units and their cached vectors (zero rows for headings and code)."""
    texts, vectors = _cache.get(passage, embedder)
    return texts, vectors


class _UnitCache:
    """Units and their vectors per chunk id (a chunk id changes when its text changes)."""

    def __init__(self, capacity: int = CACHE_CHUNKS):
        self.capacity = capacity
        self._items: OrderedDict[tuple, Prepared] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, passage: Passage, embedder) -> Prepared:
        key = (getattr(embedder, "name", None), passage.chunk_id)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        prepared = _prepare(passage, embedder)
        with self._lock:
            self._items[key] = prepared
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)
        return prepared


def _prepare(passage: Passage, embedder) -> Prepared:
    labels = {" ".join(s.lower().split()).rstrip(":") for s in (passage.title, passage.heading)}
    units = [
        u
        if u.kind not in ANSWERS or u.text.lower().rstrip(":") not in labels
        else sentences.Unit(u.text, sentences.HEADING, u.block)
        for u in sentences.units(passage.text)
    ]
    texts = [u.text if u.kind in ANSWERS or u.kind == sentences.QUESTION else "" for u in units]
    spans = [_context_of(units, p) if texts[p] else [p] for p in range(len(units))]
    read = [
        " ".join(units[q].text for q in span) if texts[p] else "" for p, span in enumerate(spans)
    ]
    # Code is embedded only as part of a context (what a lead-in introduces), never alone.
    code = {q for p, span in enumerate(spans) if len(span) > 1 for q in span if not texts[q]}
    vectors, context = None, {}
    if embedder is not None and any(texts):
        try:
            found = embedder.embed_documents(
                [units[p].text if p in code else t for p, t in enumerate(texts)]
            )
            vectors = np.asarray(found, dtype=np.float32)
        except ServiceError:
            log.warning("sentence embeddings unavailable; scoring by words only")
    if vectors is not None:
        parts = vectors.copy()
        vectors[sorted(code)] = 0.0
        for p, span in enumerate(spans):
            if len(span) > 1:
                mean = parts[span].sum(axis=0)
                norm = float(np.linalg.norm(mean))
                if norm > 0:
                    context[p] = mean / norm
    return Prepared(units, vectors, [unit_terms(t) for t in read], context)


def _context_of(units: list[sentences.Unit], position: int) -> list[int]:
    """A unit with what it is quoted with that says what it is about (positions, in order): a
    lead-in ending with ":" is about the list or code it brings, "It helps you..." about what the
    sentence before it names, a description about the option line above it, an FAQ question
    ending with ":" about the error or example it quotes ("'make' fails with this:")."""
    unit = units[position]
    if unit.kind == sentences.QUESTION:
        quoted = quoting.quoted_by(units, position)
        return list(range(position, (quoted or position) + 1))
    picked = quoting.with_context(units, [position])
    if unit.text.endswith(":"):
        picked += quoting.followers(units, position)
    return sorted(set(picked))


_cache = _UnitCache()


def compose(
    question: str,
    passages: Sequence[Passage],
    *,
    query: str | None = None,
    embedder=None,
    max_sentences: int = MAX_SENTENCES,
    max_words: int = MAX_WORDS,
) -> Extract | None:
    """The extractive answer, or None when no sentence is about the question."""
    if not passages:
        return None
    asked = Question(question, query, embedder)
    paired = faq_answers.qa_answer(asked, passages, embedder)
    if paired is not None:
        return paired
    prepared = [_cache.get(p, embedder if asked.vector is not None else None) for p in passages]
    listed = faq_answers.faq_answer(asked, prepared, passages, max_sentences, max_words)
    if listed is not None:
        return listed
    candidates = score_units(asked, prepared)
    if not candidates:
        return None
    best = max(candidates, key=lambda c: c.score)
    if best.shared == 0 and best.similarity < MIN_SIMILARITY:
        return None
    chosen = choose(asked, best, candidates, max_sentences, max_words)
    return render([(c.rank, c.position) for c in chosen], prepared, passages)


def word_chunks(text: str) -> list[str]:
    """The answer cut into words (each with its trailing space) for streaming."""
    return re.findall(r"\S+\s*", text)
