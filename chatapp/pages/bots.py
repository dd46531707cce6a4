"""The Bots page (home): one card per bot with its message usage; create, rename, delete."""

from __future__ import annotations

import reflex as rx

from chatapp.components.a11y import H2_TITLE, return_focus
from chatapp.components.bot_transfer import export_button, import_dialog
from chatapp.components.confirm import delete_with_confirmation
from chatapp.components.layout import dashboard
from chatapp.state.auth import AuthState
from chatapp.state.bot_transfer import BotTransferState
from chatapp.state.bots import BotCard, BotsState


def create_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.trigger(rx.button(rx.icon("plus", size=16), "New bot", id="new-bot")),
        rx.dialog.content(
            rx.dialog.title("New bot", custom_attrs=H2_TITLE),
            rx.form(
                rx.vstack(
                    rx.input(
                        name="name",
                        placeholder="Bot name",
                        required=True,
                        max_length=80,
                        width="100%",
                        id="new-bot-name",
                        aria_label="Bot name",
                    ),
                    rx.hstack(
                        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
                        rx.button("Create", type="submit", id="create-bot-submit"),
                        justify="end",
                        width="100%",
                    ),
                ),
                on_submit=BotsState.create,
                reset_on_submit=True,
            ),
        ),
        open=BotsState.create_open,
        on_open_change=BotsState.set_create_open,
    )


def rename_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Rename bot", custom_attrs=H2_TITLE),
            rx.form(
                rx.vstack(
                    rx.input(
                        name="name",
                        default_value=BotsState.rename_value,
                        required=True,
                        max_length=80,
                        width="100%",
                        id="rename-input",
                        aria_label="Bot name",
                    ),
                    rx.hstack(
                        rx.button(
                            "Cancel",
                            variant="soft",
                            color_scheme="gray",
                            type="button",
                            on_click=BotsState.cancel_rename,
                        ),
                        rx.button("Save", type="submit", id="rename-submit"),
                        justify="end",
                        width="100%",
                    ),
                ),
                on_submit=BotsState.rename,
            ),
            **return_focus(),  # opened from state: no Trigger for Radix to focus again
        ),
        open=BotsState.rename_id != 0,
        on_open_change=BotsState.rename_open_change,
    )


def delete_button(card: BotCard) -> rx.Component:
    return delete_with_confirmation(
        what="bot",
        title="Delete " + card.name + "?",
        description=(
            "Its sources, conversations and keys are deleted too; its contacts stay in "
            "Contacts. This cannot be undone."
        ),
        on_confirm=BotsState.delete(card.id),
        button_class="delete-bot",
        confirm_props={"class_name": "confirm-delete"},
    )


def card_buttons(card: BotCard) -> rx.Component:
    """Rename and delete. Their clicks (and those in the delete dialog, which React bubbles
    through its portal) stop here, so they never open the bot as the card does."""
    return rx.el.div(
        rx.hstack(
            rx.icon_button(
                rx.icon("pencil", size=16),
                variant="ghost",
                aria_label="Rename bot",
                title="Rename",
                class_name="rename-bot",
                on_click=BotsState.start_rename(card.id, card.name),
            ),
            export_button(card),
            delete_button(card),
            spacing="1",
        ),
        on_click=rx.stop_propagation,
    )


def bot_card(card: BotCard) -> rx.Component:
    # A click anywhere on the card opens the bot (its own buttons excepted); from the keyboard,
    # its name is the button that does.
    return rx.el.div(
        bot_card_body(card),
        on_click=BotsState.open_bot(card.id),
        class_name="bot-card",
        cursor="pointer",
        border_radius="var(--radius-4)",
        _hover={"box_shadow": f"0 0 0 1px {rx.color('accent', 8)}"},
    )


def bot_name_button(card: BotCard) -> rx.Component:
    """The bot's name: the card's keyboard way in (Tab, then Enter)."""
    return rx.el.button(
        # A span: a button's content is phrasing only (a heading in it is no heading to a
        # screen reader); the card's name is the button's name.
        rx.heading(card.name, size="4", class_name="bot-name", trim="both", as_="span"),
        type="button",
        title="Open " + card.name,
        class_name="open-bot",
        on_click=BotsState.open_bot(card.id).stop_propagation,  # the card would open it again
        background="none",
        border="none",
        padding="0",
        color="inherit",
        cursor="pointer",
        text_align="left",
        min_width="0",
    )


def bot_card_body(card: BotCard) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.avatar(
                    src=card.avatar_url,
                    fallback=card.initial,
                    size="4",
                    radius="full",
                    style={"background": card.accent_color, "color": "white"},
                ),
                rx.vstack(
                    bot_name_button(card),
                    rx.badge(
                        card.status,
                        color_scheme=rx.cond(card.status == "active", "green", "gray"),
                        high_contrast=True,  # soft green text is under 4.5:1
                    ),
                    spacing="1",
                    min_width="0",
                ),
                rx.spacer(),
                rx.cond(AuthState.is_manager, card_buttons(card)),
                width="100%",
                align="center",
            ),
            rx.progress(
                value=card.usage_percent, width="100%", aria_label="Messages used this month"
            ),
            rx.text(card.usage_label, size="2", color_scheme="gray", class_name="bot-usage"),
            spacing="3",
            width="100%",
        ),
        height="100%",
    )


def empty_state() -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.icon("bot", size=40, color=rx.color("gray", 8)),
            rx.text("No bots yet.", size="4", weight="medium"),
            rx.text("Create a bot, then teach it your content.", color_scheme="gray"),
            align="center",
        ),
        padding="3em",
        width="100%",
    )


@rx.page(route="/", title="Bots - Chatapp", on_load=[AuthState.require_login, BotsState.load])
def bots_page() -> rx.Component:
    return dashboard(
        rx.hstack(
            rx.text(
                BotsState.count_label,
                " in ",
                AuthState.workspace_name,
                color_scheme="gray",
                id="bots-count",
            ),
            rx.spacer(),
            rx.cond(
                BotsState.show_search,
                rx.input(
                    placeholder="Search bots",
                    value=BotsState.search,
                    on_change=BotsState.set_search.debounce(300),
                    id="bot-search",
                ),
            ),
            rx.cond(AuthState.is_manager, create_dialog()),
            rx.cond(BotTransferState.import_targets.length() > 0, import_dialog()),
            width="100%",
            align="center",
            margin_bottom="1em",
            wrap="wrap",
        ),
        rx.cond(
            BotsState.cards.length() > 0,
            rx.grid(
                rx.foreach(BotsState.cards, bot_card),
                columns=rx.breakpoints(initial="1", sm="2", lg="3"),
                spacing="4",
                width="100%",
            ),
            empty_state(),
        ),
        rename_dialog(),
        title="Bots",
    )
