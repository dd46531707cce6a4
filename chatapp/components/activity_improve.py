"""The open conversation's messages in Activity, each bot answer with an "Improve answer" button
for owners and admins: its own dialog (focus returns to the button on close), pre-filled with the
visitor's question and the bot's answer, saves the right answer as a Q&A pair."""

from __future__ import annotations

import reflex as rx

from chatapp.components.chat_view import bubble
from chatapp.components.forms import field_error, field_label
from chatapp.state.activity import ActivityState, MessageBubble
from chatapp.state.activity_improve import ImproveAnswerState

S = ImproveAnswerState


def improve_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            field_label("Question", "improve-question", weight="medium"),
            rx.input(
                name="question",
                id="improve-question",
                default_value=S.improve_question,
                width="100%",
            ),
            field_error(S.errors.get("improve.question", ""), "improve-question"),
            field_label("The right answer", "improve-answer", weight="medium"),
            rx.text_area(
                name="answer",
                id="improve-answer",
                rows="6",
                default_value=S.improve_answer,
                width="100%",
            ),
            field_error(S.errors.get("improve.answer", ""), "improve-answer"),
            rx.hstack(
                rx.dialog.close(
                    rx.button("Cancel", type="button", variant="soft", color_scheme="gray")
                ),
                rx.button("Save answer", type="submit", id="improve-save"),
                justify="end",
                width="100%",
            ),
            width="100%",
        ),
        on_submit=S.save_improve,
        key=S.improve_id.to_string(),
    )


def improve_dialog(message: MessageBubble) -> rx.Component:
    return rx.dialog.root(
        rx.dialog.trigger(
            rx.button(
                rx.icon("pencil", size=14),
                "Improve answer",
                variant="ghost",
                size="1",
                class_name="improve-answer",
            )
        ),
        rx.dialog.content(
            rx.dialog.title("Improve answer"),
            rx.dialog.description(
                rx.cond(
                    S.improve_updates,
                    "Saving updates the Q&A pair this answer came from or was improved into;",
                    "Saving adds a Q&A pair to the bot's sources;",
                ),
                " visitors who ask this question get your answer once it is trained.",
                size="2",
                color_scheme="gray",
                margin_bottom="0.6em",
            ),
            improve_form(),
            max_width="640px",
        ),
        open=S.improve_id == message.id,
        on_open_change=lambda open_: S.toggle_improve(open_, message.id),
    )


def message_with_improve(message: MessageBubble) -> rx.Component:
    return rx.vstack(
        bubble(message),
        rx.cond(
            ActivityState.is_manager & (message.id != 0),
            improve_dialog(message),
        ),
        align_items=rx.cond(message.role == "user", "flex-end", "flex-start"),
        spacing="1",
        width="100%",
    )


def conversation_messages(**props) -> rx.Component:
    """The bubbles of the open conversation, oldest first (chat_view.message_list's layout)."""
    return rx.flex(
        rx.foreach(ActivityState.detail_messages, message_with_improve),
        direction="column",
        gap="0.6em",
        width="100%",
        **props,
    )
