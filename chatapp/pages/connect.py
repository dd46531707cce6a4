"""The Connect section: put the bot on a website (embed code, widget key, allowed domains)."""

from __future__ import annotations

import reflex as rx

from chatapp.components.a11y import H2_TITLE, return_focus
from chatapp.components.layout import bot_section
from chatapp.components.widget_preview import widget_preview
from chatapp.state.auth import AuthState
from chatapp.state.bot_scope import BotScopeState
from chatapp.state.connect import KEY_PLACEHOLDER
from chatapp.state.connect import ConnectState as C


def card(title: str, *children: rx.Component, **props) -> rx.Component:
    return rx.card(
        rx.vstack(rx.heading(title, size="4", as_="h2"), *children, spacing="3", width="100%"),
        width="100%",
        **props,
    )


def key_status() -> rx.Component:
    return rx.cond(
        C.widget_key != "",
        rx.text(
            "Key in use: ",
            rx.code(C.widget_key, id="widget-key", overflow_wrap="anywhere"),
            " (created " + C.key_created + "). It is a public key: every page that embeds the "
            "widget shows it, so it is always in the code above. Allowed domains keep it from "
            "working on other websites.",
            size="2",
            id="key-note",
        ),
        rx.cond(
            C.key_prefix != "",
            rx.callout(
                rx.vstack(
                    rx.text(
                        "The key in use (",
                        rx.code(C.key_prefix + "..."),
                        ", created " + C.key_created + ") was made before keys could be shown "
                        f"again, so the code above has {KEY_PLACEHOLDER}: pasted as is, it does "
                        "not chat. Get a working code: a new key is added and the old one keeps "
                        "working on your pages until you revoke keys.",
                        size="2",
                    ),
                    rx.cond(
                        C.is_manager,
                        rx.button(
                            rx.icon("key-round", size=14),
                            "Get a working embed code",
                            on_click=C.add_key,
                            id="add-key",
                        ),
                    ),
                    spacing="2",
                ),
                icon="triangle-alert",
                color_scheme="amber",
                width="100%",
                id="key-note",
            ),
            rx.text(
                "This bot has no widget key yet: create one to chat from a website.",
                size="2",
                id="key-note",
            ),
        ),
    )


def regenerate_button() -> rx.Component:
    """Create the first key at once; replacing a key asks first (pages using it stop working)."""
    create = rx.button(
        rx.icon("key-round", size=14), "Create key", on_click=C.create_key, id="create-key"
    )
    regenerate = rx.alert_dialog.root(
        rx.alert_dialog.trigger(
            rx.button(
                rx.icon("refresh-cw", size=14),
                "Regenerate key",
                variant="soft",
                id="regenerate-key",
            )
        ),
        rx.alert_dialog.content(
            rx.alert_dialog.title("Replace the widget key?", custom_attrs=H2_TITLE),
            rx.alert_dialog.description(
                "The current key stops working at once: every page that uses it must get the "
                "new embed code."
            ),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(
                    rx.button(
                        "Regenerate",
                        color_scheme="red",
                        high_contrast=True,
                        on_click=C.create_key,
                        id="confirm-regenerate",
                    )
                ),
                justify="end",
                spacing="3",
                margin_top="1em",
            ),
            **return_focus(),
        ),
    )
    revoke = rx.button(
        "Revoke", variant="ghost", color_scheme="red", on_click=C.revoke_keys, id="revoke-keys"
    )
    return rx.cond(
        C.is_manager,
        rx.hstack(
            rx.cond(C.key_prefix == "", create, regenerate),
            rx.cond(C.key_prefix != "", revoke),
            spacing="3",
            wrap="wrap",
        ),
    )


