"""The Connect section: put the bot on a website (embed code, widget key, allowed domains)."""

from __future__ import annotations

import reflex as rx

from chatapp.components.layout import bot_section
from chatapp.components.widget_preview import widget_preview
from chatapp.state.auth import AuthState
from chatapp.state.bot_scope import BotScopeState
from chatapp.state.connect import KEY_PLACEHOLDER
from chatapp.state.connect import ConnectState as C


def card(title: str, *children: rx.Component, **props) -> rx.Component:
    return rx.card(
        rx.vstack(rx.heading(title, size="4"), *children, spacing="3", width="100%"),
        width="100%",
        **props,
    )


def key_status() -> rx.Component:
    return rx.cond(
        C.new_key != "",
        rx.callout(
            rx.vstack(
                rx.text("Your new widget key (shown only now; it is already in the code above):"),
                rx.code(C.new_key, id="new-key", overflow_wrap="anywhere"),
                spacing="1",
            ),
            icon="key-round",
            color_scheme="green",
            width="100%",
        ),
        rx.cond(
            C.key_prefix != "",
            rx.text(
                "Key in use: ",
                rx.code(C.key_prefix + "..."),
                " (created " + C.key_created + "). Keys are stored hashed and shown only once: "
                f"the code below has {KEY_PLACEHOLDER} where your key goes. Lost it? Create a new "
                "one (the old one stops working).",
                size="2",
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
            rx.alert_dialog.title("Replace the widget key?"),
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
                        on_click=C.create_key,
                        id="confirm-regenerate",
                    )
                ),
                justify="end",
                spacing="3",
                margin_top="1em",
            ),
        ),
    )
    revoke = rx.button(
        "Revoke", variant="ghost", color_scheme="red", on_click=C.revoke_keys, id="revoke-keys"
    )
    return rx.cond(
        C.is_manager,
        rx.hstack(
            rx.cond((C.key_prefix == "") & (C.new_key == ""), create, regenerate),
            rx.cond(C.key_prefix != "", revoke),
            spacing="3",
            wrap="wrap",
        ),
    )


def embed_card() -> rx.Component:
    return card(
        "Embed code",
        rx.text(
            "Paste this before </body> on every page where visitors should be able to chat.",
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
            "The websites where the widget may chat, one per line (shop.com also allows its "
            "subdomains). Empty: any website that has the key.",
            size="2",
        ),
        rx.text_area(
            value=C.domains_text,
            on_change=C.set_domains_text,
            read_only=~C.is_manager,
            placeholder="shop.com\nhelp.shop.com",
            rows="4",
            width="100%",
            id="field-allowed_domains",
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
        rx.cond(
            C.is_manager, rx.button("Save domains", on_click=C.save_domains, id="save-domains")
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
