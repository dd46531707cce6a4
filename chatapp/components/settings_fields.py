"""Form pieces of the Settings section, bound to SettingsState: a field with its label and its
error, read-only for roles that cannot save, and a form whose save button only managers see."""

from __future__ import annotations

import reflex as rx

from chatapp.components.a11y import describe_errors
from chatapp.components.forms import field_label
from chatapp.state.settings import SettingsState as S

READ_ONLY = ~S.is_manager


def error_text(field: str) -> rx.Component:
    return rx.cond(
        S.errors.contains(field),
        rx.text(S.errors[field], color_scheme="red", size="2", id=f"error-{field}", role="alert"),
    )


def labelled(label: str, control: rx.Component, field: str, hint: str = "") -> rx.Component:
    return rx.vstack(
        field_label(label, f"field-{field}", weight="medium"),
        control,
        *([rx.text(hint, size="1", color_scheme="gray")] if hint else []),
        error_text(field),
        spacing="1",
        width="100%",
    )


def text_input(field: str, **props) -> rx.Component:
    return _described(
        field,
        rx.input(
            value=getattr(S, field),
            on_change=lambda value: S.set_field(field, value),
            read_only=READ_ONLY,
            id=f"field-{field}",
            name=field,
            width="100%",
            color_scheme=rx.cond(S.errors.contains(field), "red", "gray"),
            **props,
        ),
    )


def text_box(field: str, rows: str = "3", **props) -> rx.Component:
    return _described(
        field,
        rx.text_area(
            value=getattr(S, field),
            on_change=lambda value: S.set_field(field, value),
            read_only=READ_ONLY,
            id=f"field-{field}",
            name=field,
            rows=rows,
            width="100%",
            **props,
        ),
    )


def _described(field: str, control: rx.Component) -> rx.Component:
    return describe_errors(control, f"error-{field}", S.errors.contains(field))


def save_button(label: str, button_id: str) -> rx.Component:
    """Submits its `settings_form`: the handler gets the values on screen with the click."""
    return rx.cond(S.is_manager, rx.button(label, type="submit", id=button_id))


def settings_form(handler, *children: rx.Component, **props) -> rx.Component:
    """A form whose save reads the fields' values from the submit itself, not from state the
    inputs' (debounced) changes may not have reached yet when the button is clicked."""
    return rx.form(
        rx.vstack(*children, spacing=props.pop("spacing", "3"), width="100%", **props),
        on_submit=handler,
        # Our own messages next to the fields, not the browser's bubbles (min/max of numbers).
        no_validate=True,
        width="100%",
    )


def section(title: str, *children: rx.Component, **props) -> rx.Component:
    return rx.card(
        rx.vstack(rx.heading(title, size="4", as_="h2"), *children, spacing="3", width="100%"),
        width="100%",
        **props,
    )
