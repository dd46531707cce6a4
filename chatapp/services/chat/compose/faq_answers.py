"""Answers the content gives to its own questions: Q&A pairs and a document's FAQ entries.

A Q&A pair (a source of kind "qa") whose question matches the visitor's answers with its whole
answer. In a document, an FAQ question line matching the visitor's is answered by what follows it,
up to the next question or heading, read on into the retrieved next chunk of the same page; a long
entry is quoted by its start and the units of it that speak most to the question.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from chatapp.core.errors import ServiceError
from chatapp.services.chat.compose import quoting, sentences
from chatapp.services.chat.compose.unit_scoring import (
    ANSWERS,
    Extract,
    Prepared,
    Question,
    choose,
    content_terms,
    render,
    score_unit,
    score_units,
)
from chatapp.services.knowledge.retrieval import Passage

QA_KIND = "qa"  # Source.kind of a Q&A pair (chunk text: the question line, then the answer)
QA_RANKS = 3  # a pair is looked for among the first passages only
QA_MIN_SIMILARITY = 0.75  # cosine between the visitor's question and the pair's
QA_MIN_COVERAGE = 0.5  # share of the visitor's content words found in the pair
FAQ_MIN_SIMILARITY = 0.7  # an FAQ question line (in a document) matching the visitor's question
FAQ_MIN_COVERAGE = 0.5  # more than half of the visitor's content words in that line
FAQ_LEAD = 2  # a long FAQ answer is quoted from its start (the direct answer and what follows)
FAQ_EXTRA = 1  # then its units that speak most to the question, one more than a composed answer


def faq_answer(
    asked: Question,
    prepared: list[Prepared],
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
        return render(block, prepared, passages)
    keep, words = {0}, sizes[0]
    for i in range(1, min(FAQ_LEAD, len(block))):
        if words + sizes[i] <= max_words:
            keep.add(i)
            words += sizes[i]
    scored = {
        i: score_unit(asked, prepared, rank, position, 0.0).score
        for i, (rank, position) in enumerate(block)
        if i >= FAQ_LEAD and prepared[rank].units[position].kind in ANSWERS
    }
    for i in sorted(scored, key=scored.__getitem__, reverse=True):
        if len(keep) == most:
            break
        if words + sizes[i] <= max_words:
            keep.add(i)
            words += sizes[i]
    return render([block[i] for i in sorted(keep)], prepared, passages)


def _rest_of_answer(
    asked: Question,
    prepared: list[Prepared],
    passages: Sequence[Passage],
    block: list[tuple[int, int]],
    most: int,
    max_words: int,
) -> list[tuple[int, int]]:
    """Units the usual scoring chooses from other passages of the FAQ's page, when the answer
    runs on into a chunk that was not retrieved (its later part may be in one that was)."""
    source = passages[block[0][0]].source_id
    candidates = score_units(asked, prepared)
    if not candidates:
        return []
    best = max(candidates, key=lambda c: c.score)
    words = sum(len(prepared[r].units[p].text.split()) for r, p in block)
    chosen = choose(asked, best, candidates, most - len(block), max_words - words)
    return [
        (c.rank, c.position)
        for c in chosen
        if passages[c.rank].source_id == source and (c.rank, c.position) not in block
    ]


def _faq_question(
    asked: Question, prepared: list[Prepared], passages: Sequence[Passage]
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
            if position in item.context:  # with the error or example it quotes
                similarity = max(similarity, asked.similarity(item.context[position]))
            overlap, _ = asked.overlap(item.terms[position])
            if similarity < FAQ_MIN_SIMILARITY or overlap <= FAQ_MIN_COVERAGE:
                continue
            if best is None or similarity > best[0]:
                best = (similarity, rank, position)
    return None if best is None else (best[1], best[2])


def _faq_block(
    prepared: list[Prepared], passages: Sequence[Passage], rank: int, position: int
) -> tuple[list[tuple[int, int]], bool]:
    """(rank, position) of the answer's units: up to the next question or heading, read on into
    the retrieved passage that continues the same source when the answer runs past its chunk
    (chunks overlap: units already read are skipped). And whether the answer's end was seen
    (False: it goes on in a chunk that was not retrieved)."""
    block: list[tuple[int, int]] = []
    units = prepared[rank].units
    quoted = quoting.quoted_by(units, position)
    start = position + 1 if quoted is None else quoted + 1
    seen = {u.text for u in units[position:start]}  # the question and what it quotes
    while rank is not None:
        for at in range(start, len(prepared[rank].units)):
            unit = prepared[rank].units[at]
            if unit.kind in (sentences.QUESTION, sentences.HEADING):
                return block, True
            if unit.text not in seen:
                block.append((rank, at))
                seen.add(unit.text)
        rank, start = _next_chunk(passages, rank), 0
        if rank is not None and not block and quoted is not None:  # the quote runs on
            start = _quote_rest(prepared[rank].units, seen)
    return block, False


def _quote_rest(units: list[sentences.Unit], seen: set[str]) -> int:
    """Where the answer starts in a chunk that opens inside the question's quote: after the
    units already read and the quote's lower-case or ":"-introduced continuation."""
    at = 0
    while at < len(units) and units[at].text in seen:
        at += 1
    while at < len(units) and (
        units[at].text[:1].islower() or (at and units[at - 1].text.endswith(":"))
    ):
        seen.add(units[at].text)
        at += 1
    return at


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


def qa_answer(asked: Question, passages: Sequence[Passage], embedder) -> Extract | None:
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


def _matches(asked: Question, pair_question: str, answer: str, embedder) -> bool:
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
