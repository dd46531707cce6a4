"""The Activity section's search box and filters (bot, channel, audience, feedback, dates,
unanswered only), bound to ActivityState."""

from __future__ import annotations

import reflex as rx

from chatapp.components.a11y import describe_errors
from chatapp.components.forms import field_error, field_label
from chatapp.state.activity import ActivityState
from chatapp.state.bot_scope import BotScopeState


def labelled(label: str, control: rx.Component, error=None, field_id: str = "") -> rx.Component:
    return rx.vstack(
        field_label(label, field_id, size="1", color_scheme="gray"),
        control if error is None else describe_errors(control, f"{field_id}-error", error != ""),
        field_error(error, field_id) if error is not None else rx.fragment(),
        spacing="1",
    )


def search_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.hstack(
                rx.input(
                    rx.input.slot(rx.icon("search", size=16)),
                    name="search",
                    value=ActivityState.search,
                    on_change=ActivityState.set_search,
                    placeholder="Search messages",
                    id="activity-search",
                    aria_label="Search messages",
                    width="100%",
                    aria_invalid=rx.cond(ActivityState.search_error != "", "true", "false"),
                    aria_describedby="activity-search-error",
                ),
                rx.button("Search", type="submit", id="activity-search-submit"),
                width="100%",
            ),
            field_error(ActivityState.search_error, "activity-search"),
            width="100%",
            spacing="1",
        ),
        on_submit=ActivityState.apply_search,
        width="100%",
    )


def select(value, on_change, items: list[tuple[str, object]], select_id: str) -> rx.Component:
    return rx.select.root(
        rx.select.trigger(id=select_id, min_width="9em"),
        rx.select.content(*[rx.select.item(label, value=key) for key, label in items]),
        value=value,
        on_change=on_change,
    )


def filters() -> rx.Component:
    return rx.flex(
        bot_filter(),
        channel_filter(),
        audience_filter(),
        feedback_filter(),
        date_from_filter(),
        date_to_filter(),
        unanswered_filter(),
        clear_filters_button(),
        spacing="3",
        wrap="wrap",
        align="start",
    )


def bot_filter() -> rx.Component:
    return labelled(
        "Bot",
        select(
            ActivityState.bot_filter,
            ActivityState.set_bot_filter,
            [("current", BotScopeState.bot_name), ("all", "All bots")],
            "activity-bot",
        ),
        field_id="activity-bot",
    )


def channel_filter() -> rx.Component:
    return labelled(
        "Channel",
        select(
            ActivityState.channel,
            ActivityState.set_channel,
            [
                ("all", "All"),
                ("widget", "Widget"),
                ("playground", "Playground"),
                ("api", "API"),
                ("openai", "OpenAI API"),
                ("chatbase", "Chatbase API"),
            ],
            "activity-channel",
        ),
        field_id="activity-channel",
    )


def audience_filter() -> rx.Component:
    """Shown only when the bot has audiences."""
    return rx.cond(
        ActivityState.audience_options.length() > 0,
        labelled(
            "Audience",
            rx.select.root(
                rx.select.trigger(id="activity-audience", min_width="9em"),
                rx.select.content(
                    rx.select.item("All", value="all"),
                    rx.foreach(
                        ActivityState.audience_options,
                        lambda option: rx.select.item(option[1], value=option[0]),
                    ),
                ),
                value=ActivityState.audience,
                on_change=ActivityState.set_audience,
            ),
            field_id="activity-audience",
        ),
    )


def feedback_filter() -> rx.Component:
    return labelled(
        "Feedback",
        select(
            ActivityState.feedback,
            ActivityState.set_feedback,
            [("any", "Any"), ("up", "Thumbs up"), ("down", "Thumbs down"), ("rated", "Rated")],
            "activity-feedback",
        ),
        field_id="activity-feedback",
    )


def date_from_filter() -> rx.Component:
    return labelled(
        "From",
        rx.input(
            type="date",
            value=ActivityState.date_from,
            on_change=ActivityState.set_date_from,
            id="activity-from",
        ),
        ActivityState.date_from_error,
        "activity-from",
    )


def date_to_filter() -> rx.Component:
    return labelled(
        "To",
        rx.input(
            type="date",
            value=ActivityState.date_to,
            on_change=ActivityState.set_date_to,
            id="activity-to",
        ),
        ActivityState.date_to_error,
        "activity-to",
    )


def unanswered_filter() -> rx.Component:
    return rx.vstack(
        rx.text("", size="1"),
        rx.el.label(
            rx.hstack(
                rx.checkbox(
                    checked=ActivityState.unanswered,
                    on_change=ActivityState.set_unanswered,
                    id="activity-unanswered",
                    aria_label="Unanswered only",
                ),
                rx.text("Unanswered only", size="2", as_="span"),
                align="center",
                spacing="2",
            ),
        ),
        spacing="3",
    )


def clear_filters_button() -> rx.Component:
    """Shown only while a filter is set."""
    return rx.cond(
        ActivityState.filtered,
        rx.vstack(
            rx.text("", size="1"),
            rx.button(
                "Clear filters",
                variant="ghost",
                on_click=ActivityState.clear_filters,
                id="activity-clear",
            ),
        ),
    )
