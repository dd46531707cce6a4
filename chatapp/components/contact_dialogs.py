"""The Contacts page's two dialogs: the add/edit form, whose errors stand next to their fields,
and a contact's detail with the conversations linked to them."""

from __future__ import annotations

import reflex as rx

from chatapp.components.a11y import H2_TITLE, describe_errors, return_focus
from chatapp.state.auth import AuthState
from chatapp.state.contacts import ContactsState, ConversationView


def form_field(label: str, name: str, error: rx.Var, default: rx.Var, **props) -> rx.Component:
    """A labelled input with its own error line underneath (ids: contact-<name>[-error])."""
    field_id = "contact-" + name.replace("_", "-")
    return rx.vstack(
        # rx.el.label: Radix's Text would turn html_for into a CSS property, unlinking the label.
        rx.el.label(rx.text(label, size="2", weight="medium", as_="span"), html_for=field_id),
        describe_errors(
            rx.input(name=name, id=field_id, default_value=default, width="100%", **props),
            field_id + "-error",
            error != "",
        ),
        rx.cond(
            error != "",
            rx.text(error, color_scheme="red", size="1", id=field_id + "-error", role="alert"),
        ),
        spacing="1",
        width="100%",
    )


def editor_dialog() -> rx.Component:
    draft = ContactsState.draft
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(
                rx.cond(ContactsState.editing_id != 0, "Edit contact", "Add contact"),
                custom_attrs=H2_TITLE,
            ),
            rx.form(
                rx.vstack(
                    form_field("Name", "name", ContactsState.name_error, draft.name),
                    form_field(
                        "Email",
                        "email",
                        ContactsState.email_error,
                        draft.email,
                        type="email",
                        placeholder="name@example.com",
                    ),
                    form_field(
                        "Phone",
                        "phone",
                        ContactsState.phone_error,
                        draft.phone,
                        type="tel",
                        placeholder="+1 555 123 4567",
                    ),
                    form_field(
                        "ID in your systems (optional)",
                        "external_id",
                        ContactsState.external_id_error,
                        draft.external_id,
                        placeholder="e.g. your CRM's customer id",
                    ),
                    rx.hstack(
                        rx.dialog.close(
                            rx.button("Cancel", variant="soft", color_scheme="gray", type="button")
                        ),
                        rx.button("Save", type="submit", id="contact-save"),
                        justify="end",
                        width="100%",
                    ),
                    spacing="3",
                ),
                on_submit=ContactsState.save,
                no_validate=True,  # our own messages, next to each field, in every browser
            ),
            max_width="460px",
            **return_focus(),
        ),
        open=ContactsState.editor_open,
        on_open_change=ContactsState.set_editor_open,
    )


def detail_item(label: str, value: rx.Var) -> rx.Component:
    return rx.data_list.item(
        rx.data_list.label(label), rx.data_list.value(rx.cond(value != "", value, "-"))
    )


def linked_conversation(item: ConversationView) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.flex(
                rx.badge(item.channel),
                rx.text(item.started, size="2", weight="medium"),
                rx.text(
                    rx.cond(
                        item.messages == 1, "1 message", item.messages.to_string() + " messages"
                    ),
                    size="2",
                    color_scheme="gray",
                ),
                rx.text(item.bot_name, size="2", color_scheme="gray"),
                spacing="2",
                wrap="wrap",
                align="center",
            ),
            rx.text(
                rx.cond(item.preview != "", item.preview, "(no visitor message)"),
                size="2",
                class_name="conversation-preview",
            ),
            spacing="1",
        ),
        width="100%",
        class_name="linked-conversation",
    )


def erase_button() -> rx.Component:
    """Erase after a confirmation that names the person and what goes with them."""
    detail = ContactsState.detail
    who = rx.cond(detail.name != "", detail.name, detail.email)
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(
            rx.button(
                rx.icon("eraser", size=16),
                "Erase all data",
                color_scheme="red",
                variant="soft",
                id="erase-contact-data",
            )
        ),
        rx.alert_dialog.content(
            rx.alert_dialog.title("Erase all data of " + who + "?", custom_attrs=H2_TITLE),
            rx.alert_dialog.description(
                "This deletes the contact, their "
                + ContactsState.detail_conversations.length().to_string()
                + " linked conversations with every message, and the action runs of those "
                "conversations. It cannot be undone: download the data first if you need it."
            ),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(
                    rx.button(
                        "Erase",
                        color_scheme="red",
                        high_contrast=True,
                        on_click=ContactsState.erase(detail.id),
                        id="confirm-erase-contact",
                    )
                ),
                justify="end",
                spacing="3",
                margin_top="1em",
            ),
            **return_focus(),
        ),
    )


def detail_dialog() -> rx.Component:
    detail = ContactsState.detail
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(
                rx.cond(detail.name != "", detail.name, detail.email),
                custom_attrs=H2_TITLE,
            ),
            rx.data_list.root(
                detail_item("Email", detail.email),
                detail_item("Phone", detail.phone),
                detail_item("ID", detail.external_id),
                detail_item("Source bot", detail.bot_name),
                detail_item("First seen", detail.first_seen),
                detail_item("Last seen", detail.last_seen),
                orientation=rx.breakpoints(initial="vertical", sm="horizontal"),
                size="2",
            ),
            rx.heading(
                "Conversations", size="3", margin_top="1em", margin_bottom="0.5em", as_="h3"
            ),
            rx.cond(
                ContactsState.detail_conversations.length() > 0,
                rx.vstack(
                    rx.foreach(ContactsState.detail_conversations, linked_conversation),
                    spacing="2",
                    id="contact-conversations",
                ),
                rx.text("No conversations linked yet.", size="2", color_scheme="gray"),
            ),
            rx.hstack(
                rx.button(
                    rx.icon("download", size=16),
                    "Download data",
                    variant="soft",
                    on_click=ContactsState.download_data(detail.id),
                    id="download-contact-data",
                ),
                rx.cond(AuthState.is_manager, erase_button()),
                rx.spacer(),
                rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray")),
                margin_top="1em",
                width="100%",
            ),
            max_width="640px",
            id="contact-detail",
            **return_focus(),
        ),
        open=ContactsState.detail_open,
        on_open_change=ContactsState.set_detail_open,
    )
