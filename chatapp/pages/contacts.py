"""The Contacts section: the people the bots met (or were added by hand), searchable and paged,
each with the conversations linked to them; add, edit, delete and a CSV export.

Viewers only read; agents add and edit; owners and admins also delete (the services check the
same rules, the page only hides what a role cannot do).
"""

from __future__ import annotations

import reflex as rx

from chatapp.components.a11y import visually_hidden
from chatapp.components.confirm import delete_with_confirmation
from chatapp.components.contact_dialogs import detail_dialog, editor_dialog
from chatapp.components.layout import bot_section
from chatapp.state.auth import AuthState
from chatapp.state.bot_scope import BotScopeState
from chatapp.state.contacts import ContactsState, ContactView

WIDE_ONLY = ["none", "none", "table-cell"]  # columns hidden on phones (below 768 px)


def toolbar() -> rx.Component:
    return rx.flex(
        rx.input(
            value=ContactsState.search,
            on_change=ContactsState.set_search,
            debounce_timeout=300,
            placeholder="Search name, email, phone or ID",
            aria_label="Search contacts",
            max_length=100,
            id="contact-search",
            width=["100%", "100%", "320px"],
        ),
        rx.hstack(
            rx.switch(
                checked=ContactsState.all_bots,
                on_change=ContactsState.set_all_bots,
                id="all-bots",
                aria_label="Show contacts of all bots",
            ),
            rx.el.label(
                rx.text(
                    rx.cond(
                        ContactsState.all_bots, "All bots", "This bot: " + BotScopeState.bot_name
                    ),
                    size="2",
                    as_="span",
                ),
                html_for="all-bots",
            ),
            align="center",
            spacing="2",
        ),
        rx.spacer(display=["none", "none", "block"]),
        rx.hstack(
            rx.button(
                rx.icon("download", size=16),
                "Export CSV",
                variant="soft",
                on_click=ContactsState.export,
                id="export-contacts",
            ),
            rx.cond(
                ContactsState.can_edit_contacts,
                rx.button(
                    rx.icon("plus", size=16),
                    "Add contact",
                    on_click=ContactsState.open_add,
                    id="add-contact",
                ),
            ),
            spacing="2",
        ),
        spacing="3",
        wrap="wrap",
        align="center",
        width="100%",
        margin_bottom="1em",
    )


def delete_button(row: ContactView) -> rx.Component:
    return delete_with_confirmation(
        what="contact",
        title="Delete " + rx.cond(row.name != "", row.name, row.email) + "?",
        description="The contact is removed; their conversations stay in Activity, unlinked.",
        on_confirm=ContactsState.delete(row.id),
        button_class="delete-contact",
        confirm_props={"class_name": "confirm-delete-contact"},
    )


def row_actions(row: ContactView) -> rx.Component:
    return rx.hstack(
        rx.icon_button(
            rx.icon("eye", size=16),
            variant="ghost",
            aria_label="Show contact",
            title="Show",
            on_click=ContactsState.open_detail(row.id),
            class_name="show-contact",
        ),
        rx.cond(
            ContactsState.can_edit_contacts,
            rx.icon_button(
                rx.icon("pencil", size=16),
                variant="ghost",
                aria_label="Edit contact",
                title="Edit",
                on_click=ContactsState.open_edit(row.id),
                class_name="edit-contact",
            ),
        ),
        rx.cond(AuthState.is_manager, delete_button(row)),
        spacing="3",
        justify="end",
    )


def contact_row(row: ContactView) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.link(
                rx.cond(row.name != "", row.name, "(no name)"),
                on_click=ContactsState.open_detail(row.id),
                cursor="pointer",
                class_name="contact-name",
            ),
            rx.text(row.email, size="1", color_scheme="gray", class_name="contact-email"),
            white_space="nowrap",
        ),
        rx.table.cell(row.phone, display=WIDE_ONLY, white_space="nowrap"),
        rx.table.cell(row.external_id, display=WIDE_ONLY),
        rx.table.cell(
            rx.cond(row.bot_name != "", row.bot_name, "(deleted)"),
            display=WIDE_ONLY,
            white_space="nowrap",
        ),
        rx.table.cell(row.first_day, display=WIDE_ONLY, white_space="nowrap", title=row.first_seen),
        rx.table.cell(row.last_seen, display=WIDE_ONLY, white_space="nowrap"),
        rx.table.cell(
            row.conversations, display=WIDE_ONLY, text_align="right", class_name="contact-chats"
        ),
        rx.table.cell(row_actions(row)),
        class_name="contact-row",
    )


def header_cell(label: str, **props) -> rx.Component:
    return rx.table.column_header_cell(label, white_space="nowrap", **props)


def contacts_table() -> rx.Component:
    return rx.box(
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    header_cell("Name and email"),
                    header_cell("Phone", display=WIDE_ONLY),
                    header_cell("ID", display=WIDE_ONLY),
                    header_cell("Bot", display=WIDE_ONLY),
                    header_cell("First seen", display=WIDE_ONLY),
                    header_cell("Last seen", display=WIDE_ONLY),
                    header_cell("Chats", display=WIDE_ONLY, title="Conversations"),
                    header_cell(visually_hidden("Actions")),
                )
            ),
            rx.table.body(rx.foreach(ContactsState.rows, contact_row)),
            width="100%",
            size="2",
            id="contacts-table",
        ),
        overflow_x="auto",
        width="100%",
        # Its width never comes from the table: a wide table scrolls here instead of widening
        # the page (the dashboard's flex column would otherwise grow to fit it).
        contain="inline-size",
    )


def pager() -> rx.Component:
    return rx.hstack(
        rx.text(ContactsState.range_label, size="2", color_scheme="gray", id="contact-range"),
        rx.spacer(),
        rx.button(
            rx.icon("chevron-left", size=16),
            "Previous",
            variant="soft",
            size="1",
            disabled=ContactsState.page <= 1,
            on_click=ContactsState.previous_page,
            id="contacts-previous",
        ),
        rx.text(
            "Page " + ContactsState.page.to_string() + " of " + ContactsState.pages.to_string(),
            size="2",
        ),
        rx.button(
            "Next",
            rx.icon("chevron-right", size=16),
            variant="soft",
            size="1",
            disabled=ContactsState.page >= ContactsState.pages,
            on_click=ContactsState.next_page,
            id="contacts-next",
        ),
        align="center",
        width="100%",
        margin_top="1em",
    )


def empty_state() -> rx.Component:
    return rx.callout(
        rx.cond(
            ContactsState.search != "",
            "No contact matches your search.",
            "No contacts yet. Visitors the widget identifies appear here, and you can add people "
            "by hand.",
        ),
        icon="info",
        id="no-contacts",
        margin_top="1em",
    )


@rx.page(
    route="/contacts",
    title="Contacts - Chatapp",
    on_load=[AuthState.require_login, BotScopeState.load_bots, ContactsState.open_page],
)
def contacts_page() -> rx.Component:
    return bot_section(
        rx.text(
            "The people your bots talked to or you added. Contacts belong to the workspace; the "
            "Bot column says which bot met them first.",
            color_scheme="gray",
            size="2",
            margin_bottom="1em",
        ),
        toolbar(),
        rx.cond(ContactsState.total > 0, rx.fragment(contacts_table(), pager()), empty_state()),
        editor_dialog(),
        detail_dialog(),
        title="Contacts",
    )
