"""The Analytics section: usage figures and charts over a chosen range, and the questions the bot
could not answer, each one click away from a Q&A that answers it."""

from __future__ import annotations

import reflex as rx
from plotly.graph_objects import Figure

from chatapp.components.a11y import H2_TITLE, describe_errors, return_focus
from chatapp.components.forms import field_error, field_label
from chatapp.components.layout import bot_section
from chatapp.state.analytics import CUSTOM, PRESETS, AnalyticsState, GroupRow
from chatapp.state.auth import AuthState
from chatapp.state.bot_scope import BotScopeState

# --- range and scope --------------------------------------------------------------------------


def custom_range_form() -> rx.Component:
    def date_field(name: str, label: str, value, error) -> rx.Component:
        return rx.vstack(
            field_label(label, f"range-{name}", size="1"),
            describe_errors(
                rx.input(
                    type="date", name=name, id=f"range-{name}", default_value=value, key=value
                ),
                f"range-{name}-error",
                error != "",
            ),
            field_error(error, f"range-{name}"),
            spacing="1",
        )

    return rx.form(
        rx.flex(
            date_field("start", "From", AnalyticsState.start, AnalyticsState.start_error),
            date_field("end", "To", AnalyticsState.end, AnalyticsState.end_error),
            rx.button("Show", type="submit", id="range-apply", margin_top="1.3em"),
            spacing="3",
            wrap="wrap",
            align="start",
        ),
        on_submit=AnalyticsState.apply_range,
        id="custom-range",
    )


def controls() -> rx.Component:
    return rx.vstack(
        rx.flex(
            rx.select.root(
                rx.select.trigger(id="range-preset", aria_label="Date range"),
                rx.select.content(
                    *[rx.select.item(label, value=value) for value, label in PRESETS.items()],
                    rx.select.item("Custom range", value=CUSTOM),
                ),
                value=AnalyticsState.preset,
                on_change=AnalyticsState.choose_preset,
            ),
            rx.select.root(
                rx.select.trigger(id="analytics-scope", aria_label="Bots"),
                rx.select.content(
                    rx.select.item("This bot", value="bot"),
                    rx.select.item("All bots of the workspace", value="workspace"),
                ),
                value=AnalyticsState.scope,
                on_change=AnalyticsState.choose_scope,
            ),
            rx.cond(
                AnalyticsState.audience_options.length() > 0,
                rx.select.root(
                    rx.select.trigger(id="analytics-audience", aria_label="Audience"),
                    rx.select.content(
                        rx.select.item("All audiences", value="all"),
                        rx.foreach(
                            AnalyticsState.audience_options,
                            lambda o: rx.select.item(o[1], value=o[0]),
                        ),
                    ),
                    value=AnalyticsState.audience,
                    on_change=AnalyticsState.choose_audience,
                ),
            ),
            rx.text(
                AnalyticsState.start + " to " + AnalyticsState.end + " (UTC)",
                size="2",
                color_scheme="gray",
                id="range-shown",
            ),
            spacing="3",
            wrap="wrap",
            align="center",
        ),
        rx.cond(AnalyticsState.preset == CUSTOM, custom_range_form()),
        spacing="3",
        margin_bottom="1em",
        width="100%",
    )


# --- figures ----------------------------------------------------------------------------------


def stat(label: str, value, note, stat_id: str) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(label, size="2", color_scheme="gray"),
            rx.text(value, size="6", weight="bold", id=f"stat-{stat_id}"),
            rx.text(note, size="1", color_scheme="gray"),
            spacing="1",
        ),
        min_width="0",
    )


def stats() -> rx.Component:
    s = AnalyticsState
    return rx.grid(
        stat("Conversations", s.conversations, "started in the range", "conversations"),
        stat("Messages", s.messages, "from visitors, the bot and agents", "messages"),
        stat("Messages per conversation", s.per_conversation, "on average", "per-conversation"),
        stat(
            "Thumbs up",
            s.satisfaction,
            s.thumbs_up.to_string() + " up, " + s.thumbs_down.to_string() + " down",
            "thumbs",
        ),
        stat(
            "Unanswered",
            s.unanswered_share,
            s.unanswered.to_string() + " of " + s.answers.to_string() + " answers fell back",
            "unanswered",
        ),
        columns=rx.breakpoints(initial="2", sm="3", lg="5"),
        spacing="3",
        width="100%",
    )


def handoff_stats() -> rx.Component:
    """The people side: how often visitors asked for a person and how fast the team answered."""
    s = AnalyticsState
    return rx.grid(
        stat("Handed to a person", s.handoffs, s.handoff_note, "handoffs"),
        stat("Time to first human reply", s.first_reply, "median, from the ask", "first-reply"),
        stat("Time to resolution", s.resolution, "median, from the ask", "resolution"),
        columns=rx.breakpoints(initial="2", sm="3"),
        spacing="3",
        width="100%",
    )


def chart(title: str, figure, chart_id: str, footer: rx.Component | None = None) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(title, size="3", as_="h2"),
            rx.box(
                rx.plotly.basic(
                    data=figure.to(Figure),
                    id=chart_id,
                    config={"displayModeBar": False, "responsive": True},
                    style={"width": "100%", "height": "240px"},
                ),
                width="100%",
                height="240px",
            ),
            footer if footer is not None else rx.fragment(),
            width="100%",
            spacing="2",
        ),
        width="100%",
        min_width="0",
    )


