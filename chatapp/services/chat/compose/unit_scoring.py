"""Score a passage's answer units against the visitor's question, choose and quote them.

Each passage is cut into units (`sentences.units`: sentences, list items, table rows, lines, code
blocks; headings and questions are never answers), each scored by meaning (cosine with the
question, same local embedder as retrieval; a unit read with its context, `extractive`, scores
by itself or with it, whichever is higher) and by words (stemmed content words shared with the
question, and with the condensed follow-up query at lower weight; a number of the question inside
a range the unit gives counts), plus a small bonus for the passage's rank. The answer is the best
unit, plus others only when each is itself about the question (a score close to the best and a
shared content word): being a neighbour from the same passage is not enough. `quoting` adds what
each chosen unit needs to be read alone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import Stemmer

from chatapp.core.errors import ServiceError
from chatapp.services.chat.compose import number_ranges, quoting, sentences
from chatapp.services.knowledge.retrieval import Passage

CLOSE_RATIO = 0.75  # another unit joins the best only when it scores at least this share of it
MIN_SIMILARITY = 0.25  # below this, and with no shared word, a sentence does not answer
ANSWERS = (sentences.SENTENCE, sentences.ITEM, sentences.ROW, sentences.LINE)

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


@dataclass(frozen=True)
class Extract:
    text: str  # prose with citation markers [1], [2] ...
    passages: list[Passage]  # the cited passages; passage n is passages[n - 1]


# Irregular verb forms the stemmer leaves apart from their base ("sent" / "send"): a question
# "after sending it" is answered by "once an invoice is sent".
IRREGULAR = {
    form: base
    for base, forms in {
        "send": "sent", "buy": "bought", "pay": "paid", "make": "made", "take": "took taken",
        "give": "gave given", "leave": "left", "keep": "kept", "find": "found", "build": "built",
        "run": "ran", "go": "went gone", "come": "came", "sell": "sold", "hold": "held",
        "bring": "brought", "begin": "began begun", "choose": "chose chosen",
        "write": "wrote written", "lose": "lost", "break": "broke broken", "spend": "spent",
        "lend": "lent", "forget": "forgot forgotten", "freeze": "froze frozen",
        "hide": "hid hidden", "show": "shown", "grow": "grew grown", "know": "knew known",
        "throw": "threw thrown", "drive": "drove driven", "ride": "rode ridden",
        "steal": "stole stolen", "wear": "wore worn", "tear": "tore torn", "bind": "bound",
        "feed": "fed", "meet": "met", "fall": "fell fallen",
    }.items()
    for form in forms.split()
}  # fmt: skip


def base_form(word: str) -> str:
    """The stem of a lower-case word, an irregular verb form taken back to its base first."""
    return _stemmer.stemWord(IRREGULAR.get(word, word))


def content_terms(text: str) -> set[str]:
    words = [w for w in _WORD.findall(text.lower()) if w not in STOPWORDS and len(w) > 1]
    return {base_form(w) for w in words}


def unit_terms(text: str) -> set[str]:
    """Content terms, plus the base of negated words: "unused" also answers "used"."""
    terms = content_terms(text)
    negated = [w[2:] for w in _NEGATED.findall(text.lower())]
    return terms | set(_stemmer.stemWords(negated)) if negated else terms


@dataclass(frozen=True)
class Prepared:
    """A passage's answer units and the vectors of the scorable ones (None: words only)."""

    units: list[sentences.Unit]
    vectors: np.ndarray | None  # one row per unit; code rows are zeros
    terms: list[set[str]]  # of the unit with its context (`extractive._context_of`)
    # Units read with their context: the normalised sum of the context units' vectors.
    context: dict[int, np.ndarray] = field(default_factory=dict)

    def __iter__(self):
        """(texts, vectors), as `_cache.get` returned before units; answerability unpacks it."""
        return iter(([u.text for u in self.units], self.vectors))


@dataclass
class Candidate:
    rank: int
    position: int
    unit: sentences.Unit
    score: float
    similarity: float
    overlap: float
    shared: int  # content words shared with the question (or the follow-up query)


class Question:
    """The visitor's question (and the condensed follow-up query) as terms and vectors."""

    def __init__(self, question: str, query: str | None, embedder):
        self.query = query if query and query != question else None
        self.terms = content_terms(question)
        self.numbers = number_ranges.numbers(question) & self.terms
        self.extra = content_terms(self.query) - self.terms if self.query else set()
        self.weight = len(self.terms) + 0.5 * len(self.extra)
        self.vector = embed_query(embedder, question)
        self.extra_vector = embed_query(embedder, self.query) if self.query else None

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


def embed_query(embedder, text: str) -> np.ndarray | None:
    if embedder is None:
        return None
    try:
        return np.asarray(embedder.embed_query(text), dtype=np.float32)
    except ServiceError:
        return None


def score_units(asked: Question, prepared: list[Prepared]) -> list[Candidate]:
    found: list[Candidate] = []
    for rank, item in enumerate(prepared):
        prior = 0.05 * (1 - rank / len(prepared))
        for position, unit in enumerate(item.units):
            if unit.kind not in ANSWERS or len(unit.text.split()) < 2:
                continue
            found.append(score_unit(asked, prepared, rank, position, prior))
    return found


def score_unit(
    asked: Question, prepared: list[Prepared], rank: int, position: int, prior: float
) -> Candidate:
    """A unit scored by meaning and by words, plus the passage's rank prior."""
    item = prepared[rank]
    overlap, shared = asked.overlap(item.terms[position], item.units[position].text)
    vector = item.vectors[position] if item.vectors is not None else None
    similarity = asked.similarity(vector)
    if position in item.context:  # read alone or with its context, whichever answers better
        similarity = max(similarity, asked.similarity(item.context[position]))
    score = 0.65 * similarity + 0.35 * overlap if vector is not None else overlap
    unit = item.units[position]
    return Candidate(rank, position, unit, score + prior, similarity, overlap, shared)


def choose(
    asked: Question,
    best: Candidate,
    candidates: list[Candidate],
    max_sentences: int,
    max_words: int,
) -> list[Candidate]:
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


def render(
    chosen: list[tuple[int, int]], prepared: list[Prepared], passages: Sequence[Passage]
) -> Extract:
    """Group the chosen (rank, position) by passage, in the order first chosen; cite each group."""
    order: list[int] = []
    for rank, _ in chosen:
        if rank not in order:
            order.append(rank)
    groups = [(prepared[r].units, [p for rank, p in chosen if rank == r]) for r in order]
    return Extract(quoting.render(groups), [passages[r] for r in order])