def embed_card() -> rx.Component:
    return card(
        "Embed code",
        rx.text(
            "Paste this before </body> on every page where visitors should be able to chat. "
            "The first line lets your page call Chatapp(...) before the widget has loaded.",
            size="2",
        ),
        rx.segmented_control.root(
            rx.segmented_control.item("Chat bubble", value="bubble", id="variant-bubble"),
            rx.segmented_control.item("Inline", value="inline", id="variant-inline"),
            value=C.variant,
            on_change=C.set_variant,
        ),
        rx.cond(
            C.variant == "inline",
            rx.text(
                "Inline: the chat fills the element with id chatapp-chat (give it a height).",
                size="1",
                color_scheme="gray",
            ),
        ),
        rx.el.pre(
            rx.el.code(C.embed_code),
            id="embed-code",
            style={
                "white_space": "pre-wrap",
                "overflow_wrap": "anywhere",
                "background": rx.color("gray", 3),
                "padding": "12px",
                "border_radius": "8px",
                "font_size": "13px",
                "width": "100%",
                "margin": "0",
            },
        ),
        rx.button(
            rx.icon("copy", size=14),
            "Copy code",
            on_click=[rx.set_clipboard(C.embed_code), rx.toast.success("Embed code copied.")],
            id="copy-embed",
        ),
        key_status(),
        regenerate_button(),
    )


def domains_card() -> rx.Component:
    return card(
        "Allowed domains",
        rx.text(
            "The websites where the widget shows and chats, one per line (shop.com also allows its "
            "subdomains). Empty: any website that has the key.",
            size="2",
        ),
        rx.form(
            rx.vstack(
                rx.text_area(
                    value=C.domains_text,
                    on_change=C.set_domains_text,
                    read_only=~C.is_manager,
                    placeholder="shop.com\nhelp.shop.com",
                    rows="4",
                    width="100%",
                    id="field-allowed_domains",
                    name="allowed_domains",
                ),
                rx.cond(
                    C.errors.contains("allowed_domains"),
                    rx.text(
                        C.errors["allowed_domains"],
                        color_scheme="red",
                        size="2",
                        id="error-allowed_domains",
                        role="alert",
                    ),
                ),
                rx.cond(C.is_manager, rx.button("Save domains", type="submit", id="save-domains")),
                width="100%",
            ),
            # The save reads the text from the submit: never older than what is on screen.
            on_submit=C.save_domains,
            width="100%",
        ),
        refused_websites(),
    )


def _refused_row(refused) -> rx.Component:
    return rx.el.li(
        rx.code(refused["host"]), " refused " + refused["times"] + ", last " + refused["last"]
    )


def refused_websites() -> rx.Component:
    """Where the widget was refused lately: a site of yours missing above shows up here."""
    return rx.cond(
        C.refused.length() > 0,
        rx.callout(
            rx.vstack(
                rx.text(
                    "The widget did not show on these websites (last 30 days) because they are "
                    "not in the allowed domains. If one is yours, add it above.",
                    size="2",
                ),
                rx.el.ul(
                    rx.foreach(C.refused, _refused_row),
                    style={"margin": 0, "padding_left": "1.2em"},
                ),
                spacing="2",
            ),
            icon="shield-alert",
            color_scheme="amber",
            width="100%",
            id="refused-websites",
        ),
    )


@rx.page(
    route="/connect",
    title="Connect - Chatapp",
    on_load=[AuthState.require_login, BotScopeState.load_bots, C.load],
)
def connect_page() -> rx.Component:
    return bot_section(
        rx.flex(
            rx.vstack(embed_card(), domains_card(), spacing="4", width="100%", max_width="640px"),
            rx.vstack(
                rx.text("How the widget looks (change it in Settings > Appearance):", size="2"),
                widget_preview(
                    name=C.name,
                    welcome=C.welcome_message,
                    starters=C.starters,
                    avatar_url=C.avatar_url,
                    accent=C.accent_color,
                    text_color=C.accent_text,
                    position=C.position,
                    show_text=C.show_button_text,
                    button_text=C.button_text,
                ),
                width="100%",
                max_width="420px",
            ),
            direction=rx.breakpoints(initial="column", lg="row"),
            spacing="6",
            width="100%",
        ),
        title="Connect",
    )
