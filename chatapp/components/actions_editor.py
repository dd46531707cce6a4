"""The Actions editor dialog: common fields, the kind's own fields, errors, and the Test button."""

from __future__ import annotations

import reflex as rx

from chatapp.components.a11y import H2_TITLE, return_focus
from chatapp.state.actions import ActionsState


def field(label: str, name: str, default, *, area: bool = False, **props) -> rx.Component:
    field_id = "action-" + name.replace("_", "-")
    widget = rx.text_area if area else rx.input
    return rx.vstack(
        rx.el.label(rx.text(label, size="2", weight="medium", as_="span"), html_for=field_id),
        widget(name=name, id=field_id, default_value=default, width="100%", **props),
        spacing="1",
        width="100%",
    )


def checkbox(label: str, name: str, checked) -> rx.Component:
    return rx.el.label(
        rx.hstack(
            rx.el.input(
                type="checkbox",
                name=name,
                id="action-" + name.replace("_", "-"),
                default_checked=checked,
            ),
            rx.text(label, size="2", as_="span"),
            spacing="2",
            align="center",
        )
    )


def common_fields() -> rx.Component:
    d = ActionsState.draft
    return rx.vstack(
        field("Name", "name", d.name),
        field("When to use it (the model reads this)", "description", d.description, area=True),
        field("Rule: keywords (comma-separated, whole words)", "keywords", d.keywords),
        field("Rule: phrases (comma-separated)", "phrases", d.phrases),
        checkbox("Rule: when the bot cannot answer", "on_fallback", d.on_fallback),
        spacing="3",
        width="100%",
    )


def http_fields() -> rx.Component:
    d = ActionsState.draft
    return rx.vstack(
        rx.el.label(
            rx.text("Method", size="2", weight="medium", as_="span"), html_for="action-method"
        ),
        rx.el.select(
            *[rx.el.option(m, value=m) for m in ("GET", "POST", "PUT", "PATCH", "DELETE")],
            name="method",
            id="action-method",
            default_value=d.method,
        ),
        field("URL template", "url", d.url, placeholder="https://api.shop.com/orders/{order_id}"),
        field("Parameters (JSON schema)", "parameters", d.parameters, area=True, rows="8"),
        field("Header name (optional)", "header_name", d.header_name),
        field(
            rx.cond(d.header_saved, "Header value (saved; leave empty to keep)", "Header value"),
            "header_value",
            d.header_value,
            type="password",
        ),
        checkbox(
            "The header value is a secret (stored encrypted)", "header_secret", d.header_secret
        ),
        field("Timeout (seconds)", "timeout_seconds", d.timeout_seconds),
        field("Largest answer (bytes)", "max_response_bytes", d.max_response_bytes),
        field("Response path (e.g. data.status)", "response_path", d.response_path),
        field("Answer template (offline)", "answer_template", d.answer_template),
        spacing="3",
        width="100%",
    )


def kind_fields() -> rx.Component:
    d = ActionsState.draft
    return rx.match(
        ActionsState.editing_kind,
        (
            "link",
            rx.vstack(
                field("Button label", "label", d.label),
                field("Address", "url", d.url),
                spacing="3",
                width="100%",
            ),
        ),
        ("http", http_fields()),
        (
            "collect_lead",
            rx.vstack(
                field("Form title", "title", d.title),
                field(
                    "Fields (name, email, phone, message; * = required)",
                    "lead_fields",
                    d.lead_fields,
                ),
                field("Thank-you message", "success_message", d.success_message),
                field("Webhook to notify (optional)", "webhook_url", d.webhook_url),
                spacing="3",
                width="100%",
            ),
        ),
        (
            "handoff",
            rx.vstack(
                field("Button label", "button_label", d.button_label),
                field("Phrases that ask for a person", "handoff_phrases", d.handoff_phrases),
                field(
                    "Hand over after this many fallbacks in a row (0 = never)",
                    "fallback_threshold",
                    d.fallback_threshold,
                ),
                field("Offer the lead form after (minutes)", "wait_minutes", d.wait_minutes),
                field("Connecting message", "connecting_message", d.connecting_message),
                field("Nobody available message", "unavailable_message", d.unavailable_message),
                spacing="3",
                width="100%",
            ),
        ),
        rx.fragment(),
    )


def test_panel() -> rx.Component:
    return rx.vstack(
        rx.heading("Test", size="3", as_="h3"),
        rx.cond(
            ActionsState.editing_kind == "http",
            rx.text_area(
                value=ActionsState.test_input,
                on_change=ActionsState.set_test_input,
                id="action-test-input",
                aria_label="Sample parameters (JSON)",
                width="100%",
            ),
        ),
        rx.button(
            "Test",
            type="button",
            variant="soft",
            on_click=ActionsState.test,
            disabled=ActionsState.editing_new,
            id="action-test",
        ),
        rx.cond(
            ActionsState.editing_new,
            rx.text(
                "Save the action to test it.", size="1", color_scheme="gray", id="action-test-note"
            ),
        ),
        rx.cond(
            ActionsState.test_outcome != "",
            rx.callout(
                ActionsState.test_outcome + ": " + ActionsState.test_message,
                icon=rx.cond(ActionsState.test_outcome == "ok", "check", "triangle-alert"),
                color_scheme=rx.cond(ActionsState.test_outcome == "ok", "green", "red"),
                id="action-test-result",
                width="100%",
            ),
        ),
        spacing="2",
        width="100%",
    )


def editor_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(
                rx.cond(ActionsState.editing_new, "New action: ", "Edit action: "),
                ActionsState.editing_label,
                custom_attrs=H2_TITLE,
            ),
            rx.form(
                rx.vstack(
                    rx.cond(
                        ActionsState.errors.length() > 0,
                        rx.callout(
                            rx.vstack(rx.foreach(ActionsState.errors, rx.text), spacing="1"),
                            icon="triangle-alert",
                            color_scheme="red",
                            id="action-errors",
                            role="alert",
                            width="100%",
                        ),
                    ),
                    common_fields(),
                    kind_fields(),
                    rx.hstack(
                        rx.dialog.close(
                            rx.button("Close", variant="soft", color_scheme="gray", type="button")
                        ),
                        rx.button("Save", type="submit", id="action-save"),
                        justify="end",
                        width="100%",
                    ),
                    spacing="3",
                ),
                on_submit=ActionsState.save,
                no_validate=True,
            ),
            rx.divider(margin_y="1em"),
            test_panel(),
            max_width="640px",
            **return_focus(),
        ),
        open=ActionsState.editor_open,
        on_open_change=ActionsState.set_editor_open,
    )
