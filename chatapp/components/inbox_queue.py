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
                aria_pressed=rx.cond(InboxState.view == key, "true", "false"),
                size="1",
                on_click=InboxState.set_view(key),
                id=f"inbox-view-{key}",
            )
            for key, label in VIEWS
        ],
        spacing="2",
        wrap="wrap",
    )


def _line(*children, **props) -> rx.Component:
    """A line inside a conversation's button (phrasing content only: spans)."""
    return rx.el.span(*children, style={"display": "flex", "width": "100%", **props})


def queue_item(row: QueueRow) -> rx.Component:
    """One conversation: a real button (Tab reaches it, Enter or Space opens it)."""
    selected = InboxState.selected_id == row.id
    return rx.el.li(
        rx.el.button(
            _line(
                rx.text(row.visitor, weight="bold", size="2", as_="span"),
                rx.cond(
                    row.status == "pending",
                    rx.badge("Waiting " + row.waiting, color_scheme="orange", high_contrast=True),
                    rx.badge(
                        rx.cond(row.agent != "", row.status + ": " + row.agent, row.status),
                        color_scheme=rx.cond(row.status == "assigned", "green", "gray"),
                    ),
                ),
                justify_content="space-between",
                align_items="center",
                gap="0.5em",
            ),
            _line(rx.text(row.preview, size="1", color_scheme="gray", as_="span", truncate=True)),
            _line(rx.text(row.bot_name, size="1", color_scheme="gray", as_="span")),
            type="button",
            on_click=InboxState.select(row.id),
            aria_current=rx.cond(selected, "true", None),
            class_name="inbox-item",
            data_status=row.status,
            id="inbox-item-" + row.id.to_string(),
            style={
                "display": "flex",
                "flex_direction": "column",
                "gap": "0.15em",
                "width": "100%",
                "text_align": "left",
                "cursor": "pointer",
                "padding": "0.6em",
                "border": "none",
                "border_radius": "0.5em",
                "color": "inherit",
                "font": "inherit",
                "background": rx.cond(selected, rx.color("accent", 3), "transparent"),
                "_hover": {"background": rx.color("gray", 3)},
            },
        ),
        style={"list_style": "none", "width": "100%"},
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
            rx.el.ul(
                rx.foreach(InboxState.rows, queue_item),
                aria_label="Conversations",
                id="inbox-queue",
                style={"display": "flex", "flex_direction": "column", "gap": "0.25em"},
                width="100%",
                padding="0",
                margin="0",
            ),
            rx.text("No conversations here.", color_scheme="gray", size="2", id="inbox-empty"),
        ),
        # On a phone the queue and the open conversation take turns on one column.
        display=rx.breakpoints(
            initial=rx.cond(InboxState.selected_id != 0, "none", "flex"), md="flex"
        ),
        width=rx.breakpoints(initial="100%", md="320px"),
        flex_shrink="0",
        spacing="3",
        id="inbox-queue-panel",
    )
