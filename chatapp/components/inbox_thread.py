"""The Inbox's right column: one conversation's history, live, with the agent's actions."""

from __future__ import annotations

import reflex as rx

from chatapp.services.live.schemas import MAX_REPLY_CHARS
from chatapp.state.inbox import InboxState
from chatapp.state.inbox_rows import MessageRow


def bubble(message: MessageRow) -> rx.Component:
    from_visitor = message.role == "user"
    return rx.flex(
        rx.box(
            rx.text(message.author + " · " + message.time, size="1", color_scheme="gray"),
            rx.text(message.content, size="2", white_space="pre-wrap"),
            background=rx.match(
                message.role,
                ("user", rx.color("gray", 3)),
                ("agent", rx.color("accent", 4)),
                rx.color("blue", 3),
            ),
            padding="0.5em 0.75em",
            border_radius="0.75em",
            max_width="80%",
            class_name="inbox-message",
            data_role=message.role,
        ),
        justify=rx.cond(from_visitor, "start", "end"),
        width="100%",
    )


def actions_bar() -> rx.Component:
    return rx.hstack(
        rx.badge(InboxState.status, id="thread-status", size="2"),
        rx.cond(InboxState.agent != "", rx.text("with " + InboxState.agent, size="2")),
        rx.spacer(),
        rx.cond(
            InboxState.can_handle & ~InboxState.mine & (InboxState.status != "resolved"),
            rx.button("Take", on_click=InboxState.take, id="inbox-take"),
        ),
        rx.cond(
            InboxState.can_handle & (InboxState.status == "resolved"),
            rx.button("Take", on_click=InboxState.take, variant="soft", id="inbox-take"),
        ),
        rx.cond(
            InboxState.can_handle
            & ((InboxState.status == "pending") | (InboxState.status == "assigned")),
            rx.hstack(
                rx.button(
                    "Hand back to bot",
                    on_click=InboxState.release,
                    variant="soft",
                    color_scheme="gray",
                    id="inbox-release",
                ),
                rx.button(
                    "Resolve",
                    on_click=InboxState.resolve,
                    variant="soft",
                    color_scheme="green",
                    high_contrast=True,  # green text on green: 4.5:1 only in high contrast
                    id="inbox-resolve",
                ),
            ),
        ),
        width="100%",
        align="center",
        wrap="wrap",
    )


def reply_box() -> rx.Component:
    return rx.form(
        rx.hstack(
            rx.text_area(
                name="reply",
                value=InboxState.draft,
                on_change=InboxState.set_draft,
                placeholder="Write a reply",
                aria_label="Reply",
                max_length=MAX_REPLY_CHARS,
                id="inbox-reply",
                width="100%",
                rows="2",
            ),
            rx.button("Send", type="submit", id="inbox-send"),
            width="100%",
            align="end",
        ),
        on_submit=InboxState.send,
        width="100%",
    )


def thread_header() -> rx.Component:
    """Who the conversation is with; focus lands here when it opens. On a phone, the way back
    to the list comes first."""
    return rx.vstack(
        rx.button(
            rx.icon("arrow-left", size=16),
            "Back to conversations",
            on_click=InboxState.back_to_queue,
            variant="ghost",
            display=rx.breakpoints(initial="inline-flex", md="none"),
            id="inbox-back",
        ),
        rx.hstack(
            rx.heading(InboxState.visitor, size="4", as_="h2", id="thread-visitor", tab_index=-1),
            rx.text(InboxState.bot_name, size="2", color_scheme="gray"),
            align="baseline",
            wrap="wrap",
        ),
        spacing="2",
        width="100%",
    )


def thread_panel() -> rx.Component:
    return rx.cond(
        InboxState.selected_id != 0,
        rx.vstack(
            thread_header(),
            actions_bar(),
            rx.cond(
                InboxState.notice != "",
                rx.callout(
                    InboxState.notice, icon="info", color_scheme="orange", id="inbox-notice"
                ),
            ),
            rx.vstack(
                rx.foreach(InboxState.messages, bubble),
                width="100%",
                spacing="2",
                id="thread-messages",
                max_height="60vh",
                overflow_y="auto",
                tab_index=0,  # a scroll box is reachable by keyboard
                role="region",
                aria_label="Messages",
            ),
            rx.cond(
                InboxState.visitor_typing,
                rx.text("Visitor is typing…", size="1", color_scheme="gray", id="visitor-typing"),
            ),
            rx.cond(
                InboxState.mine,
                reply_box(),
                rx.text(
                    "Take the conversation to reply; the bot stops answering while you have it.",
                    size="2",
                    color_scheme="gray",
                ),
            ),
            width="100%",
            spacing="3",
        ),
        rx.text(
            "Choose a conversation on the left.",
            color_scheme="gray",
            size="2",
            display=rx.breakpoints(initial="none", md="block"),
        ),
    )


def live_announcer() -> rx.Component:
    """A polite live region: screen readers read the visitor's new messages in the open
    conversation (the history shown on opening is not read out)."""
    return rx.el.div(
        InboxState.announcement,
        aria_live="polite",
        role="status",
        class_name="visually-hidden",
        id="inbox-live",
    )
