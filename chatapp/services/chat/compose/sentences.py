"""Split a passage into answer units: whole sentences, list items, table rows and code blocks.

Offline answers quote the owner's text, so a unit must never be a fragment. Rules, not a library:
on 42 cases (initials, abbreviations, decimals, versions, URLs, file names, inline code) pysbd 0.3.4
cut one inside inline code and took ~11 ms per 2,000 characters (rules: ~0.5 ms); sentencex cut
none wrongly but missed "README.md. Read"; neither knows lists, table rows, code blocks or headings.

A passage is read block by block (blank lines separate blocks). In a block, fenced or code-like
lines form one code unit, bullet or numbered lines and table rows are one unit each, a short line
with no end punctuation is a heading, and the other lines are prose: soft line wraps are joined,
then cut at sentence ends. Short lines after a lead-in ending with ":" are the lines of the list
it announces (an HTML list whose bullets the clean text dropped), and a command-like line right
after code in the same block is more of that code (a `<pre>` block's "ledgerly --version" under
"pip install ledgerly-cli"). Every unit's text is verbatim from the passage after whitespace
normalisation (code keeps its lines).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SENTENCE, ITEM, ROW, CODE, HEADING, QUESTION, LINE = (
    "sentence",
    "item",
    "row",
    "code",
    "heading",
    "question",
    "line",  # a short line a lead-in ending with ":" introduces: a list that lost its bullets
)

# "Dr. Smith", "e.g. Python": a period after these never ends a sentence.
_NEVER_END = frozenset(
    """e.g i.e eg ie cf vs mr mrs ms dr prof st mt ft no nos fig figs vol vols p pp ch sec eq
    eqs ref refs ed eds approx ca gen col lt sgt capt gov sen rep hon dept univ est min max jan
    feb mar apr
    jun jul aug sep sept oct nov dec""".split()  # noqa: SIM905
)
# "Susan G. Kleinmann", "Acme Inc. The shop": ends a sentence only before a usual sentence opener.
_MAYBE_END = frozenset("inc ltd co corp jr sr al u.s u.k e.u".split())  # noqa: SIM905
_OPENERS = frozenset(
    """a an the this that these those there here it its he she we you they i our your their his
    her my in on at for from to of by with as if when where while after before then however but and
    so also please note see all each some many most one no not only do does did is are was were be
    what which who how why yes thanks thank""".split()  # noqa: SIM905
)
_END = re.compile(
    r"""([.!?\u2026]+)["'\u201d\u2019)\]*_]*\s+(?=["'\u201c\u2018(\[`*_]*[A-Z0-9\u00c0-\u00de])"""
)
_WORD_BEFORE = re.compile(r"(\S+)$")
_NEXT_WORD = re.compile(r"\s*[\"'\u201c\u2018(\[`*_]*([\w.]+)")
_INITIALS = re.compile(r"(?:[a-z]\.)*[a-z]")
_INLINE_CODE = re.compile(r"`[^`\n]+`")

_BULLET = re.compile(r"^\s*(?:[-*+\u2022\u2023\u25e6\u25aa\u2013]|\d{1,3}[.)]|[a-z][)])\s+")
_FENCE = re.compile(r"^\s*(```|~~~)")
_TABLE_RULE = re.compile(r"^[\s|:+-]+$")
_MD_HEADING = re.compile(r"^#{1,6}\s")
_CODE_LINE = re.compile(
    r"""^(?:\s{2,}|\t|[$%>]\s|>>>|\.\.\.\s|\#include|\#!|//|/\*|[{}]|</?[a-z][\w-]*[\s>])
    |[;{}]\s*$
    |\s\\$
    |^[\w.\[\]'"]+\s*(?:=|\+=|:=|->)\s*\S
    |^[a-z_][\w.]*\(.*\)\s*$
    |^(?:sudo|pip|pip3|git|apt|apt-get|npm|npx|cd|ls|docker|python3?|curl|wget|make|cargo|go|
      mkdir|export|chmod|cp|mv|rm|cat|echo|def|class|import|from|return|const|let|var|fn|func|
      public|private|int|void|SELECT|INSERT|UPDATE|CREATE)\b(?!.*[.!?]$)""",
    re.VERBOSE,
)
_COMMAND_WORDS = 8
_TECHNICAL = re.compile(r"\S[-_/=.:]\S|(?:^|\s)-{1,2}\w|\d")
_SOFT_END = (".", "!", "?", ":", ";", "\u2026")


