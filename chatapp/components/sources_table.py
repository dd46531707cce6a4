"""The Sources table (status with live progress, errors in words, row actions) and its gauges.

Every member may read what a source taught (sources_details.py); the actions that change it are
rendered only for members who may change the bot (the services refuse anyway).
"""

from __future__ import annotations

import reflex as rx

from chatapp.components.a11y import visually_hidden
from chatapp.components.confirm import delete_with_confirmation
from chatapp.components.sources_details import details_dialog
from chatapp.components.sources_edit import edit_dialog
from chatapp.state.sources import SourceRow, SourcesState

STATUS_WORDS = (("ready", "Ready"), ("queued", "Queued"), ("processing", "Training"))
STATUS_COLORS = (("ready", "green"), ("error", "red"), ("processing", "blue"))
WIDE_ONLY = rx.breakpoints(initial="none", md="table-cell")


def storage_gauge() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.icon("hard-drive", size=16),
                rx.text("Storage", weight="medium", size="2"),
                rx.text(SourcesState.storage_label, size="2", color_scheme="gray", id="storage"),
                align="center",
                wrap="wrap",
            ),
            rx.progress(
                value=SourcesState.storage_percent, max=100, width="100%", aria_label="Storage used"
            ),
            width="100%",
            spacing="2",
        ),
        width="100%",
        margin_bottom="1em",
    )


def status_cell(row: SourceRow) -> rx.Component:
    return rx.vstack(
        rx.badge(
            rx.match(row.status, *STATUS_WORDS, "Error"),
            color_scheme=rx.match(row.status, *STATUS_COLORS, "gray"),
            high_contrast=True,  # soft green and blue text are under 4.5:1
            class_name="source-status",
        ),
        rx.cond(
            row.busy,
            rx.progress(
                value=row.progress,
                max=100,
                width="90px",
                class_name="source-progress",
                aria_label="Training progress",
            ),
        ),
        rx.cond(
            row.error != "",
            rx.text(row.error, color_scheme="red", size="1", class_name="source-error"),
        ),
        spacing="1",
        max_width="260px",
    )


def title_cell(row: SourceRow) -> rx.Component:
    return rx.hstack(
        rx.cond(row.is_page, rx.icon("corner-down-right", size=14, color=rx.color("gray", 9))),
        rx.vstack(
            rx.text(row.title, weight="medium", size="2", class_name="source-title"),
            rx.cond(
                row.detail != "",
                rx.text(row.detail, size="1", color_scheme="gray", word_break="break-all"),
            ),
            rx.cond(
                row.kind == "website",
                rx.button(
                    rx.icon(rx.cond(row.expanded, "chevron-down", "chevron-right"), size=14),
                    row.pages_label,
                    variant="ghost",
                    size="1",
                    on_click=SourcesState.toggle_pages(row.id),
                    class_name="toggle-pages",
                    aria_expanded=rx.cond(row.expanded, "true", "false"),
                ),
            ),
            spacing="1",
            min_width="0",
        ),
        padding_left=rx.cond(row.is_page, "1em", "0"),
        align="start",
        max_width="320px",
    )


def delete_button(row: SourceRow) -> rx.Component:
    return delete_with_confirmation(
        what="source",
        title="Delete " + row.title + "?",
        description=rx.cond(
            row.kind == "website",
            "The website and all its pages are removed; the bot forgets them at once.",
            "The bot forgets this source at once. This cannot be undone.",
        ),
        on_confirm=SourcesState.delete(row.id),
        button_class="delete-source",
        confirm_props={"id": "confirm-delete"},
    )


def actions_cell(row: SourceRow) -> rx.Component:
    """What the bot learned (every member, every row); edit, re-train and delete (managers)."""
    return rx.hstack(
        details_dialog(row),
        rx.cond(
            SourcesState.is_manager & ~row.is_page,
            rx.hstack(
                rx.cond((row.kind == "qa") | (row.kind == "text"), edit_dialog(row)),
                rx.icon_button(
                    rx.icon("refresh-cw", size=16),
                    variant="ghost",
                    on_click=SourcesState.retrain(row.id),
                    disabled=row.busy,
                    aria_label=rx.cond(row.kind == "website", "Re-sync website", "Re-train source"),
                    title=rx.cond(row.kind == "website", "Re-sync", "Re-train"),
                    class_name="retrain-source",
                ),
                delete_button(row),
                spacing="3",
            ),
        ),
        spacing="3",
    )


def source_row(row: SourceRow) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(title_cell(row)),
        rx.table.cell(rx.badge(row.kind_label, variant="soft"), display=WIDE_ONLY),
        rx.table.cell(row.size, display=WIDE_ONLY),
        rx.table.cell(row.chars, display=WIDE_ONLY),
        rx.table.cell(row.chunks, class_name="source-chunks"),
        rx.table.cell(status_cell(row)),
        rx.table.cell(row.trained, display=WIDE_ONLY, white_space="nowrap"),
        rx.table.cell(actions_cell(row)),
        class_name=rx.cond(row.is_page, "source-row source-page", "source-row"),
        id="source-" + row.id.to_string(),
        background=rx.cond(row.is_page, rx.color("gray", 2), "transparent"),
    )


def sources_table() -> rx.Component:
    headers = [
        ("Source", "table-cell"),
        ("Type", WIDE_ONLY),
        ("Size", WIDE_ONLY),
        ("Characters", WIDE_ONLY),
        ("Chunks", "table-cell"),
        ("Status", "table-cell"),
        ("Last trained", WIDE_ONLY),
        (visually_hidden("Actions"), "table-cell"),
    ]
    return rx.cond(
        SourcesState.rows.length() > 0,
        rx.box(
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        *[
                            rx.table.column_header_cell(label, display=display)
                            for label, display in headers
                        ]
                    )
                ),
                rx.table.body(rx.foreach(SourcesState.rows, source_row)),
                width="100%",
                id="sources-table",
            ),
            overflow_x="auto",
            width="100%",
        ),
        rx.callout(
            "No sources yet. Add files, text, Q&A pairs or a website to teach this bot.",
            icon="info",
            id="no-sources",
        ),
    )
