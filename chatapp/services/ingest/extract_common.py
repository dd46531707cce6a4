"""Helpers every extractor shares: whitespace clean-up, titles from filenames, word caps.

Kept apart so that the PDF, DOCX, HTML and text extractors produce text of the same shape
(the chunker relies on paragraphs being separated by exactly one blank line).
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from chatapp.services.ingest.types import Section

# C0/C1 control characters except tab and newline: PDFs and cp1252 text carry stray ones.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Invisible characters that only break words apart or glue them together.
_INVISIBLE = re.compile(r"[\u00ad\u200b\u200c\u200d\u2060\ufeff]")
_SPACES = re.compile(r"[ \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
_LINE_BREAKS = re.compile(r"\r\n?|[\u2028\u2029\x0b\x0c\x85]")
_WORD = re.compile(r"\S+")


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
