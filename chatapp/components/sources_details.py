"""A source's "What the bot learned" dialog: its text, scrollable, and its numbered chunks.

One dialog per row, opened by its own trigger button (focus returns to it on close); it shows the
state's one open source, whose text and chunks are loaded when the dialog opens.
"""

from __future__ import annotations

import reflex as rx

from chatapp.state.source_details import ChunkView, SourceDetailsState
from chatapp.state.sources import SourceRow

S = SourceDetailsState
SCROLL_BOX = {
    "max_height": "30vh",
    "overflow_y": "auto",
    "width": "100%",
    "padding": "0.6em",
    "border": f"1px solid {rx.color('gray', 6)}",
    "border_radius": "0.5em",
    "tab_index": 0,  # a scrollable region must be reachable by keyboard
}


def chunk_item(chunk: ChunkView) -> rx.Component:
    return rx.el.li(
        rx.hstack(
            rx.badge("#" + chunk.index.to_string(), variant="soft", size="1"),
            rx.cond(chunk.where != "", rx.text(chunk.where, size="1", color_scheme="gray")),
            align="center",
            spacing="2",
        ),
        rx.text(chunk.text, size="2", white_space="pre-wrap", overflow_wrap="anywhere"),
        class_name="source-chunk",
        padding_y="0.4em",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        list_style="none",
    )


def details_content() -> rx.Component:
    return rx.dialog.content(
        rx.dialog.title("What the bot learned: " + S.detail_title),
        rx.dialog.description(
            "The text this source taught the bot, and the chunks it searches and cites.",
            size="2",
            color_scheme="gray",
        ),
        rx.foreach(S.detail_notes, lambda note: rx.callout(note, icon="info", size="1")),
        rx.heading("Text", as_="h3", size="3", margin_top="0.8em"),
        rx.box(
            rx.cond(
                S.detail_text != "",
                rx.text(S.detail_text, size="2", white_space="pre-wrap", overflow_wrap="anywhere"),
                rx.text("No text.", size="2", color_scheme="gray"),
            ),
            id="source-text",
            role="region",
            aria_label="Text of the source",
            **SCROLL_BOX,
        ),
        rx.heading("Chunks", as_="h3", size="3", margin_top="0.8em"),
        rx.text(S.chunks_label, size="1", color_scheme="gray", id="source-chunks-label"),
        rx.box(
            rx.el.ol(rx.foreach(S.detail_chunks, chunk_item), padding="0", margin="0"),
            rx.cond(
                S.more_chunks,
                rx.button(
                    "Show more chunks",
                    variant="soft",
                    size="1",
                    on_click=S.show_more_chunks,
                    id="more-chunks",
                    margin_top="0.5em",
                ),
            ),
            id="source-chunks",
            role="region",
            aria_label="Chunks of the source",
            **SCROLL_BOX,
        ),
        rx.hstack(
            rx.dialog.close(rx.button("Close", variant="soft", id="close-details")),
            justify="end",
            margin_top="1em",
        ),
        max_width="760px",
    )


def details_dialog(row: SourceRow) -> rx.Component:
    """The row's "What the bot learned" button and its dialog (any member may read it)."""
    return rx.dialog.root(
        rx.dialog.trigger(
            rx.icon_button(
                rx.icon("file-text", size=16),
                variant="ghost",
                aria_label="What the bot learned from " + row.title,
                title="What the bot learned",
                class_name="view-source",
            )
        ),
        details_content(),
        open=S.detail_id == row.id,
        on_open_change=lambda open_: S.toggle_details(open_, row.id),
    )
