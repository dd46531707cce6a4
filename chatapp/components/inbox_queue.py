"""The Inbox's left column: view tabs with their counts and the list of conversations."""

from __future__ import annotations

import reflex as rx

from chatapp.state.inbox import VIEWS, InboxState
from chatapp.state.inbox_rows import QueueRow


def view_tabs() -> rx.Component:
    return rx.flex(
        *[
            rx.button(
                label,
                rx.badge(InboxState.counts.get(key, 0), variant="soft", radius="full"),
                variant=rx.cond(InboxState.view == key, "solid", "soft"),
                size="1",
                on_click=InboxState.set_view(key),
                id=f"inbox-view-{key}",
            )
            for key, label in VIEWS
        ],
        spacing="2",
        wrap="wrap",
    )


def queue_item(row: QueueRow) -> rx.Component:
    selected = InboxState.selected_id == row.id
    return rx.box(
        rx.hstack(
            rx.text(row.visitor, weight="bold", size="2", trim="both"),
            rx.spacer(),
            rx.cond(
                row.status == "pending",
                rx.badge("Waiting " + row.waiting, color_scheme="orange"),
                rx.badge(
                    rx.cond(row.agent != "", row.status + ": " + row.agent, row.status),
                    color_scheme=rx.cond(row.status == "assigned", "green", "gray"),
                ),
            ),
            width="100%",
            align="center",
        ),
        rx.text(row.preview, size="1", color_scheme="gray", trim="both", no_of_lines=1),
        rx.text(row.bot_name, size="1", color_scheme="gray"),
        on_click=InboxState.select(row.id),
        cursor="pointer",
        padding="0.6em",
        border_radius="0.5em",
        width="100%",
        background=rx.cond(selected, rx.color("accent", 3), "transparent"),
        _hover={"background": rx.color("gray", 3)},
        class_name="inbox-item",
        data_status=row.status,
        id="inbox-item-" + row.id.to_string(),
    )


def bot_filter() -> rx.Component:
    """Shown when the workspace has more than one bot."""
    return rx.cond(
        InboxState.bot_choices.length() > 2,
        rx.el.label(
            rx.text("Bot", size="1", color_scheme="gray"),
            rx.select.root(
                rx.select.trigger(aria_label="Show the conversations of", id="inbox-bot-filter"),
                rx.select.content(
                    rx.foreach(
                        InboxState.bot_choices,
                        lambda choice: rx.select.item(choice.label, value=choice.value),
                    )
                ),
                value=InboxState.bot_choice,
                on_change=InboxState.set_bot_choice,
                size="1",
            ),
            style={"display": "flex", "gap": "0.5em", "align-items": "center"},
        ),
    )


def queue_panel() -> rx.Component:
    return rx.vstack(
        bot_filter(),
        view_tabs(),
        rx.cond(
            InboxState.rows.length() > 0,
            rx.vstack(rx.foreach(InboxState.rows, queue_item), width="100%", spacing="1"),
            rx.text("No conversations here.", color_scheme="gray", size="2", id="inbox-empty"),
        ),
        width=["100%", "100%", "320px"],
        flex_shrink="0",
        spacing="3",
    )
