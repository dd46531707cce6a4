"""The Playground section: the chat on the left, the bot's settings to try on the right."""

from __future__ import annotations

import reflex as rx

from chatapp.components.chat_view import citation_item, follow_newest, message_list
from chatapp.components.forms import field_error, field_label
from chatapp.components.layout import bot_section
from chatapp.state.auth import AuthState
from chatapp.state.bot_scope import BotScopeState
from chatapp.state.playground import TEMPERATURE_LABEL, PlaygroundState


def streaming_bubble() -> rx.Component:
    return rx.cond(
        PlaygroundState.streaming,
        rx.box(
            rx.text("Bot", size="1", weight="bold"),
            rx.cond(
                PlaygroundState.stream_text != "",
                rx.text(
                    PlaygroundState.stream_text,
                    size="2",
                    white_space="pre-wrap",
                    class_name="message-text",
                ),
                rx.hstack(rx.spinner(size="1"), rx.text("Thinking...", size="2")),
            ),
            class_name="bubble bubble-streaming",
            background=rx.color("gray", 3),
            border_radius="0.75em",
            padding="0.6em 0.8em",
            align_self="flex-start",
            max_width=["100%", "100%", "85%"],
        ),
    )


def question_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.hstack(
                rx.input(
                    name="question",
                    value=PlaygroundState.question,
                    on_change=PlaygroundState.set_question,
                    placeholder="Ask " + BotScopeState.bot_name + " something",
                    id="playground-question",
                    aria_label="Question",
                    width="100%",
                    size="3",
                ),
                rx.button(
                    rx.cond(
                        PlaygroundState.streaming,
                        rx.spinner(size="2"),
                        rx.icon("send", size=16, aria_hidden="true"),
                    ),
                    "Send",
                    type="submit",
                    id="playground-send",
                    size="3",
                    # Not `disabled` while an answer streams: a disabled button drops the
                    # keyboard focus to the page's body. `ask` ignores a second question.
                    aria_disabled=PlaygroundState.streaming,
                ),
                width="100%",
            ),
            field_error(PlaygroundState.question_error, "playground-question"),
            width="100%",
            spacing="1",
        ),
        on_submit=PlaygroundState.ask,
        width="100%",
    )


def chat_panel() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.text("Chat as a visitor", weight="bold"),
                rx.spacer(),
                rx.button(
                    rx.icon("rotate-ccw", size=14),
                    "Retry",
                    variant="soft",
                    size="1",
                    on_click=PlaygroundState.retry,
                    disabled=~PlaygroundState.asked,
                    aria_disabled=PlaygroundState.streaming,  # keeps focus (see Send)
                    id="playground-retry",
                    title="Ask the last question again with the settings as they are now",
                ),
                rx.button(
                    rx.icon("eraser", size=14),
                    "Reset",
                    variant="soft",
                    color_scheme="gray",
                    size="1",
                    on_click=PlaygroundState.reset_chat,
                    disabled=PlaygroundState.streaming,
                    id="playground-reset",
                    title="Start a new conversation",
                ),
                width="100%",
                align="center",
            ),
            rx.cond(
                (PlaygroundState.messages.length() == 0) & ~PlaygroundState.streaming,
                rx.text(
                    "Ask a question about your sources. Answers, citations and fallbacks are "
                    "exactly what visitors get; these conversations appear in Activity as "
                    "the playground channel.",
                    size="2",
                    color_scheme="gray",
                    id="playground-empty",
                ),
            ),
            message_list(
                PlaygroundState.messages,
                streaming_bubble(),
                live=True,
                tab_index=0,  # the history scrolls: reachable by keyboard
                role="region",
                aria_label="Chat",
                id="playground-messages",
                max_height=["none", "none", "60vh"],
                overflow_y="auto",
                on_mount=follow_newest("playground-messages"),
            ),
            question_form(),
            width="100%",
            spacing="3",
        ),
        width="100%",
    )


def passages_panel() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text("Passages behind the last answer", weight="bold"),
            rx.cond(
                PlaygroundState.passages.length() > 0,
                rx.vstack(
                    rx.foreach(PlaygroundState.passages, citation_item),
                    width="100%",
                    spacing="1",
                    id="playground-passages",
                ),
                rx.text(
                    "None yet: the passages an answer cites appear here, each with how well it "
                    "matches the question (strong match, weak match).",
                    size="2",
                    color_scheme="gray",
                ),
            ),
            width="100%",
        ),
        width="100%",
    )


def provider_note() -> rx.Component:
    return rx.cond(
        PlaygroundState.offline,
        rx.callout(
            "Offline mode: answers are sentences taken from your sources, with [n] citations. "
            "Instructions, model and temperature apply once an LLM provider is set.",
            icon="info",
            size="1",
            id="playground-offline",
        ),
        rx.text(
            "Answers by " + PlaygroundState.provider_model + " (model below overrides it).",
            size="1",
            color_scheme="gray",
        ),
    )


