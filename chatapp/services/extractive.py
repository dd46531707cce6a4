"""Offline answers: the whole sentences of the retrieved passages that answer the question, cited.

No LLM is needed. A Q&A pair whose question matches the visitor's answers with its whole answer.
Otherwise each passage is cut into units (`sentences.units`: sentences, list items, table rows,
code blocks; headings and questions are never answers), each scored by meaning (cosine with the
question, same local embedder as retrieval) and by words (stemmed content words shared with the
question, and with the condensed follow-up query at lower weight), plus a small bonus for the
passage's rank. The answer is the best unit, plus others only when each is itself about the
question (a score close to the best and a shared content word): being a neighbour from the same
passage is not enough. A lead-in ending with ":" brings the list or code it introduces. Units are
quoted verbatim (whitespace normalised), in source order, grouped by passage, each group cited.
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

from chatapp.services import sentences
from chatapp.services.errors import ServiceError
from chatapp.services.retrieval import Passage

log = logging.getLogger(__name__)

MAX_SENTENCES = 3
MAX_WORDS = 80
CLOSE_RATIO = 0.75  # another unit joins the best only when it scores at least this share of it
MIN_SIMILARITY = 0.25  # below this, and with no shared word, a sentence does not answer
MAX_FOLLOWERS = 8  # list items, rows or code blocks a lead-in ending with ":" brings along
CACHE_CHUNKS = 1024
QA_KIND = "qa"  # Source.kind of a Q&A pair (chunk text: the question line, then the answer)
QA_RANKS = 3  # a pair is looked for among the first passages only
QA_MIN_SIMILARITY = 0.75  # cosine between the visitor's question and the pair's
QA_MIN_COVERAGE = 0.5  # share of the visitor's content words found in the pair
FAQ_MIN_SIMILARITY = 0.7  # an FAQ question line (in a document) matching the visitor's question
FAQ_MIN_COVERAGE = 0.5  # more than half of the visitor's content words in that line

_stemmer = Stemmer.Stemmer("english")
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_NEGATED = re.compile(r"\bun[a-z]{3,}")
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


@dataclass(frozen=True)
class _Prepared:
    """A passage's answer units and the vectors of the scorable ones (None: words only)."""

    units: list[sentences.Unit]
    vectors: np.ndarray | None  # one row per unit; code rows are zeros
    terms: list[set[str]]

    def __iter__(self):
        """(texts, vectors), as `_cache.get` returned before units; answerability unpacks it."""
        return iter(([u.text for u in self.units], self.vectors))


def sentence_vectors(passage: Passage, embedder) -> tuple[list[str], np.ndarray | None]:
    """A passage's units and their cached vectors (zero rows for headings and code)."""
    texts, vectors = _cache.get(passage, embedder)
    return texts, vectors


class _UnitCache:
    """Units and their vectors per chunk id (a chunk id changes when its text changes)."""

    def __init__(self, capacity: int = CACHE_CHUNKS):
        self.capacity = capacity
        self._items: OrderedDict[tuple, _Prepared] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, passage: Passage, embedder) -> _Prepared:
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


def _prepare(passage: Passage, embedder) -> _Prepared:
    labels = {" ".join(s.lower().split()).rstrip(":") for s in (passage.title, passage.heading)}
    units = [
        u
        if u.kind not in _ANSWERS or u.text.lower().rstrip(":") not in labels
        else sentences.Unit(u.text, sentences.HEADING, u.block)
        for u in sentences.units(passage.text)
    ]
    vectors = None
    texts = [u.text if u.kind in _ANSWERS or u.kind == sentences.QUESTION else "" for u in units]
    if embedder is not None and any(texts):
        try:
            vectors = np.asarray(embedder.embed_documents(texts), dtype=np.float32)
        except ServiceError:
            log.warning("sentence embeddings unavailable; scoring by words only")
    return _Prepared(units, vectors, [_terms(t) for t in texts])


def _terms(text: str) -> set[str]:
    """Content terms, plus the base of negated words: "unused" also answers "used"."""
    terms = content_terms(text)
    negated = [w[2:] for w in _NEGATED.findall(text.lower())]
    return terms | set(_stemmer.stemWords(negated)) if negated else terms


_cache = _UnitCache()
_ANSWERS = (sentences.SENTENCE, sentences.ITEM, sentences.ROW)
_FOLLOWERS = (sentences.ITEM, sentences.ROW, sentences.CODE)


@dataclass
class _Candidate:
    rank: int
    position: int
    unit: sentences.Unit
    score: float
    similarity: float
    overlap: float
    shared: int  # content words shared with the question (or the follow-up query)


