"""The Contacts page's two dialogs: the add/edit form, whose errors stand next to their fields,
and a contact's detail with the conversations linked to them."""

from __future__ import annotations

import reflex as rx

from chatapp.state.contacts import ContactsState, ConversationView


def form_field(label: str, name: str, error: rx.Var, default: rx.Var, **props) -> rx.Component:
    """A labelled input with its own error line underneath (ids: contact-<name>[-error])."""
    field_id = "contact-" + name.replace("_", "-")
    return rx.vstack(
        # rx.el.label: Radix's Text would turn html_for into a CSS property, unlinking the label.
        rx.el.label(rx.text(label, size="2", weight="medium", as_="span"), html_for=field_id),
        rx.input(name=name, id=field_id, default_value=default, width="100%", **props),
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
            rx.dialog.title(rx.cond(ContactsState.editing_id != 0, "Edit contact", "Add contact")),
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


def detail_dialog() -> rx.Component:
    detail = ContactsState.detail
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(detail.name != "", detail.name, detail.email)),
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
            rx.heading("Conversations", size="3", margin_top="1em", margin_bottom="0.5em"),
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
                rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray")),
                justify="end",
                margin_top="1em",
            ),
            max_width="640px",
            id="contact-detail",
        ),
        open=ContactsState.detail_open,
        on_open_change=ContactsState.set_detail_open,
    )