def settings_panel() -> rx.Component:
    return rx.card(
        rx.vstack(
            settings_header(),
            provider_note(),
            *instructions_field(),
            *model_field(),
            *temperature_field(),
            audience_picker(),
            settings_buttons(),
            save_note(),
            width="100%",
            spacing="2",
        ),
        width="100%",
    )


def settings_header() -> rx.Component:
    return rx.hstack(
        rx.text("Settings to try", weight="bold"),
        rx.spacer(),
        rx.cond(
            PlaygroundState.has_unsaved_tweaks,
            rx.badge("not saved", color_scheme="orange", id="playground-unsaved"),
        ),
        width="100%",
    )


def instructions_field() -> tuple[rx.Component, ...]:
    """Label, text area and error (children of the panel's stack)."""
    return (
        field_label("Instructions", "playground-instructions"),
        rx.text_area(
            value=PlaygroundState.instructions,
            on_change=PlaygroundState.set_instructions,
            placeholder="e.g. Answer in two sentences, in a friendly tone.",
            id="playground-instructions",
            rows="6",
            width="100%",
        ),
        field_error(PlaygroundState.instructions_error, "playground-instructions"),
    )


def model_field() -> tuple[rx.Component, ...]:
    return (
        field_label("Model", "playground-model"),
        rx.input(
            value=PlaygroundState.model,
            on_change=PlaygroundState.set_model,
            placeholder="Default (" + PlaygroundState.provider_model + ")",
            id="playground-model",
            width="100%",
        ),
        field_error(PlaygroundState.model_error, "playground-model"),
    )


def temperature_field() -> tuple[rx.Component, ...]:
    return (
        field_label(TEMPERATURE_LABEL, "playground-temp"),
        rx.input(
            value=PlaygroundState.temperature,
            on_change=PlaygroundState.set_temperature,
            type="number",
            min="0",
            max="2",
            step="0.1",
            id="playground-temp",
            width="8em",
        ),
        field_error(PlaygroundState.temperature_error, "playground-temp"),
    )


def audience_picker() -> rx.Component:
    """Shown only when the bot has audiences."""
    return rx.cond(
        PlaygroundState.audience_options.length() > 0,
        rx.vstack(
            field_label("Talk as (audience)", "playground-audience"),
            rx.select.root(
                rx.select.trigger(id="playground-audience", min_width="12em"),
                rx.select.content(
                    rx.select.item("No audience", value="none"),
                    rx.foreach(
                        PlaygroundState.audience_options,
                        lambda o: rx.select.item(o[1], value=o[0]),
                    ),
                ),
                value=PlaygroundState.audience,
                on_change=PlaygroundState.set_audience,
            ),
            spacing="1",
        ),
    )


def settings_buttons() -> rx.Component:
    """Retry with the settings, save them to the bot (managers), revert them. Offline the
    settings change no answer, so retrying with them is off, and the reason is shown."""
    return rx.flex(
        rx.button(
            "Retry with these",
            on_click=PlaygroundState.retry,
            disabled=~PlaygroundState.can_retry | PlaygroundState.offline,
            variant="soft",
            id="playground-retry-settings",
        ),
        rx.cond(
            AuthState.is_manager,
            rx.button(
                "Save to bot",
                on_click=PlaygroundState.save_tweaks,
                disabled=~PlaygroundState.has_unsaved_tweaks | ~PlaygroundState.tweaks_valid,
                id="playground-save",
            ),
        ),
        rx.button(
            "Revert",
            on_click=PlaygroundState.revert_tweaks,
            disabled=~PlaygroundState.has_unsaved_tweaks,
            variant="ghost",
            color_scheme="gray",
            id="playground-revert",
        ),
        spacing="2",
        wrap="wrap",
    )


def save_note() -> rx.Component:
    return rx.fragment(
        rx.cond(
            PlaygroundState.offline,
            rx.text(
                "Offline mode: these settings change nothing until an LLM provider is set in "
                "Settings.",
                size="1",
                color_scheme="gray",
                id="playground-retry-settings-note",
            ),
        ),
        rx.cond(
            ~AuthState.is_manager,
            rx.text(
                "Only owners and admins can save settings to the bot.",
                size="1",
                color_scheme="gray",
                id="playground-save-note",
            ),
        ),
    )


@rx.page(
    route="/playground",
    title="Playground - Chatapp",
    on_load=[AuthState.require_login, BotScopeState.load_bots, PlaygroundState.load],
)
def playground_page() -> rx.Component:
    return bot_section(
        rx.box(
            rx.vstack(chat_panel(), passages_panel(), width="100%", spacing="4", min_width="0"),
            rx.box(settings_panel(), min_width="0"),
            display="grid",
            grid_template_columns=["1fr", "1fr", "3fr 2fr"],
            gap="1em",
            width="100%",
        ),
        title="Playground",
    )
