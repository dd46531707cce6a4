"""Small pieces every dashboard form uses: a label tied to its field, and the field's problem."""

from __future__ import annotations

import reflex as rx


def field_error(message, field_id: str) -> rx.Component:
    """A form field's problem, right under it (and announced to screen readers)."""
    return rx.cond(
        message != "",
        rx.text(message, size="1", color_scheme="red", id=f"{field_id}-error", role="alert"),
    )


def field_label(text, field_id: str, size: str = "2", **props) -> rx.Component:
    """A real <label for=...> (Radix Text with html_for would turn it into a CSS property)."""
    return rx.el.label(rx.text(text, size=size, as_="span", **props), html_for=field_id)
