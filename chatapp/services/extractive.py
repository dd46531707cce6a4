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
from dataclasses import dataclass, field

import numpy as np
import Stemmer

from chatapp.services import number_ranges, quoting, sentences
from chatapp.services.errors import ServiceError
from chatapp.services.retrieval import Passage

log = logging.getLogger(__name__)

MAX_SENTENCES = 3
MAX_WORDS = 80
CLOSE_RATIO = 0.75  # another unit joins the best only when it scores at least this share of it
MIN_SIMILARITY = 0.25  # below this, and with no shared word, a sentence does not answer
CACHE_CHUNKS = 1024
QA_KIND = "qa"  # Source.kind of a Q&A pair (chunk text: the question line, then the answer)
QA_RANKS = 3  # a pair is looked for among the first passages only
QA_MIN_SIMILARITY = 0.75  # cosine between the visitor's question and the pair's
QA_MIN_COVERAGE = 0.5  # share of the visitor's content words found in the pair
FAQ_MIN_SIMILARITY = 0.7  # an FAQ question line (in a document) matching the visitor's question
FAQ_MIN_COVERAGE = 0.5  # more than half of the visitor's content words in that line
FAQ_LEAD = 2  # a long FAQ answer is quoted from its start (the direct answer and what follows)
FAQ_EXTRA = 1  # then its units that speak most to the question, one more than a composed answer

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
    terms: list[set[str]]  # of the unit with its context (`_in_context`)
    context: dict[int, np.ndarray] = field(default_factory=dict)  # units read with context

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
    texts = [u.text if u.kind in _ANSWERS or u.kind == sentences.QUESTION else "" for u in units]
    read = [_in_context(units, p) if texts[p] else "" for p in range(len(units))]
    more = [p for p, text in enumerate(read) if text != texts[p]]
    vectors, context = None, {}
    if embedder is not None and any(texts):
        try:
            found = embedder.embed_documents(texts + [read[p] for p in more])
            vectors = np.asarray(found[: len(texts)], dtype=np.float32)
            context = {
                p: np.asarray(v, dtype=np.float32)
                for p, v in zip(more, found[len(texts) :], strict=True)
            }
        except ServiceError:
            log.warning("sentence embeddings unavailable; scoring by words only")
    return _Prepared(units, vectors, [_terms(t) for t in read], context)


def _in_context(units: list[sentences.Unit], position: int) -> str:
    """A unit with what it is quoted with that says what it is about: a lead-in ending with ":"
    is about the list or code it brings, "It helps you..." about what the sentence before it
    names, a description about the option line above it."""
    unit = units[position]
    if unit.kind == sentences.QUESTION:
        return unit.text
    picked = quoting.with_context(units, [position])
    if unit.text.endswith(":"):
        picked += quoting.followers(units, position)
    return " ".join(units[p].text for p in sorted(set(picked)))


def _terms(text: str) -> set[str]:
    """Content terms, plus the base of negated words: "unused" also answers "used"."""
    terms = content_terms(text)
    negated = [w[2:] for w in _NEGATED.findall(text.lower())]
    return terms | set(_stemmer.stemWords(negated)) if negated else terms


