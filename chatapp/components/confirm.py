"""A trash button that deletes only once the user confirms (bots, sources, contacts)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from chatapp.components.a11y import H2_TITLE, return_focus


def delete_with_confirmation(
    *,
    what: str,
    title: Any,
    description: Any,
    on_confirm: Any,
    button_class: str,
    confirm_props: dict[str, Any],
) -> rx.Component:
    """`what` names the thing for screen readers ("Delete source"); `confirm_props` gives the
    confirming button its test hooks (id or class_name)."""
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(
            rx.icon_button(
                rx.icon("trash-2", size=16),
                variant="ghost",
                color_scheme="red",
                aria_label=f"Delete {what}",
                title="Delete",
                class_name=button_class,
            )
        ),
        rx.alert_dialog.content(
            rx.alert_dialog.title(title, custom_attrs=H2_TITLE),
            rx.alert_dialog.description(description),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(
                    rx.button(
                        "Delete",
                        color_scheme="red",
                        high_contrast=True,  # white on red 9 is 3.9:1, under the 4.5 text needs
                        on_click=on_confirm,
                        **confirm_props,
                    )
                ),
                justify="end",
                spacing="3",
                margin_top="1em",
            ),
            **return_focus(),  # back to the trash button, or to the page when its row is gone
        ),
    )
