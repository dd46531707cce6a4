"""The Settings section: bot, appearance (with the live widget preview), workspace, account.

Owners and admins edit; agents and viewers read the same values with no way to save.
"""

from __future__ import annotations

import reflex as rx

from chatapp.components.a11y import labelled_upload
from chatapp.components.forms import field_label
from chatapp.components.layout import bot_section
from chatapp.components.settings_fields import (
    READ_ONLY,
    error_text,
    labelled,
    save_button,
    settings_form,
    text_box,
    text_input,
)
from chatapp.components.settings_routing import routing_tab
from chatapp.components.settings_workspace import account_tab, workspace_tab
from chatapp.components.widget_preview import widget_preview
from chatapp.services.bots.avatars import MAX_AVATAR_BYTES
from chatapp.state.auth import AuthState
from chatapp.state.bot_scope import BotScopeState
from chatapp.state.settings import SettingsState as S
from chatapp.state.settings_routing import RoutingSettingsState

POSITIONS = [("bottom-right", "Bottom right"), ("bottom-left", "Bottom left"), ("center", "Centre")]
AVATAR_TYPES = {"image/png": [".png"], "image/jpeg": [".jpg", ".jpeg"], "image/gif": [".gif"]}


def bot_tab() -> rx.Component:
    return settings_form(
        S.save_bot,
        labelled("Name", text_input("name", max_length=80), "name"),
        labelled(
            "Instructions",
            text_box("instructions", rows="6", placeholder="How the bot behaves and talks."),
            "instructions",
            "Tone, what to talk about, what to avoid. The bot still answers only from its sources.",
        ),
        labelled("Welcome message", text_box("welcome_message", rows="2"), "welcome_message"),
        labelled(
            "Starter questions",
            text_box("starters_text", rows="4"),
            "starters_text",
            "One per line, up to 6: buttons under the welcome message.",
        ),
        labelled(
            "Fallback message",
            text_box("fallback_message", rows="2"),
            "fallback_message",
            "What the bot says when its sources do not hold the answer.",
        ),
        rx.flex(
            labelled(
                "Model",
                text_input("model", placeholder="Workspace default"),
                "model",
                "Empty: the workspace's model. Ignored when answering offline.",
            ),
            labelled(
                "Temperature",
                text_input("temperature", type="number", step="0.1", min="0", max="2"),
                "temperature",
                "0 = precise, 2 = creative.",
            ),
            direction=rx.breakpoints(initial="column", sm="row"),
            spacing="3",
            width="100%",
        ),
        labelled(
            "Monthly message limit",
            text_input("message_limit", type="number", min="0"),
            "message_limit",
        ),
        rx.vstack(
            rx.text("Used this month: ", S.usage_label, size="2", id="usage-label"),
            rx.progress(
                value=S.usage_percent,
                width="100%",
                max_width="360px",
                aria_label="Messages used this month",
            ),
            spacing="1",
            width="100%",
        ),
        save_button("Save bot settings", "save-bot"),
        spacing="4",
        max_width="640px",
    )


def avatar_field() -> rx.Component:
    return rx.vstack(
        rx.text("Avatar", size="2", weight="medium"),
        rx.hstack(
            rx.cond(
                S.avatar_url != "",
                rx.image(
                    src=S.avatar_url,
                    width="48px",
                    height="48px",
                    id="avatar-image",
                    border_radius="50%",
                    alt="Bot avatar",
                ),
                rx.avatar(fallback="?", size="4", radius="full"),
            ),
            rx.cond(
                S.is_manager,
                rx.hstack(
                    labelled_upload(
                        "Avatar image",
                        rx.button(
                            rx.icon("upload", size=14), "Upload", variant="soft", type="button"
                        ),
                        id="avatar-upload",
                        multiple=False,
                        max_files=1,
                        accept=AVATAR_TYPES,
                        on_drop=S.upload_avatar,
                        on_drop_rejected=S.avatar_rejected,
                        plain=True,
                    ),
                    rx.cond(
                        S.avatar_url != "",
                        rx.button(
                            "Remove",
                            type="button",
                            variant="ghost",
                            color_scheme="red",
                            on_click=S.remove_avatar,
                            id="remove-avatar",
                        ),
                    ),
                    spacing="2",
                ),
            ),
            align="center",
            spacing="3",
        ),
        rx.text(
            f"PNG, JPEG or GIF, up to {MAX_AVATAR_BYTES // 1024} KB; shown at 64x64. "
            "Saved at once.",
            size="1",
            color_scheme="gray",
        ),
        error_text("avatar"),
        spacing="1",
        width="100%",
    )