@dataclass(frozen=True, slots=True)
class Unit:
    text: str  # verbatim, whitespace-normalised (a code block keeps its line breaks)
    kind: str  # SENTENCE, ITEM, ROW, CODE, HEADING or QUESTION
    block: int  # the paragraph it belongs to: a lead-in sentence brings its list or code


def split(text: str) -> list[str]:
    """The sentences of one paragraph of prose (line breaks are soft wraps)."""
    text = " ".join(text.split())
    if not text:
        return []
    masked = _INLINE_CODE.sub(lambda m: "x" * len(m.group()), text)  # no cut inside `code`
    sentences: list[str] = []
    start = 0
    for match in _END.finditer(masked):
        if match.group(1) == "." and not _ends_here(masked, match.start(1), match.end()):
            continue
        piece = text[start : match.end()].strip()
        if piece:
            sentences.append(piece)
        start = match.end()
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences


def _ends_here(text: str, dot: int, after: int) -> bool:
    """Does the period at `dot` end a sentence, or an abbreviation or an initial?"""
    found = _WORD_BEFORE.search(text, max(0, dot - 40), dot)
    word = found.group(1).lstrip("\"'\u201c\u2018([`*_").lower() if found else ""
    if not word or word in _NEVER_END:
        return not word
    if word in ("etc", "a.m", "p.m"):
        return True  # the next word is capitalised: these usually end the sentence
    if word in _MAYBE_END or _INITIALS.fullmatch(word):
        following = _NEXT_WORD.match(text, after - 1)
        nxt = following.group(1).lower() if following else ""
        return nxt in _OPENERS or nxt[:1].isdigit()
    return True


def units(text: str) -> list[Unit]:
    """The passage's answer units, in source order."""
    lines = text.replace("\r\n", "\n").split("\n")
    more = sum(1 for line in lines if line.strip()) > 1
    return _Reader(more).read(lines)


class _Reader:
    """One pass over the lines; blank lines end a block, except inside a fenced code block."""

    def __init__(self, more: bool):
        self.more = more  # a short line alone is a heading only when the passage has more
        self.result: list[Unit] = []
        self.prose: list[str] = []
        self.code: list[str] = []
        self.block = 0

    def read(self, lines: list[str]) -> list[Unit]:
        fenced = False
        for line in lines:
            if _FENCE.match(line):
                self._flush_prose()
                self.code.append(line)
                if fenced:
                    self._flush_code()
                fenced = not fenced
            elif fenced:
                self.code.append(line)
            elif not line.strip():
                self._flush_prose()
                self._flush_code()
                self.block += 1
            else:
                self._line(line)
        self._flush_prose()
        self._flush_code()
        return self.result

    def _line(self, line: str) -> None:
        stripped = line.strip()
        bullet = _BULLET.match(line)
        if self._wraps_item(stripped) and not bullet:
            last = self.result.pop()  # a list item wrapped onto the next line
            self._add(f"{last.text} {' '.join(stripped.split())}", ITEM)
        elif (
            (_CODE_LINE.search(line) or self._more_code(stripped))
            and not bullet
            and ("|" not in stripped)
        ):
            self._flush_prose()
            self.code.append(line)
        elif bullet:
            self._flush_all()
            self._add(" ".join(_BULLET.sub("", line).split()), ITEM)
        elif "|" in stripped and (stripped.startswith("|") or " | " in stripped):
            self._flush_all()
            if not _TABLE_RULE.match(stripped):
                row = " ".join(stripped.split())
                self._add(row, QUESTION if _asks(row) else ROW)
        elif _MD_HEADING.match(stripped):
            self._flush_all()
            self._add(stripped.lstrip("#").strip(), HEADING)
        else:
            self._flush_code()
            self.prose.append(stripped)

    def _more_code(self, stripped: str) -> bool:
        """A line that goes on with the code lines right above it: after a shell continuation
        ("\\"), or a short command-like line (lower case or a symbol first, a technical token,
        no end punctuation) rather than prose."""
        if not self.code:
            return False
        if self.code[-1].rstrip().endswith("\\"):
            return True
        return (
            not stripped[0].isupper()
            and not stripped.endswith(_SOFT_END)
            and len(stripped.split()) <= _COMMAND_WORDS
            and _TECHNICAL.search(stripped) is not None
        )

    def _wraps_item(self, stripped: str) -> bool:
        last = self.result[-1] if self.result else None
        return (
            last is not None
            and last.kind == ITEM
            and last.block == self.block
            and not (self.prose or self.code)
            and stripped[0].islower()
            and not _CODE_LINE.search(stripped)
        )

    def _flush_all(self) -> None:
        self._flush_prose()
        self._flush_code()

    def _add(self, text: str, kind: str) -> None:
        self.result.append(Unit(text, kind, self.block))

    def _flush_prose(self) -> None:
        if self.prose:
            for unit in _prose_units(self.prose, self.block, more=self.more):
                if unit.kind == HEADING and self._listing():
                    unit = Unit(unit.text, LINE, unit.block)
                self.result.append(unit)
            self.prose = []

    def _listing(self) -> bool:
        """After a lead-in ending with ":" (or a line it introduced), a short line is an entry
        of the list it announces, not a heading: HTML lists lose their bullets in clean text
        ("Valgrind also reads options from three places:" / "The file ~/.valgrindrc")."""
        last = self.result[-1] if self.result else None
        return last is not None and (
            last.kind == LINE or (last.kind == SENTENCE and last.text.endswith(":"))
        )

    def _flush_code(self) -> None:
        body = "\n".join(line.rstrip() for line in self.code).strip("\n")
        if body.strip():
            self._add(body, CODE)
        self.code = []


