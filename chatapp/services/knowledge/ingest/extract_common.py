"""Helpers every extractor shares: whitespace clean-up, titles from filenames, word caps.

Kept apart so that the PDF, DOCX, HTML and text extractors produce text of the same shape
(the chunker relies on paragraphs being separated by exactly one blank line).
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from chatapp.services.knowledge.ingest.types import Section

# C0/C1 control characters except tab and newline: PDFs and cp1252 text carry stray ones.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Invisible characters that only break words apart or glue them together.
_INVISIBLE = re.compile(r"[\u00ad\u200b\u200c\u200d\u2060\ufeff]")
_SPACES = re.compile(r"[ \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
_LINE_BREAKS = re.compile(r"\r\n?|[\u2028\u2029\x0b\x0c\x85]")
_WORD = re.compile(r"\S+")

# Whole lines of documentation chrome: pager links, "Last updated" and generator trailers,
# "edit this page" links, "back to top". Matched on the full line, so a sentence that merely
# mentions "the next page" is never touched.
_NAV = "prev previous next up home top index contents modules search back to table of"
_NAV_WORDS = frozenset(_NAV.split())
_NAV_SEPARATORS = re.compile(r"[\s|\u00ab\u00bb<>\u2039\u203a\u2190\u2192\u2191\u00b7\u2022/:-]+")
_CHROME_LINE = re.compile(
    r"(?:last (?:updated|modified|changed|update|built)\b(?=.{0,24}\d).{0,80}"  # then a date
    r"|part of the \S+(?: \S+)? suite"
    r"|(?:edit|improve|suggest an? edits? (?:to|for)) (?:this|the) page\b.{0,30}"
    r"|(?:edit|view) (?:this page )?on git(?:hub|lab)"
    r"|(?:view|show) (?:page )?source"
    r"|back to top"
    r"|table of contents"
    r"|\u00b6+)",
    re.IGNORECASE,
)


def normalize_text(text: str, *, keep_indent: bool = False) -> str:
    """Collapse runs of spaces, keep paragraph breaks, allow at most one blank line.

    `keep_indent` keeps leading indentation (plain text and Markdown, where it can carry
    meaning such as code or nested lists); elsewhere it is layout noise and is stripped.
    """
    text = _LINE_BREAKS.sub("\n", text)
    text = _INVISIBLE.sub("", _CONTROL.sub("", text))
    lines: list[str] = []
    for raw in text.split("\n"):
        if keep_indent:
            body = raw.lstrip(" \t\u00a0")
            indent = raw[: len(raw) - len(body)].replace("\t", "    ").replace("\u00a0", " ")
            line = _SPACES.sub(" ", body).rstrip()
            line = indent + line if line else ""
        else:
            line = _SPACES.sub(" ", raw).strip()
        if line or (lines and lines[-1]):
            lines.append(line)
    return "\n".join(lines).strip("\n")


def verbatim_block(text: str) -> str:
    """Preformatted text (code, shell sessions) kept as laid out: line breaks and indentation
    stay, tabs become 4 spaces, trailing spaces and outer blank lines go."""
    text = _INVISIBLE.sub("", _CONTROL.sub("", _LINE_BREAKS.sub("\n", text).replace("\t", "    ")))
    lines = [line.rstrip().replace("\u00a0", " ") for line in text.split("\n")]
    return "\n".join(lines).strip("\n")


def is_chrome_line(line: str) -> bool:
    """Whether a whole line is navigation or generator chrome, not content."""
    text = line.strip().lstrip("-").strip()
    if not text:
        return False
    if _CHROME_LINE.fullmatch(text):
        return True
    words = [word for word in _NAV_SEPARATORS.split(text.lower()) if word]
    separated = len(words) >= 2 and bool(re.search(r"[|\u00ab\u00bb\u2039\u203a]", text))
    return bool(words) and separated and all(word in _NAV_WORDS for word in words)


def drop_chrome_lines(text: str) -> str:
    """`text` without its chrome lines (is_chrome_line), paragraph breaks kept."""
    lines = [line for line in text.split("\n") if not is_chrome_line(line)]
    return normalize_text("\n".join(lines))


def one_line(text: str) -> str:
    """A heading or title on a single line with single spaces."""
    return " ".join(_INVISIBLE.sub("", _CONTROL.sub(" ", text)).split())


def filename_stem(filename: str) -> str:
    """The name without folders or extension, as a fallback title ("report.final.pdf" -> ...)."""
    name = PurePosixPath(filename.replace("\\", "/")).name
    stem = name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name
    return one_line(stem) or "Untitled"


def cap_words(sections: list[Section], max_words: int | None) -> list[Section]:
    """Keep the first `max_words` words, cutting the last kept section at a word boundary."""
    if max_words is None:
        return sections
    kept: list[Section] = []
    remaining = max_words
    for section in sections:
        if remaining <= 0:
            break
        words = list(_WORD.finditer(section.text))
        if len(words) <= remaining:
            kept.append(section)
            remaining -= len(words)
            continue
        cut = section.text[: words[remaining - 1].end()]
        kept.append(Section(text=cut, heading=section.heading, page=section.page))
        break
    return kept


def format_size(max_bytes: int) -> str:
    """20971520 -> "20 MB": the limit as people read it."""
    if max_bytes >= 1024 * 1024:
        return f"{max_bytes / (1024 * 1024):.1f}".removesuffix(".0") + " MB"
    return f"{max(1, round(max_bytes / 1024))} KB"
