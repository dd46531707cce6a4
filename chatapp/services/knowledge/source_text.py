"""What a source taught its bot, in words: its text and the numbered chunks that were indexed.

Owners coming from other tools expect to read what the bot learned from a file or a page. Pasted
text and Q&A pairs keep their original (`Source.meta`). Files and web pages keep no copy of their
extracted text, so it is rebuilt from the chunks: within a section each chunk starts with the last
sentences of the one before (chunk.py's overlap), and that repeated start is dropped, so the
sections read as they were extracted. The chunks themselves are what search and citations use.

Long sources are shown in part: the text up to `max_chars` and chunks a page at a time, each with
a note saying how much is left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, col, func, select

from chatapp.services.accounts.tenancy import Actor, Permission, get_scoped
from chatapp.services.models import KnowledgeChunk, Source, SourceStatus

MAX_TEXT_CHARS = 100_000  # of the text shown at once (a PDF of a few hundred pages is longer)
CHUNK_PAGE = 50  # chunks per page by default
MAX_CHUNK_PAGE = 500
STORED_TEXT_KINDS = ("text", "qa")  # kinds whose original text is kept as written


@dataclass(frozen=True)
class ChunkText:
    index: int  # 1-based, in reading order
    text: str
    heading: str = ""
    page: int | None = None  # a PDF's page


@dataclass(frozen=True)
class SourceText:
    source_id: int
    kind: str
    title: str
    status: str
    text: str
    text_truncated: bool
    char_count: int  # of the whole text
    chunk_count: int  # of every chunk, however many are in `chunks`
    chunks: list[ChunkText] = field(default_factory=list)
    chunk_offset: int = 0
    notes: list[str] = field(default_factory=list)  # what the owner should know about it
    chunk_note: str = ""  # which chunks these are, when not all of them


def source_text(
    session: Session,
    actor: Actor,
    source_id: int,
    *,
    chunk_offset: int = 0,
    chunk_limit: int = CHUNK_PAGE,
    max_chars: int = MAX_TEXT_CHARS,
) -> SourceText:
    """The source's text (whole, or its start with a note) and one page of its chunks."""
    actor.require(Permission.READ)
    source = get_scoped(session, actor, Source, source_id, "Source")
    chunk_offset = max(0, chunk_offset)
    chunks, total_chunks = _chunk_page(session, source, chunk_offset, chunk_limit)
    full, complete = _whole_text(session, source, max_chars)
    shown = full[:max_chars]
    truncated = len(full) > max_chars or not complete
    char_count = max(source.char_count, len(full))
    notes = _text_notes(source, truncated, len(shown), char_count)
    notes += _training_notes(source, total_chunks)
    return SourceText(
        source_id=source.id,
        kind=source.kind,
        title=source.title,
        status=source.status,
        text=shown,
        text_truncated=truncated,
        char_count=char_count,
        chunk_count=int(total_chunks),
        chunks=chunks,
        chunk_offset=chunk_offset,
        notes=notes,
        chunk_note=chunk_range(chunk_offset, len(chunks), total_chunks),
    )


def chunk_page(
    session: Session, actor: Actor, source_id: int, *, offset: int, limit: int = CHUNK_PAGE
) -> tuple[list[ChunkText], int]:
    """One page of the source's chunks and how many it has in all."""
    actor.require(Permission.READ)
    source = get_scoped(session, actor, Source, source_id, "Source")
    return _chunk_page(session, source, max(0, offset), limit)


def _chunk_page(
    session: Session, source: Source, offset: int, limit: int
) -> tuple[list[ChunkText], int]:
    limit = max(1, min(limit, MAX_CHUNK_PAGE))
    total = session.exec(select(func.count()).select_from(KnowledgeChunk).where(*_of(source))).one()
    rows = session.exec(
        select(KnowledgeChunk)
        .where(*_of(source))
        .order_by(col(KnowledgeChunk.position))
        .offset(offset)
        .limit(limit)
    ).all()
    chunks = [
        ChunkText(offset + n + 1, row.text, row.heading, row.page) for n, row in enumerate(rows)
    ]
    return chunks, int(total)


def _of(source: Source) -> list:
    return [
        KnowledgeChunk.workspace_id == source.workspace_id,
        KnowledgeChunk.source_id == source.id,
    ]


def stored_text(source: Source) -> str:
    """The original of a pasted text or a Q&A pair ("" for other kinds)."""
    meta = source.meta or {}
    if source.kind == "text":
        return str(meta.get("text", ""))
    if source.kind == "qa":
        return f"{meta.get('question', '')}\n\n{meta.get('answer', '')}"
    return ""


def _whole_text(session: Session, source: Source, max_chars: int) -> tuple[str, bool]:
    """(text, whether it is all there): the stored original, or the chunks without their overlap,
    read in order only until `max_chars` is passed."""
    if source.kind in STORED_TEXT_KINDS:
        return stored_text(source), True
    rows = session.exec(
        select(KnowledgeChunk.text, KnowledgeChunk.heading, KnowledgeChunk.page)
        .where(*_of(source))
        .order_by(col(KnowledgeChunk.position))
    )
    joined = TextFromChunks()
    for text, heading, page in rows:
        joined.add(text, heading, page)
        if joined.length > max_chars:
            return joined.text(), False
    return joined.text(), True


class TextFromChunks:
    """Joins chunks back into the text they were cut from (see the module docstring)."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._previous = ""
        self._section: tuple[str, int | None] | None = None
        self.length = 0

    def add(self, text: str, heading: str, page: int | None) -> None:
        section = (heading, page)
        if section == self._section:
            overlap = repeated_start(self._previous, text)
            part = text[overlap:] if overlap else " " + text
        else:
            part = ("\n\n" if self._parts else "") + _with_heading(text, heading)
        self._parts.append(part)
        self.length += len(part)
        self._previous, self._section = text, section

    def text(self) -> str:
        return "".join(self._parts)


def _with_heading(text: str, heading: str) -> str:
    """A section's first chunk, headed by its heading unless its text already starts with it."""
    if not heading or text.startswith(heading):
        return text
    return f"{heading}\n\n{text}"


def repeated_start(previous: str, text: str) -> int:
    """How many characters at the start of `text` repeat the end of `previous` (whole words;
    the longest such run; 0 when none). The overlap is whole sentences, so it starts a word."""
    for start in range(1, len(previous)):
        if previous[start - 1].isspace() and not previous[start].isspace():
            tail = previous[start:]
            if text.startswith(tail):
                return len(tail)
    return 0


def _text_notes(source: Source, truncated: bool, shown_chars: int, char_count: int) -> list[str]:
    notes = []
    if source.kind == "website":
        notes.append("A website's text is in its pages: open a page to read what it taught.")
    elif source.kind not in STORED_TEXT_KINDS:
        notes.append("Rebuilt from the indexed chunks: the text the bot learned from this source.")
    if truncated:
        notes.append(f"Showing the first {shown_chars:,} of {char_count:,} characters.")
    return notes


def chunk_range(offset: int, shown: int, total: int) -> str:
    """Which chunks are listed, when not all of them ("" when they all are, or none is)."""
    if total > shown and shown:
        return f"Showing chunks {offset + 1:,} to {offset + shown:,} of {total:,}."
    return ""


def _training_notes(source: Source, total_chunks: int) -> list[str]:
    if source.status in (SourceStatus.QUEUED, SourceStatus.PROCESSING) and total_chunks:
        return ["Training: the chunks are the previous version's until it is done."]
    if source.status == SourceStatus.ERROR and total_chunks:
        return ["The last training failed: the bot still answers from these chunks."]
    return []
