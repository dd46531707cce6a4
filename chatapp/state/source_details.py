"""What a source taught the bot, read from the Sources table: its text and its numbered chunks
(`services.knowledge.source_text`), a page of chunks at a time, for every member."""

from __future__ import annotations

import dataclasses

import reflex as rx

from chatapp.services.knowledge import source_text
from chatapp.state import calls
from chatapp.state.sources import SourcesState

DASHBOARD_TEXT_CHARS = 20_000  # a longer text is shown by its start, with a note (the API: more)


@dataclasses.dataclass
class ChunkView:
    index: int = 0
    text: str = ""
    where: str = ""  # "heading - page 3", or ""


def _chunk_view(chunk: source_text.ChunkText) -> ChunkView:
    where = [chunk.heading] if chunk.heading else []
    if chunk.page is not None:
        where.append(f"page {chunk.page}")
    return ChunkView(chunk.index, chunk.text, " - ".join(where))


class SourceDetailsState(SourcesState):
    detail_id: int = 0  # the source whose dialog is open (0: none)
    detail_title: str = ""
    detail_text: str = ""
    detail_notes: list[str] = []
    detail_chunks: list[ChunkView] = []
    detail_chunk_count: int = 0

    @rx.var
    def more_chunks(self) -> bool:
        return len(self.detail_chunks) < self.detail_chunk_count

    @rx.var
    def chunks_label(self) -> str:
        """How many chunks there are, and which are listed when not all of them."""
        shown, total = len(self.detail_chunks), self.detail_chunk_count
        if total == 0:
            return "No chunks yet: they appear once the source is trained."
        noun = "chunk" if total == 1 else "chunks"
        return source_text.chunk_range(0, shown, total) or f"{total:,} {noun}."

    @rx.event
    async def toggle_details(self, open_: bool, source_id: int):
        """The row's dialog opening (with the text and the first chunks) or closing."""
        if not open_:
            self.detail_id, self.detail_text, self.detail_chunks = 0, "", []
            return None
        done = await calls.as_member(
            self,
            lambda s, a: source_text.source_text(s, a, source_id, max_chars=DASHBOARD_TEXT_CHARS),
        )
        if not done.ok:
            return done.toast
        read = done.value
        self.detail_title, self.detail_text = read.title or "Untitled", read.text
        self.detail_notes, self.detail_chunk_count = read.notes, read.chunk_count
        self.detail_chunks = [_chunk_view(chunk) for chunk in read.chunks]
        self.detail_id = read.source_id
        return None

    @rx.event
    async def show_more_chunks(self):
        """The next page of chunks, under those already listed."""
        source_id, offset = self.detail_id, len(self.detail_chunks)
        if not source_id:
            return None
        done = await calls.as_member(
            self, lambda s, a: source_text.chunk_page(s, a, source_id, offset=offset)
        )
        if not done.ok:
            return done.toast
        chunks, self.detail_chunk_count = done.value
        self.detail_chunks = [*self.detail_chunks, *(_chunk_view(c) for c in chunks)]
        return None