class _Question:
    """The visitor's question (and the condensed follow-up query) as terms and vectors."""

    def __init__(self, question: str, query: str | None, embedder):
        self.query = query if query and query != question else None
        self.terms = content_terms(question)
        self.extra = content_terms(self.query) - self.terms if self.query else set()
        self.weight = len(self.terms) + 0.5 * len(self.extra)
        self.vector = _embed_query(embedder, question)
        self.extra_vector = _embed_query(embedder, self.query) if self.query else None

    def similarity(self, vector: np.ndarray | None) -> float:
        if vector is None or self.vector is None:
            return 0.0
        value = float(vector @ self.vector)
        if self.extra_vector is not None:
            value = 0.6 * value + 0.4 * float(vector @ self.extra_vector)
        return value

    def overlap(self, terms: set[str]) -> tuple[float, int]:
        shared = len(terms & self.terms) + 0.5 * len(terms & self.extra)
        return (shared / self.weight if self.weight else 0.0), len(
            terms & (self.terms | self.extra)
        )


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
    """The extractive answer, or None when no sentence is about the question."""
    if not passages:
        return None
    asked = _Question(question, query, embedder)
    paired = _qa_answer(asked, passages, embedder)
    if paired is not None:
        return paired
    prepared = [_cache.get(p, embedder if asked.vector is not None else None) for p in passages]
    listed = _faq_answer(asked, prepared, passages, max_words)
    if listed is not None:
        return listed
    candidates = _candidates(asked, prepared)
    if not candidates:
        return None
    best = max(candidates, key=lambda c: c.score)
    if best.shared == 0 and best.similarity < MIN_SIMILARITY:
        return None
    chosen = _choose(best, candidates, max_sentences, max_words)
    return _render(chosen, prepared, passages)


def _candidates(asked: _Question, prepared: list[_Prepared]) -> list[_Candidate]:
    found: list[_Candidate] = []
    for rank, item in enumerate(prepared):
        prior = 0.05 * (1 - rank / len(prepared))
        for position, unit in enumerate(item.units):
            if unit.kind not in _ANSWERS or len(unit.text.split()) < 2:
                continue
            overlap, shared = asked.overlap(item.terms[position])
            vector = item.vectors[position] if item.vectors is not None else None
            similarity = asked.similarity(vector)
            score = 0.65 * similarity + 0.35 * overlap if vector is not None else overlap
            found.append(
                _Candidate(rank, position, unit, score + prior, similarity, overlap, shared)
            )
    return found


def _choose(
    best: _Candidate, candidates: list[_Candidate], max_sentences: int, max_words: int
) -> list[_Candidate]:
    """The best unit, and others only when each is itself about the question."""
    chosen = [best]
    words = len(best.unit.text.split())
    for candidate in sorted(candidates, key=lambda c: c.score, reverse=True)[1:]:
        if len(chosen) == max_sentences or candidate.score < CLOSE_RATIO * best.score:
            break
        size = len(candidate.unit.text.split())
        if (
            candidate.shared == 0
            or (candidate.similarity < MIN_SIMILARITY and best.similarity >= MIN_SIMILARITY)
            or words + size > max_words
            or any(candidate.unit.text == c.unit.text for c in chosen)
        ):
            continue
        chosen.append(candidate)
        words += size
    return chosen


def _render(
    chosen: list[_Candidate], prepared: list[_Prepared], passages: Sequence[Passage]
) -> Extract:
    """Group by passage (best first), units in source order, each group cited once."""
    order: list[int] = []
    for candidate in chosen:
        if candidate.rank not in order:
            order.append(candidate.rank)
    parts: list[str] = []
    cited: list[Passage] = []
    for number, rank in enumerate(order, start=1):
        positions = sorted(c.position for c in chosen if c.rank == rank)
        units = _with_followers(prepared[rank].units, positions)
        parts.append(_cite(_join(units), number))
        cited.append(passages[rank])
    separator = "\n\n" if any("\n" in part for part in parts) else " "
    return Extract(separator.join(parts), cited)


def _with_followers(units: list[sentences.Unit], positions: list[int]) -> list[sentences.Unit]:
    """The chosen units, each lead-in ending with ":" followed by the list or code it introduces,
    and a description preceded by the term it describes (a manual's option: "--trace-children"
    then "When enabled, Valgrind will trace into sub-processes...")."""
    picked: list[int] = []
    for position in positions:
        if position in picked:
            continue
        picked.append(position)
        term = position - 1
        if term >= 0 and _is_term(units[term]) and units[position].kind == sentences.SENTENCE:
            picked.append(term)
        if not units[position].text.endswith(":"):
            continue
        for after in range(position + 1, min(len(units), position + 1 + MAX_FOLLOWERS)):
            if units[after].kind not in _FOLLOWERS:
                break
            if after not in picked:
                picked.append(after)
    return [units[p] for p in sorted(picked)]


def _is_term(unit: sentences.Unit) -> bool:
    """A one-line code unit: an option or setting named above its description."""
    return unit.kind == sentences.CODE and "\n" not in unit.text.strip()


