"""Editing a pasted text or a Q&A pair in place: the row's pencil opens its own dialog (focus
returns to the pencil on close) with the current fields; refusals appear under their field."""

from __future__ import annotations

import reflex as rx

from chatapp.components.forms import field_label
from chatapp.components.sources_forms import field_error
from chatapp.state.source_edit import SourceEditState
from chatapp.state.sources import HINTS, SourceRow, SourcesState

S = SourceEditState


def _buttons(save_id: str) -> rx.Component:
    return rx.hstack(
        rx.dialog.close(
            rx.button("Cancel", type="button", variant="soft", color_scheme="gray"),
        ),
        rx.button("Save and re-train", type="submit", id=save_id),
        justify="end",
        width="100%",
    )


def _qa_fields() -> rx.Component:
    return rx.vstack(
        field_label("Question", "edit-question", weight="medium"),
        rx.input(name="question", id="edit-question", default_value=S.edit_question, width="100%"),
        rx.text(HINTS["qa.question"], size="1", color_scheme="gray"),
        field_error("edit.question"),
        field_label("Answer", "edit-answer", weight="medium"),
        rx.text_area(
            name="answer", id="edit-answer", rows="6", default_value=S.edit_answer, width="100%"
        ),
        rx.text(HINTS["qa.answer"], size="1", color_scheme="gray"),
        field_error("edit.answer"),
        _buttons("save-qa"),
        width="100%",
    )


def _text_fields() -> rx.Component:
    return rx.vstack(
        field_label("Title", "edit-title", weight="medium"),
        rx.input(name="title", id="edit-title", default_value=S.edit_title, width="100%"),
        rx.text(HINTS["text.title"], size="1", color_scheme="gray"),
        field_error("edit.title"),
        field_label("Text", "edit-text", weight="medium"),
        rx.text_area(
            name="text", id="edit-text", rows="12", default_value=S.edit_text, width="100%"
        ),
        rx.text(SourcesState.text_limit_hint, size="1", color_scheme="gray"),
        field_error("edit.text"),
        _buttons("save-text"),
        width="100%",
    )


def edit_dialog(row: SourceRow) -> rx.Component:
    """The row's pencil and its dialog (pasted texts and Q&A pairs, for owners and admins)."""
    return rx.dialog.root(
        rx.dialog.trigger(
            rx.icon_button(
                rx.icon("pencil", size=16),
                variant="ghost",
                disabled=row.status == "processing",
                aria_label="Edit " + row.title,
                title="Edit",
                class_name="edit-source",
            )
        ),
        rx.dialog.content(
            rx.dialog.title(rx.cond(S.edit_kind == "qa", "Edit Q&A pair", "Edit text")),
            rx.dialog.description(
                "Saving re-trains this source; the bot answers from the old wording until then.",
                size="2",
                color_scheme="gray",
                margin_bottom="0.6em",
            ),
            rx.form(
                rx.cond(S.edit_kind == "qa", _qa_fields(), _text_fields()),
                on_submit=S.save_edit,
                key=S.edit_id.to_string(),
            ),
            max_width="680px",
        ),
        open=S.edit_id == row.id,
        on_open_change=lambda open_: S.toggle_edit(open_, row.id),
    )
