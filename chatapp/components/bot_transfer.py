"""The Bots page's export button (on each card) and "Import bot" dialog (state/bot_transfer.py)."""

from __future__ import annotations

import reflex as rx

from chatapp.components.a11y import labelled_upload
from chatapp.components.forms import field_label
from chatapp.state.bot_transfer import BotTransferState as S
from chatapp.state.bots import BotCard

UPLOAD_ID = "import-upload"


def export_button(card: BotCard) -> rx.Component:
    return rx.icon_button(
        rx.icon("download", size=16),
        variant="ghost",
        aria_label="Export " + card.name + " as a file",
        title="Export as a file",
        class_name="export-bot",
        on_click=S.export(card.id),
    )


def _target() -> rx.Component:
    return rx.vstack(
        field_label("Into the workspace", "import-target", weight="medium"),
        rx.select.root(
            rx.select.trigger(width="100%", id="import-target"),
            rx.select.content(
                rx.foreach(S.import_targets, lambda o: rx.select.item(o.name, value=o.id)),
            ),
            value=S.import_target,
            on_change=S.set_import_target,
        ),
        spacing="1",
        width="100%",
    )


def _drop_zone() -> rx.Component:
    return labelled_upload(
        "Bot file to import",
        rx.vstack(
            rx.icon("file-up", size=24, color=rx.color("accent", 9)),
            rx.text("Drop the bot file here, or click to choose it", weight="medium"),
            rx.text("A .json file exported by Chatapp, up to ", S.import_limit_label, size="1"),
            align="center",
            spacing="1",
        ),
        plain=True,
        id=UPLOAD_ID,
        multiple=False,
        max_files=1,
        max_size=S.max_import_bytes,
        accept={"application/json": [".json"]},
        on_drop=S.import_file,
        on_drop_rejected=S.import_rejected,
        border=f"2px dashed {rx.color('gray', 7)}",
        border_radius="0.75em",
        padding="1.5em 1em",
        width="100%",
        cursor="pointer",
    )


def _problems() -> rx.Component:
    return rx.cond(
        S.import_problems.length() > 0,
        rx.callout.root(
            rx.callout.icon(rx.icon("triangle-alert")),
            rx.vstack(
                rx.foreach(
                    S.import_problems,
                    lambda p: rx.text(p, size="2", class_name="import-problem"),
                ),
                spacing="1",
            ),
            color_scheme="red",
            role="alert",
            id="import-problems",
            width="100%",
        ),
    )


def _result() -> rx.Component:
    return rx.cond(
        S.imported_bot_id != 0,
        rx.callout.root(
            rx.callout.icon(rx.icon("circle-check")),
            rx.vstack(
                rx.text(
                    "Imported ",
                    rx.text.strong(S.imported_name),
                    " into ",
                    S.imported_workspace_name,
                    ": ",
                    S.imported_summary,
                    ".",
                    size="2",
                ),
                rx.cond(
                    S.imported_to_fill_in.length() > 0,
                    rx.text(
                        "To fill in under Actions (switched off until then): ",
                        S.imported_to_fill_in.join("; "),
                        size="2",
                        id="import-to-fill-in",
                    ),
                ),
                rx.foreach(S.imported_notes, lambda n: rx.text(n, size="2")),
                rx.button(
                    "Open it in the Playground",
                    on_click=S.open_imported,
                    id="open-imported",
                    size="2",
                ),
                spacing="2",
            ),
            color_scheme="green",
            role="status",
            id="import-result",
            width="100%",
        ),
    )


def import_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.trigger(
            rx.button(rx.icon("file-up", size=16), "Import bot", variant="soft", id="import-bot")
        ),
        rx.dialog.content(
            rx.dialog.title("Import a bot"),
            rx.dialog.description(
                "A bot file exported from Chatapp, here or on another installation, becomes a "
                "new bot with its settings, sources, actions and audiences.",
                size="2",
                margin_bottom="1em",
            ),
            rx.vstack(
                _target(),
                _drop_zone(),
                rx.cond(S.import_busy, rx.text("Importing...", size="2", role="status")),
                _problems(),
                _result(),
                rx.hstack(
                    rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray")),
                    justify="end",
                    width="100%",
                ),
                spacing="3",
                width="100%",
            ),
        ),
        open=S.import_open,
        on_open_change=S.set_import_open,
    )
