"""The plain data that flows through ingestion: extracted documents, their sections, chunks.

extract (file/HTML -> Document) -> chunk (Document -> list[Chunk]) -> embed + index.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Section:
    """A run of text under one heading (and, for PDFs, on one page)."""

    text: str
    heading: str = ""
    page: int | None = None  # 1-based page number for PDFs


@dataclass
class Document:
    """What extraction makes of one file or page: a title and its sections in reading order."""

    title: str
    kind: str  # pdf, docx, txt, md, html, text, qa
    sections: list[Section] = field(default_factory=list)
    url: str = ""
    filename: str = ""

    @property
    def text(self) -> str:
        return "\n\n".join(section.text for section in self.sections)

    @property
    def char_count(self) -> int:
        return sum(len(section.text) for section in self.sections)


@dataclass(frozen=True)
class Chunk:
    """A passage small enough to embed, understandable alone (it carries title and heading)."""

    text: str  # the passage itself, as shown in citations
    position: int  # 0-based order within its source
    title: str = ""
    heading: str = ""
    page: int | None = None
    token_count: int = 0

    @property
    def indexed_text(self) -> str:
        """What is embedded and matched: title and heading give the passage its context."""
        context = " > ".join(part for part in (self.title, self.heading) if part)
        return f"{context}\n{self.text}" if context else self.text
