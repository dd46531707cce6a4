"""Quote chosen answer units as cited text: what each unit needs around it to be read alone.

`extractive` decides which units (sentences, list items, table rows, code blocks) answer; this
module turns them into the answer's text. A unit is quoted with what it cannot be read without:

* a lead-in ending with ":" brings the list items, rows or code it introduces;
* a table row brings the table's header row ("| Rider height | Frame size |" above
  "| 174-181 cm | 56 cm (M) |");
* a description brings the option or setting line above it (a manual's "--trace-children=..."
  then "When enabled, Valgrind will trace into sub-processes...");
* a sentence that opens by pointing back ("It helps you...", "This option...") brings the
  sentence before it in the same paragraph, which says what "it" is;
* two sentences of one paragraph with one sentence between them bring that one: quoting the
  first and third skips a step of the text ("It's probably a bug in 'make'. Some, but not all,
  instances of version 3.79.1 have this bug. Try upgrading...").

Units are verbatim (whitespace normalised), in source order, grouped by passage; each group is
cited once ("[1]" before the final stop of prose, after a list, row or code block).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from chatapp.services.chat.compose import sentences

MAX_FOLLOWERS = 8  # list items, rows or code blocks a lead-in ending with ":" brings along
MAX_ANTECEDENTS = 2  # sentences a pointing-back sentence may bring ("It ..." after "This ...")
FOLLOWERS = (sentences.ITEM, sentences.ROW, sentences.CODE, sentences.LINE)

# A sentence that opens with one of these points back to the one before it ("It helps you make
# your programs use less memory" says nothing without "Massif is a heap profiler").
_POINTS_BACK = re.compile(
    r"^(?:it|its|this|these|they|their|them|he|she|his|her|such|both|either|neither)\b"
    r"(?!\s+(?:is|was|'s)\s+(?:possible|important|recommended|not|also|easy|hard|best|worth)\b)",
    re.IGNORECASE,
)


def points_back(unit: sentences.Unit) -> bool:
    """A sentence whose first word refers to something named before it."""
    return unit.kind == sentences.SENTENCE and _POINTS_BACK.match(unit.text) is not None


def with_context(units: Sequence[sentences.Unit], positions: list[int]) -> list[int]:
    """The chosen positions, each with what it needs to be read alone, in source order."""
    picked: set[int] = set()
    for position in positions:
        picked.add(position)
        unit = units[position]
        term = position - 1
        if term >= 0 and is_term(units[term]) and unit.kind == sentences.SENTENCE:
            picked.add(term)
        if unit.kind == sentences.ROW:
            picked.add(header(units, position))
        before = position
        for _ in range(MAX_ANTECEDENTS):
            if not points_back(units[before]) or before == 0:
                break
            previous = units[before - 1]
            if previous.kind != sentences.SENTENCE or previous.block != units[before].block:
                break
            before -= 1
            picked.add(before)
        if unit.text.endswith(":"):
            picked.update(followers(units, position))
    for position in sorted(picked):  # one sentence left out between two of one paragraph
        gap, after = position + 1, position + 2
        if after in picked and gap not in picked and _same_paragraph(units, position, after):
            picked.add(gap)
    return sorted(picked)


def _same_paragraph(units: Sequence[sentences.Unit], first: int, last: int) -> bool:
    span = units[first : last + 1]
    return all(u.kind == sentences.SENTENCE and u.block == span[0].block for u in span)


def header(units: Sequence[sentences.Unit], position: int) -> int:
    """The first row of the table a row belongs to (its header; the row itself if first)."""
    first = position
    while first > 0 and units[first - 1].kind == sentences.ROW:
        first -= 1
    return first


def quoted_by(units: Sequence[sentences.Unit], position: int) -> int | None:
    """The last unit a question ending with ":" quotes ("'make' fails with this:" then the error
    message; "...dies like this:", the message, "or like this:", another one, "or otherwise
    aborts..."): part of the question, not of its answer. None when it quotes nothing."""
    if not units[position].text.endswith(":"):
        return None
    last = None
    at = position + 1
    while at < len(units) and units[at].kind not in (sentences.QUESTION, sentences.HEADING):
        unit = units[at]
        if last is not None and not (units[last].text.endswith(":") or unit.text[:1].islower()):
            break
        last = at
        at += 1
    return last


def followers(units: Sequence[sentences.Unit], position: int) -> list[int]:
    """The list items, rows or code blocks right after a lead-in ending with ":"."""
    found = []
    for after in range(position + 1, min(len(units), position + 1 + MAX_FOLLOWERS)):
        if units[after].kind not in FOLLOWERS:
            break
        found.append(after)
    return found


def is_term(unit: sentences.Unit) -> bool:
    """A one-line code unit: an option or setting named above its description."""
    return unit.kind == sentences.CODE and "\n" not in unit.text.strip()


def join(units: Sequence[sentences.Unit]) -> str:
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


def cite(text: str, number: int) -> str:
    """The citation marker before the final stop of prose, or after a list, row or code block."""
    if text.endswith("```"):
        return f"{text}\n[{number}]"
    if text[-1] in ".!;:" and "\n" not in text[-3:]:
        return f"{text[:-1]} [{number}]{text[-1]}"
    return f"{text} [{number}]"


def render(groups: list[tuple[Sequence[sentences.Unit], list[int]]]) -> str:
    """One cited group per passage (in the order given): its chosen units with their context."""
    parts = []
    for number, (units, positions) in enumerate(groups, start=1):
        picked = with_context(units, sorted(set(positions)))
        parts.append(cite(join([units[p] for p in picked]), number))
    separator = "\n\n" if any("\n" in part for part in parts) else " "
    return separator.join(parts)