def _prose_units(lines: list[str], block: int, *, more: bool) -> list[Unit]:
    """Join soft-wrapped lines into paragraphs and cut them into sentences."""
    paragraphs: list[list[str]] = []
    for line in lines:
        last = paragraphs[-1][-1] if paragraphs else ""
        wraps = last and not last.endswith(_SOFT_END) and _continues(last, line)
        if wraps:
            paragraphs[-1].append(line)
        else:
            paragraphs.append([line])
    result: list[Unit] = []
    for paragraph in paragraphs:
        joined = " ".join(paragraph)
        if len(paragraph) == 1 and _TERM_LINE.match(joined.strip()):
            result.append(Unit(joined.strip(), CODE, block))  # an option, a path, a setting
            continue
        if len(paragraph) == 1 and more and _looks_like_heading(joined):
            result.append(Unit(" ".join(joined.split()), HEADING, block))
            continue
        for sentence in split(joined):
            kind = QUESTION if sentence.rstrip("\"')*_").endswith("?") else SENTENCE
            result.append(Unit(sentence, kind, block))
    return result


# A line that is one technical term, not a title: "--enable-inner", "--memcheck:leak-check=yes",
# "obj:/usr/lib/libX11.so.6", "$HOME/.valgrindrc" (a manual's option list or example line).
_TERM_LINE = re.compile(
    r"^(?!https?://)(?:(?:-{1,2}[\w-]|[$~./]|\S*[=/:]\S)\S*|-{1,2}\w[\w-]*[=\s][^.!?]{0,60})$"
)

_NUMBER_LABEL = re.compile(r"^\|?\s*(?:Q\s*)?\d+(?:\.\d+)*\.?\s*\|")


def _asks(row: str) -> bool:
    """A table row that is a question, not an answer: an FAQ's "1.2. | Where does ... come
    from?" (a numbered entry's title, as DocBook's question tables lay them out) or any row
    whose last cell asks."""
    return bool(_NUMBER_LABEL.match(row)) or row.rstrip(" |\"')*_").endswith("?")


def _continues(previous: str, line: str) -> bool:
    """Is `line` the wrapped rest of `previous` (PDF text), not a new line of its own?"""
    first = line[0]
    return (
        first.islower()
        or first.isdigit()
        or first in "(`\u00a3$\u20ac"
        or previous.endswith((",", "-", "\u2013"))
        or len(previous.split()) > 8
    )


def _looks_like_heading(line: str) -> bool:
    return len(line.split()) <= 8 and not line.rstrip("\"')*_").endswith(_SOFT_END)