def charts() -> rx.Component:
    busiest = rx.text(
        rx.cond(
            AnalyticsState.busiest != "",
            "Busiest hours (UTC): " + AnalyticsState.busiest,
            "No questions in this range yet.",
        ),
        size="2",
        id="busiest-hours",
    )
    return rx.grid(
        chart("Conversations per day", AnalyticsState.daily_figure, "chart-daily"),
        chart("Questions per hour", AnalyticsState.hours_figure, "chart-hours", busiest),
        columns=rx.breakpoints(initial="1", lg="2"),
        spacing="3",
        width="100%",
    )


def figures() -> rx.Component:
    return rx.cond(
        AnalyticsState.loaded,
        rx.vstack(
            stats(),
            handoff_stats(),
            charts(),
            rx.box(id="analytics-loaded", display="none"),
            spacing="3",
            width="100%",
        ),
        rx.hstack(rx.spinner(), rx.text("Counting...")),
    )


# --- missing content --------------------------------------------------------------------------


def group_row(group: GroupRow) -> rx.Component:
    return rx.flex(
        rx.vstack(
            rx.text(group.question, weight="medium", class_name="missing-question"),
            rx.cond(
                group.examples != "",
                rx.text("Also asked as: " + group.examples, size="1", color_scheme="gray"),
            ),
            rx.text("Last asked " + group.last_asked, size="1", color_scheme="gray"),
            spacing="1",
            flex="1",
            min_width="0",
        ),
        rx.hstack(
            rx.badge(
                rx.cond(
                    group.count == 1, "asked once", "asked " + group.count.to_string() + " times"
                ),
                size="2",
                class_name="missing-count",
                title="times asked",
            ),
            rx.cond(
                group.covered,
                rx.badge("Answer added", color_scheme="green", class_name="missing-covered"),
                rx.cond(
                    AuthState.is_manager,
                    rx.button(
                        rx.icon("plus", size=14),
                        "Add answer",
                        size="2",
                        variant="soft",
                        class_name="add-answer",
                        on_click=AnalyticsState.open_qa(group.question),
                    ),
                ),
            ),
            spacing="2",
            align="center",
        ),
        class_name="missing-group",
        spacing="3",
        wrap="wrap",
        align="center",
        justify="between",
        width="100%",
        padding_y="0.6em",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
    )


def missing_report() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Questions your bot could not answer", size="4", as_="h2"),
            rx.text(
                "Similar questions are grouped; the most asked come first.",
                rx.cond(
                    AuthState.is_manager,
                    " Add an answer and the bot learns it (it appears under Sources).",
                    " Owners and admins can add answers.",
                ),
                rx.cond(
                    AnalyticsState.scope == "workspace",
                    " This list is for " + BotScopeState.bot_name + " only.",
                    "",
                ),
                size="2",
                color_scheme="gray",
            ),
            rx.match(
                AnalyticsState.missing_status,
                (
                    "ready",
                    rx.cond(
                        AnalyticsState.groups.length() > 0,
                        rx.vstack(
                            rx.foreach(AnalyticsState.groups, group_row),
                            width="100%",
                            spacing="0",
                            id="missing-groups",
                        ),
                        rx.text(
                            "Every question in this range got an answer.",
                            id="missing-none",
                            size="2",
                        ),
                    ),
                ),
                ("error", rx.text("The report could not be made.", color_scheme="red")),
                rx.hstack(rx.spinner(size="2"), rx.text("Grouping questions...", size="2")),
            ),
            width="100%",
            spacing="3",
        ),
        width="100%",
        margin_top="1em",
        id="missing-content",
    )


def qa_dialog() -> rx.Component:
    s = AnalyticsState
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Answer this question", custom_attrs=H2_TITLE),
            rx.dialog.description(
                "The bot learns this answer as a Q&A source.", size="2", margin_bottom="0.75em"
            ),
            rx.form(
                rx.vstack(
                    field_label("Question", "qa-question"),
                    describe_errors(
                        rx.text_area(
                            value=s.qa_question,
                            on_change=s.set_qa_question,
                            id="qa-question",
                            name="question",
                            width="100%",
                            rows="2",
                        ),
                        "qa-question-error",
                        s.qa_question_error != "",
                    ),
                    field_error(s.qa_question_error, "qa-question"),
                    field_label("Answer", "qa-answer"),
                    describe_errors(
                        rx.text_area(
                            value=s.qa_answer,
                            on_change=s.set_qa_answer,
                            id="qa-answer",
                            name="answer",
                            width="100%",
                            rows="5",
                            placeholder="What the bot should say",
                        ),
                        "qa-answer-error",
                        s.qa_answer_error != "",
                    ),
                    field_error(s.qa_answer_error, "qa-answer"),
                    rx.hstack(
                        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
                        rx.button("Add answer", type="submit", id="qa-save"),
                        justify="end",
                        width="100%",
                    ),
                    spacing="2",
                    width="100%",
                ),
                on_submit=s.save_qa,
            ),
            max_width="560px",
            **return_focus(),
        ),
        open=s.qa_open,
        on_open_change=s.set_qa_open,
    )


@rx.page(
    route="/analytics",
    title="Analytics - Chatapp",
    on_load=[AuthState.require_login, BotScopeState.load_bots, AnalyticsState.load],
)
def analytics_page() -> rx.Component:
    return bot_section(
        controls(),
        figures(),
        missing_report(),
        qa_dialog(),
        title="Analytics",
    )