def _join(units: list[sentences.Unit]) -> str:
    """Prose runs on one line; list items, rows and code blocks start their own lines."""
    text = ""
    for unit in units:
        if unit.kind == sentences.SENTENCE:
            piece, own_line = unit.text, False
        elif unit.kind == sentences.ITEM:
            piece, own_line = f"- {unit.text}", True
        elif unit.kind == sentences.CODE:
            fenced = unit.text.lstrip().startswith(("```", "~~~"))
            piece, own_line = (unit.text if fenced else f"```\n{unit.text}\n```"), True
        else:
            piece, own_line = unit.text, True
        if not text:
            text = piece
        elif own_line or text.endswith("```"):
            text = f"{text}\n{piece}" if not text.endswith("```") else f"{text}\n\n{piece}"
        else:
            text = f"{text} {piece}"
    return text


def _cite(text: str, number: int) -> str:
    """The citation marker before the final stop of prose, or after a list, row or code block."""
    if text.endswith("```"):
        return f"{text}\n[{number}]"
    if text[-1] in ".!;:" and "\n" not in text[-3:]:
        return f"{text[:-1]} [{number}]{text[-1]}"
    return f"{text} [{number}]"


def _faq_answer(
    asked: _Question, prepared: list[_Prepared], passages: Sequence[Passage], max_words: int
) -> Extract | None:
    """In an FAQ-shaped passage, a question line matching the visitor's is answered by what
    follows it (up to the next question or heading), as a Q&A pair is by its answer: the answer
    rarely resembles the question ("How is Valgrind pronounced?" / "The Val as in value")."""
    best: tuple[float, int, int] | None = None
    for rank, item in enumerate(prepared[:QA_RANKS]):
        if item.vectors is None or passages[rank].source_kind == QA_KIND:
            continue  # a Q&A pair is matched by its own, stricter rule
        for position, unit in enumerate(item.units):
            if unit.kind != sentences.QUESTION:
                continue
            similarity = asked.similarity(item.vectors[position])
            overlap, _ = asked.overlap(item.terms[position])
            if similarity < FAQ_MIN_SIMILARITY or overlap <= FAQ_MIN_COVERAGE:
                continue
            if best is None or similarity > best[0]:
                best = (similarity, rank, position)
    if best is None:
        return None
    _, rank, position = best
    units = prepared[rank].units
    picked: list[sentences.Unit] = []
    words = 0
    for unit in units[position + 1 :]:
        if unit.kind in (sentences.QUESTION, sentences.HEADING):
            break
        size = len(unit.text.split())
        full = picked and (words + size > max_words or len(picked) == MAX_SENTENCES)
        if full and (unit.kind not in _FOLLOWERS or not picked[-1].text.endswith(":")):
            break
        picked.append(unit)
        words += size
    if not picked:
        return None  # the answer is in the next chunk: the usual scoring finds it
    return Extract(_cite(_join(picked), 1), [passages[rank]])


def _qa_answer(asked: _Question, passages: Sequence[Passage], embedder) -> Extract | None:
    """A Q&A pair among the first passages whose question matches the visitor's: its answer."""
    for passage in passages[:QA_RANKS]:
        if passage.source_kind != QA_KIND:
            continue
        pair_question = " ".join((passage.heading or passage.title).split())
        answer = _qa_text(passage, pair_question)
        if not pair_question or not answer:
            continue
        if _matches(asked, pair_question, answer, embedder):
            return Extract(_cite(answer, 1), [passage])
    return None


def _qa_text(passage: Passage, pair_question: str) -> str:
    """The pair's answer: the chunk's text after its question line, lines kept."""
    text = passage.text.strip()
    first, _, rest = text.partition("\n")
    if " ".join(first.split()) == pair_question:
        text = rest
    lines = [" ".join(line.split()) for line in text.strip().splitlines()]
    return "\n".join(lines).strip()


def _matches(asked: _Question, pair_question: str, answer: str, embedder) -> bool:
    """Same meaning, and the visitor's content words (names, places) are in the pair."""
    if not asked.terms:
        return False
    covered = len(asked.terms & (content_terms(pair_question) | content_terms(answer)))
    if covered / len(asked.terms) < QA_MIN_COVERAGE:
        return False
    if asked.vector is None or embedder is None:
        return asked.terms <= content_terms(pair_question)
    try:
        vector = np.asarray(embedder.embed_documents([pair_question])[0], dtype=np.float32)
    except ServiceError:
        return asked.terms <= content_terms(pair_question)
    return float(vector @ asked.vector) >= QA_MIN_SIMILARITY


def word_chunks(text: str) -> list[str]:
    """The answer cut into words (each with its trailing space) for streaming."""
    return re.findall(r"\S+\s*", text)
