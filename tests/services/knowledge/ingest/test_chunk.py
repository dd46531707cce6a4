"""Chunking: sizes, sentence boundaries, overlap, headings and pages, determinism."""

from __future__ import annotations

import itertools
import re
import time

import pytest

from chatapp.services.knowledge.ingest.chunk import (
    MAX_TOKENS,
    OVERLAP_TOKENS,
    TARGET_TOKENS,
    chunk_document,
    count_tokens,
    split_sentences,
)
from chatapp.services.knowledge.ingest.types import Document, Section

TOPICS = ["billing", "shipping", "accounts", "security", "exports", "webhooks", "the API", "teams"]


def sentence(i: int) -> str:
    """Distinct, recognisable sentences of varied length."""
    topic = TOPICS[i % len(TOPICS)]
    extra = " and it also explains the related settings in some detail" * (i % 3)
    return f"Sentence {i} describes {topic}{extra}."


def paragraph(start: int, count: int) -> str:
    return " ".join(sentence(i) for i in range(start, start + count))


def sentences_of(chunks) -> list[list[str]]:
    return [re.findall(r"Sentence \d+ [^.]*\.", chunk.text) for chunk in chunks]


def doc(*sections: Section, title: str = "Help Center") -> Document:
    return Document(title=title, kind="text", sections=list(sections))


# ------------------------------------------------------------------------------ count_tokens


def test_count_tokens_basics():
    assert count_tokens("") == 0
    assert count_tokens("   \n ") == 0
    assert count_tokens("hello world") == 2
    assert count_tokens("hello, world!") == 4  # punctuation marks are pieces
    assert count_tokens("internationalisation") > count_tokens("cat")
    assert count_tokens("a b") + count_tokens("c d") == count_tokens("a b c d")  # additive


def test_count_tokens_is_fast_on_megabytes():
    text = paragraph(0, 2000) * 40  # ~9 MB... at least a few MB of text
    assert len(text) > 4_000_000
    started = time.perf_counter()
    count_tokens(text)
    assert time.perf_counter() - started < 5


# --------------------------------------------------------------------------- split_sentences


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("One. Two! Three? Four.", ["One.", "Two!", "Three?", "Four."]),
        (
            "Use Python 3.11 or newer. It is faster.",
            ["Use Python 3.11 or newer.", "It is faster."],
        ),
        (
            "Pick a format, e.g. CSV or JSON. Then export it, i.e. Download it.",
            ["Pick a format, e.g. CSV or JSON.", "Then export it, i.e. Download it."],
        ),
        ("Mr. Smith met Dr. Jones. They talked.", ["Mr. Smith met Dr. Jones.", "They talked."]),
        (
            "Visit https://example.com/docs/v2.1/index.html for more. Thanks.",
            ["Visit https://example.com/docs/v2.1/index.html for more.", "Thanks."],
        ),
        ("J. R. R. Tolkien wrote it. Read it.", ["J. R. R. Tolkien wrote it.", "Read it."]),
        ('He said "Stop." Then he left.', ['He said "Stop."', "Then he left."]),
        (
            "The line wraps here\nin the middle of a sentence. Next one.",
            ["The line wraps here\nin the middle of a sentence.", "Next one."],
        ),
        (
            "Steps:\n- open the app\n- click Save\n1. First\n2. Second",
            ["Steps:", "- open the app", "- click Save", "1. First", "2. Second"],
        ),
        ("Para one has no stop\n\nPara two neither", ["Para one has no stop", "Para two neither"]),
    ],
)
def test_split_sentences(text, expected):
    assert [text[a:b] for a, b in split_sentences(text)] == expected


# ---------------------------------------------------------------------------- chunk_document


def test_empty_documents_give_no_chunks():
    assert chunk_document(Document(title="T", kind="text")) == []
    assert chunk_document(doc(Section(text=""), Section(text="  \n\n "))) == []


def test_short_document_is_one_chunk_with_its_metadata():
    chunks = chunk_document(doc(Section(text="Hello there. How are you?", heading="Intro")))
    assert len(chunks) == 1
    chunk = chunks[0]
    assert chunk.text == "Hello there. How are you?"
    assert (chunk.title, chunk.heading, chunk.page, chunk.position) == (
        "Help Center",
        "Intro",
        None,
        0,
    )
    assert chunk.token_count == count_tokens(chunk.text)
    assert chunk.indexed_text == "Help Center > Intro\nHello there. How are you?"


def test_defaults_fit_minilm_window():
    assert TARGET_TOKENS <= MAX_TOKENS <= 254  # 256 wordpieces minus [CLS] and [SEP]
    assert 0 < OVERLAP_TOKENS < TARGET_TOKENS // 2