_cache = _UnitCache()
_ANSWERS = (sentences.SENTENCE, sentences.ITEM, sentences.ROW, sentences.LINE)


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
        self.numbers = number_ranges.numbers(question) & self.terms
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

    def overlap(self, terms: set[str], text: str = "") -> tuple[float, int]:
        """Share of the question's terms in `terms` (the follow-up query's at half weight), and
        how many are shared; a number of the question inside a range of `text` counts."""
        if self.numbers and text:
            terms = terms | number_ranges.within(self.numbers - terms, text)
        shared = len(terms & self.terms) + 0.5 * len(terms & self.extra)
        return (shared / self.weight if self.weight else 0.0), len(
            terms & (self.terms | self.extra)
        )

    def holds_number(self, unit: sentences.Unit) -> bool:
        """Does the unit give one of the question's numbers, as written or inside a range?"""
        return bool(
            self.numbers
            & (content_terms(unit.text) | number_ranges.within(self.numbers, unit.text))
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
    listed = _faq_answer(asked, prepared, passages, max_sentences, max_words)
    if listed is not None:
        return listed
    candidates = _candidates(asked, prepared)
    if not candidates:
        return None
    best = max(candidates, key=lambda c: c.score)
    if best.shared == 0 and best.similarity < MIN_SIMILARITY:
        return None
    chosen = _choose(asked, best, candidates, max_sentences, max_words)
    return _render([(c.rank, c.position) for c in chosen], prepared, passages)


def _candidates(asked: _Question, prepared: list[_Prepared]) -> list[_Candidate]:
    found: list[_Candidate] = []
    for rank, item in enumerate(prepared):
        prior = 0.05 * (1 - rank / len(prepared))
        for position, unit in enumerate(item.units):
            if unit.kind not in _ANSWERS or len(unit.text.split()) < 2:
                continue
            found.append(_candidate(asked, prepared, rank, position, prior))
    return found


def _candidate(
    asked: _Question, prepared: list[_Prepared], rank: int, position: int, prior: float
) -> _Candidate:
    """A unit scored by meaning and by words, plus the passage's rank prior."""
    item = prepared[rank]
    overlap, shared = asked.overlap(item.terms[position], item.units[position].text)
    vector = item.vectors[position] if item.vectors is not None else None
    similarity = asked.similarity(vector)
    if position in item.context:  # read alone or with its context, whichever answers better
        similarity = max(similarity, asked.similarity(item.context[position]))
    score = 0.65 * similarity + 0.35 * overlap if vector is not None else overlap
    unit = item.units[position]
    return _Candidate(rank, position, unit, score + prior, similarity, overlap, shared)


def _choose(
    asked: _Question,
    best: _Candidate,
    candidates: list[_Candidate],
    max_sentences: int,
    max_words: int,
) -> list[_Candidate]:
    """The best unit, and others only when each is itself about the question."""
    chosen = [best]
    words = len(best.unit.text.split())
    # A table row holding the question's number ("178 cm" in "| 174-181 cm | ...") is the answer;
    # the other rows of such a table give other values, not more of the answer.
    by_number = best.unit.kind == sentences.ROW and asked.holds_number(best.unit)
    for candidate in sorted(candidates, key=lambda c: c.score, reverse=True)[1:]:
        if len(chosen) == max_sentences or candidate.score < CLOSE_RATIO * best.score:
            break
        size = len(candidate.unit.text.split())
        if (
            candidate.shared == 0
            or (
                by_number
                and candidate.unit.kind == sentences.ROW
                and not asked.holds_number(candidate.unit)
            )
            or (candidate.similarity < MIN_SIMILARITY and best.similarity >= MIN_SIMILARITY)
            or words + size > max_words
            or any(candidate.unit.text == c.unit.text for c in chosen)
        ):
            continue
        chosen.append(candidate)
        words += size
    return chosen


def _render(
    chosen: list[tuple[int, int]], prepared: list[_Prepared], passages: Sequence[Passage]
) -> Extract:
    """Group the chosen (rank, position) by passage, in the order first chosen; cite each group."""
    order: list[int] = []
    for rank, _ in chosen:
        if rank not in order:
            order.append(rank)
    groups = [(prepared[r].units, [p for rank, p in chosen if rank == r]) for r in order]
    return Extract(quoting.render(groups), [passages[r] for r in order])


def _faq_answer(
    asked: _Question,
    prepared: list[_Prepared],
    passages: Sequence[Passage],
    max_sentences: int,
    max_words: int,
) -> Extract | None:
    """In an FAQ-shaped passage, a question line matching the visitor's is answered by what
    follows it (up to the next question or heading), as a Q&A pair is by its answer: the answer
    rarely resembles the question ("How is Valgrind pronounced?" / "The Val as in value").
    A long answer is quoted by its first unit (the direct answer, as FAQ answers begin) and the
    units of it that speak most to the question, wherever they are in it."""
    found = _faq_question(asked, prepared, passages)
    if found is None:
        return None
    block, closed = _faq_block(prepared, passages, *found)
    if not block:
        return None  # the answer is in the next chunk: the usual scoring finds it
    sizes = [len(prepared[r].units[p].text.split()) for r, p in block]
    most = max_sentences + FAQ_EXTRA
    if len(block) <= most and sum(sizes) <= max_words:
        if not closed:  # the rest of the answer was not retrieved whole: look for it
            block += _rest_of_answer(asked, prepared, passages, block, most, max_words)
        return _render(block, prepared, passages)
    keep, words = {0}, sizes[0]
    for i in range(1, min(FAQ_LEAD, len(block))):
        if words + sizes[i] <= max_words:
            keep.add(i)
            words += sizes[i]
    scored = {
        i: _candidate(asked, prepared, rank, position, 0.0).score
        for i, (rank, position) in enumerate(block)
        if i >= FAQ_LEAD and prepared[rank].units[position].kind in _ANSWERS
    }
    for i in sorted(scored, key=scored.__getitem__, reverse=True):
        if len(keep) == most:
            break
        if words + sizes[i] <= max_words:
            keep.add(i)
            words += sizes[i]
    return _render([block[i] for i in sorted(keep)], prepared, passages)


def _rest_of_answer(
    asked: _Question,
    prepared: list[_Prepared],
    passages: Sequence[Passage],
    block: list[tuple[int, int]],
    most: int,
    max_words: int,
) -> list[tuple[int, int]]:
    """Units the usual scoring chooses from other passages of the FAQ's page, when the answer
    runs on into a chunk that was not retrieved (its later part may be in one that was)."""
    source = passages[block[0][0]].source_id
    candidates = _candidates(asked, prepared)
    if not candidates:
        return []
    best = max(candidates, key=lambda c: c.score)
    words = sum(len(prepared[r].units[p].text.split()) for r, p in block)
    chosen = _choose(asked, best, candidates, most - len(block), max_words - words)
    return [
        (c.rank, c.position)
        for c in chosen
        if passages[c.rank].source_id == source and (c.rank, c.position) not in block
    ]


def _faq_question(
    asked: _Question, prepared: list[_Prepared], passages: Sequence[Passage]
) -> tuple[int, int] | None:
    """(rank, position) of the question line among the first passages that matches the
    visitor's question best, if one does."""
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
    return None if best is None else (best[1], best[2])


def _faq_block(
    prepared: list[_Prepared], passages: Sequence[Passage], rank: int, position: int
) -> tuple[list[tuple[int, int]], bool]:
    """(rank, position) of the answer's units: up to the next question or heading, read on into
    the retrieved passage that continues the same source when the answer runs past its chunk
    (chunks overlap: units already read are skipped). And whether the answer's end was seen
    (False: it goes on in a chunk that was not retrieved)."""
    block: list[tuple[int, int]] = []
    seen: set[str] = set()
    start = position + 1
    while rank is not None:
        for at in range(start, len(prepared[rank].units)):
            unit = prepared[rank].units[at]
            if unit.kind in (sentences.QUESTION, sentences.HEADING):
                return block, True
            if unit.text not in seen:
                block.append((rank, at))
                seen.add(unit.text)
        rank, start = _next_chunk(passages, rank), 0
    return block, False


def _next_chunk(passages: Sequence[Passage], rank: int) -> int | None:
    """The rank of the retrieved passage that follows passage `rank` in its source, if any
    (a chunk id is "source:position:digest")."""
    source, _, rest = passages[rank].chunk_id.partition(":")
    at, _, _ = rest.partition(":")
    if not at.isdigit():
        return None
    wanted = f"{source}:{int(at) + 1}:"
    for other, passage in enumerate(passages):
        if passage.chunk_id.startswith(wanted) and passage.source_id == passages[rank].source_id:
            return other
    return None


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
            return Extract(quoting.cite(answer, 1), [passage])
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