def appearance_form() -> rx.Component:
    return settings_form(
        S.save_appearance,
        avatar_field(),
        labelled(
            "Accent colour",
            rx.hstack(
                rx.el.input(
                    type="color",
                    value=S.accent_color,
                    on_change=lambda value: S.set_field("accent_color", value),
                    disabled=READ_ONLY,
                    id="field-accent_color",
                    aria_label="Accent colour",
                    style={
                        "width": "48px",
                        "height": "32px",
                        "border": "none",
                        "padding": "0",
                        "background": "none",
                        "cursor": "pointer",
                    },
                ),
                rx.input(
                    value=S.accent_color,
                    on_change=lambda value: S.set_field("accent_color", value),
                    read_only=READ_ONLY,
                    id="accent-hex",
                    name="accent_color",
                    aria_label="Accent colour (hex)",
                    max_length=7,
                    width="110px",
                ),
                align="center",
            ),
            "accent_color",
        ),
        labelled(
            "Position",
            rx.select.root(
                rx.select.trigger(id="field-position", width="200px"),
                rx.select.content(
                    *[rx.select.item(label, value=value) for value, label in POSITIONS]
                ),
                value=S.position,
                on_change=lambda value: S.set_field("position", value),
                disabled=READ_ONLY,
            ),
            "position",
        ),
        rx.hstack(
            rx.switch(
                checked=S.show_button_text,
                on_change=S.set_show_button_text,
                disabled=READ_ONLY,
                id="field-show_button_text",
            ),
            field_label("Show a text in the chat button", "field-show_button_text"),
            align="center",
        ),
        labelled(
            "Button text",
            text_input("button_text", max_length=40, disabled=~S.show_button_text),
            "button_text",
        ),
        save_button("Save appearance", "save-appearance"),
        spacing="4",
        max_width="420px",
    )


def appearance_tab() -> rx.Component:
    return rx.flex(
        appearance_form(),
        widget_preview(
            name=S.name,
            welcome=S.welcome_message,
            starters=S.starters,
            avatar_url=S.avatar_url,
            accent=S.accent_color,
            text_color=S.accent_text,
            position=S.position,
            show_text=S.show_button_text,
            button_text=S.button_text,
        ),
        direction=rx.breakpoints(initial="column", md="row"),
        spacing="6",
        width="100%",
    )


def tab(label: str, value: str) -> rx.Component:
    return rx.tabs.trigger(label, value=value, id=f"tab-{value}")


@rx.page(
    route="/settings",
    title="Settings - Chatapp",
    on_load=[AuthState.require_login, BotScopeState.load_bots, S.load, RoutingSettingsState.load],
)
def settings_page() -> rx.Component:
    return bot_section(
        rx.cond(
            READ_ONLY,
            rx.callout(
                "You can read these settings; only owners and admins can change them.",
                icon="lock",
                id="read-only-note",
                margin_bottom="1em",
            ),
        ),
        rx.tabs.root(
            rx.tabs.list(
                tab("Bot", "bot"),
                tab("Appearance", "appearance"),
                tab("Audiences & routing", "routing"),
                tab("Workspace", "workspace"),
                tab("Account", "account"),
            ),
            rx.tabs.content(bot_tab(), value="bot", padding_top="1em"),
            rx.tabs.content(appearance_tab(), value="appearance", padding_top="1em"),
            rx.tabs.content(routing_tab(), value="routing", padding_top="1em"),
            rx.tabs.content(workspace_tab(), value="workspace", padding_top="1em"),
            rx.tabs.content(account_tab(), value="account", padding_top="1em"),
            default_value="bot",
            width="100%",
        ),
        title="Settings",
    )
