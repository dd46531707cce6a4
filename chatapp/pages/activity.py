"""The Activity section: conversations newest first, search and filters, paging, export, one
conversation with every message."""

from __future__ import annotations

import reflex as rx

from chatapp.components.a11y import H2_TITLE, return_focus
from chatapp.components.activity_filters import filters, search_form
from chatapp.components.activity_improve import conversation_messages
from chatapp.components.layout import bot_section
from chatapp.state.activity import ActivityState, ConversationItem
from chatapp.state.auth import AuthState
from chatapp.state.bot_scope import BotScopeState

WIDE = ["none", "none", "table-cell"]  # columns shown from the md breakpoint up
NARROW = ["block", "block", "none"]  # what those columns say, folded in below md


def feedback_cell(row: ConversationItem) -> rx.Component:
    return rx.hstack(
        rx.cond(
            row.thumbs_up > 0,
            rx.badge(
                rx.icon("thumbs-up", size=12),
                row.thumbs_up.to_string(),
                color_scheme="green",
                high_contrast=True,
                aria_label="thumbs up",
            ),
        ),
        rx.cond(
            row.thumbs_down > 0,
            rx.badge(
                rx.icon("thumbs-down", size=12),
                row.thumbs_down.to_string(),
                color_scheme="red",
                high_contrast=True,
                aria_label="thumbs down",
            ),
        ),
        rx.cond(
            row.fallbacks > 0,
            rx.badge("no answer found", color_scheme="orange", high_contrast=True),
        ),
        spacing="1",
        wrap="wrap",
    )


def conversation_row(row: ConversationItem) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(row.time, size="1", white_space="nowrap")),
        rx.table.cell(
            rx.vstack(
                rx.link(
                    row.question,
                    on_click=ActivityState.open_conversation(row.id),
                    cursor="pointer",
                    class_name="conversation-open",
                    size="2",
                ),
                rx.cond(
                    row.audience != "",
                    rx.badge(row.audience, size="1", variant="outline", class_name="row-audience"),
                ),
                rx.text(
                    row.channel + " - " + row.bot_name,
                    size="1",
                    color_scheme="gray",
                    display=NARROW,
                ),
                spacing="1",
            ),
        ),
        rx.table.cell(rx.badge(row.channel, variant="soft"), display=WIDE),
        rx.table.cell(rx.text(row.bot_name, size="1"), display=WIDE),
        rx.table.cell(row.messages, display=WIDE),
        rx.table.cell(feedback_cell(row)),
        class_name="conversation-row",
    )


def conversation_table() -> rx.Component:
    return rx.table.root(
        rx.table.header(
            rx.table.row(
                rx.table.column_header_cell("Last message (UTC)"),
                rx.table.column_header_cell("First question"),
                rx.table.column_header_cell("Channel", display=WIDE),
                rx.table.column_header_cell("Bot", display=WIDE),
                rx.table.column_header_cell("Messages", display=WIDE),
                rx.table.column_header_cell("Feedback"),
            )
        ),
        rx.table.body(rx.foreach(ActivityState.rows, conversation_row)),
        width="100%",
        size="1",
        id="activity-table",
    )


def pager() -> rx.Component:
    return rx.hstack(
        rx.button(
            rx.icon("chevron-left", size=16),
            "Newer",
            variant="soft",
            on_click=ActivityState.previous_page,
            disabled=ActivityState.page <= 1,
            id="activity-prev",
        ),
        rx.text(
            "Page " + ActivityState.page.to_string() + " of " + ActivityState.pages.to_string(),
            size="2",
            id="activity-page",
        ),
        rx.button(
            "Older",
            rx.icon("chevron-right", size=16),
            variant="soft",
            on_click=ActivityState.next_page,
            disabled=ActivityState.page >= ActivityState.pages,
            id="activity-next",
        ),
        align="center",
        justify="center",
        width="100%",
    )


def export_buttons() -> rx.Component:
    return rx.hstack(
        rx.button(
            rx.icon("download", size=14),
            "CSV",
            variant="outline",
            size="1",
            on_click=ActivityState.export("csv"),
            id="activity-export-csv",
        ),
        rx.button(
            rx.icon("download", size=14),
            "JSON",
            variant="outline",
            size="1",
            on_click=ActivityState.export("json"),
            id="activity-export-json",
        ),
        spacing="2",
    )


def conversation_dialog() -> rx.Component:
    detail = ActivityState.detail
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Conversation", custom_attrs=H2_TITLE),
            rx.dialog.description(
                detail.channel
                + " - "
                + detail.bot_name
                + " - started "
                + detail.started
                + " - visitor session "
                + detail.session_id
                + rx.cond(detail.audience != "", " - audience: " + detail.audience, ""),
                size="1",
                color_scheme="gray",
            ),
            conversation_messages(id="conversation-messages", margin_y="1em"),
            rx.hstack(
                rx.dialog.close(rx.button("Close", variant="soft", id="conversation-close")),
                justify="end",
            ),
            max_width="760px",
            max_height="85vh",
            overflow_y="auto",
            **return_focus(),
        ),
        open=ActivityState.detail_open,
        on_open_change=ActivityState.set_detail_open,
    )


@rx.page(
    route="/activity",
    title="Activity - Chatapp",
    on_load=[AuthState.require_login, BotScopeState.load_bots, ActivityState.load],
)
def activity_page() -> rx.Component:
    return bot_section(
        rx.vstack(
            search_form(),
            filters(),
            rx.hstack(
                rx.text(ActivityState.summary, weight="bold", id="activity-summary"),
                rx.spacer(),
                export_buttons(),
                width="100%",
                align="center",
            ),
            rx.cond(
                ActivityState.rows.length() > 0,
                rx.box(conversation_table(), width="100%", overflow_x="auto"),
                rx.cond(
                    ActivityState.loaded,
                    rx.text(
                        rx.cond(
                            ActivityState.filtered,
                            "No conversation matches these filters.",
                            "No conversations yet: they appear here as visitors chat.",
                        ),
                        color_scheme="gray",
                        id="activity-empty",
                    ),
                ),
            ),
            rx.cond(ActivityState.pages > 1, pager()),
            conversation_dialog(),
            width="100%",
            spacing="4",
        ),
        title="Activity",
    )