def test_long_section_respects_sizes_and_never_splits_sentences():
    text = paragraph(0, 300)
    chunks = chunk_document(doc(Section(text=text, heading="Guide")))
    assert len(chunks) > 5
    originals = {sentence(i) for i in range(300)}
    for chunk in chunks:
        assert chunk.token_count == count_tokens(chunk.text) <= MAX_TOKENS
        assert count_tokens(chunk.indexed_text) <= MAX_TOKENS
        # Every chunk is a run of whole sentences: it starts and ends on sentence boundaries.
        found = re.findall(r"Sentence \d+ [^.]*\.", chunk.text)
        assert " ".join(found) == chunk.text
        assert set(found) <= originals
    # Chunks aim at the target: apart from the last, none is tiny.
    assert all(c.token_count >= TARGET_TOKENS // 2 for c in chunks[:-1])


def test_all_text_is_covered_in_order():
    chunks = chunk_document(doc(Section(text=paragraph(0, 120))))
    seen = [int(s.split()[1]) for group in sentences_of(chunks) for s in group]
    assert sorted(set(seen)) == list(range(120))
    firsts = [int(group[0].split()[1]) for group in sentences_of(chunks)]
    assert firsts == sorted(firsts)


def test_consecutive_chunks_overlap_by_whole_sentences():
    chunks = chunk_document(doc(Section(text=paragraph(0, 200))))
    groups = sentences_of(chunks)
    assert len(groups) > 3
    for previous, current in itertools.pairwise(groups):
        shared = [s for s in current if s in previous]
        assert shared, "consecutive chunks of one section share a sentence"
        assert current[: len(shared)] == previous[-len(shared) :]  # the tail, carried over
        assert sum(count_tokens(s) for s in shared) <= OVERLAP_TOKENS
        assert len(shared) < len(current)  # every chunk brings something new


def test_overlap_can_be_turned_off():
    chunks = chunk_document(doc(Section(text=paragraph(0, 200))), overlap_tokens=0)
    groups = sentences_of(chunks)
    flat = [s for group in groups for s in group]
    assert len(flat) == len(set(flat)) == 200


def test_chunks_never_cross_headings_or_pages():
    document = doc(
        Section(text=paragraph(0, 60), heading="Billing", page=1),
        Section(text=paragraph(60, 3), heading="Billing", page=2),
        Section(text=paragraph(63, 2), heading="Shipping", page=2),
        Section(text=paragraph(65, 60), heading="Shipping", page=2),
        Section(text=paragraph(125, 2), heading="", page=3),
    )
    chunks = chunk_document(document)
    expected_owner = {}
    for i in range(60):
        expected_owner[i] = ("Billing", 1)
    for i in range(60, 63):
        expected_owner[i] = ("Billing", 2)
    for i in range(63, 125):
        expected_owner[i] = ("Shipping", 2)  # two consecutive sections, same heading and page
    for i in range(125, 127):
        expected_owner[i] = ("", 3)
    for chunk, group in zip(chunks, sentences_of(chunks), strict=True):
        owners = {expected_owner[int(s.split()[1])] for s in group}
        assert owners == {(chunk.heading, chunk.page)}
    assert {(c.heading, c.page) for c in chunks} == set(expected_owner.values())
    # The tiny "Shipping" section merged with the next one of the same heading and page.
    first_shipping = next(c for c in chunks if c.heading == "Shipping")
    assert "Sentence 63 " in first_shipping.text and "Sentence 65 " in first_shipping.text


def test_positions_are_sequential_and_output_is_deterministic():
    document = doc(
        Section(text=paragraph(0, 80), heading="A"),
        Section(text=paragraph(80, 80), heading="B", page=4),
    )
    first = chunk_document(document)
    assert [c.position for c in first] == list(range(len(first)))
    assert chunk_document(document) == first
    rebuilt = Document(title=document.title, kind="text", sections=list(document.sections))
    assert chunk_document(rebuilt) == first


def test_giant_sentence_is_split_at_word_boundaries():
    words = [f"word{i}" for i in range(2000)]
    giant = " ".join(words)  # one "sentence" with no punctuation at all
    chunks = chunk_document(doc(Section(text=f"Short intro. {giant}. Short outro.")))
    assert len(chunks) > 5
    for chunk in chunks:
        assert chunk.token_count <= MAX_TOKENS
        assert count_tokens(chunk.indexed_text) <= MAX_TOKENS
        for token in chunk.text.split():
            assert token.strip(".") in set(words) | {"Short", "intro", "outro"}
    pieces = [t.strip(".") for c in chunks for t in c.text.split() if t.startswith("word")]
    assert set(pieces) == set(words)  # every word kept whole, none lost


def test_single_enormous_word_is_cut_by_characters():
    blob = "x" * 5000
    chunks = chunk_document(doc(Section(text=blob)))
    assert all(c.token_count <= MAX_TOKENS for c in chunks)
    assert "".join(c.text for c in chunks).count("x") >= 5000


def test_custom_sizes_are_honoured():
    chunks = chunk_document(
        doc(Section(text=paragraph(0, 100)), title=""),
        target_tokens=60,
        overlap_tokens=10,
        max_tokens=80,
    )
    assert len(chunks) > 10
    assert all(c.token_count <= 80 for c in chunks)


def test_long_heading_leaves_room_for_text():
    heading = "A very long heading " * 40
    chunks = chunk_document(doc(Section(text=paragraph(0, 40), heading=heading)))
    assert chunks
    assert all(0 < c.token_count <= MAX_TOKENS for c in chunks)


def test_whitespace_is_normalised_but_paragraphs_kept():
    chunks = chunk_document(doc(Section(text="First   line.\r\n\r\n\r\n\tSecond  line.")))
    assert chunks[0].text == "First line.\n\nSecond line."


def test_chunking_megabytes_takes_seconds():
    sections = [Section(text=paragraph(i * 50, 50), heading=f"Part {i}") for i in range(1200)]
    document = doc(*sections)
    assert len(document.text) > 1_500_000
    started = time.perf_counter()
    chunks = chunk_document(document)
    elapsed = time.perf_counter() - started
    assert chunks
    assert elapsed < 15, f"chunking {len(document.text)} chars took {elapsed:.1f}s"
