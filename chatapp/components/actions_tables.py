"""The Actions page's tables: the bot's actions (enable, edit, delete) and the run log."""

from __future__ import annotations

import reflex as rx

from chatapp.components.a11y import visually_hidden
from chatapp.components.confirm import delete_with_confirmation
from chatapp.state.actions import ActionRow, ActionsState, RunRow


def action_row(row: ActionRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(row.name, weight="medium"), rx.text(row.kind_label, size="1")),
        rx.table.cell(rx.text(row.summary, size="2", class_name="action-summary")),
        rx.table.cell(
            rx.switch(
                checked=row.enabled,
                on_change=lambda value: ActionsState.set_enabled(row.id, value),
                disabled=~ActionsState.can_edit_actions,
                aria_label="Enabled: " + row.name,
                class_name="action-enabled",
            )
        ),
        rx.table.cell(
            rx.hstack(
                rx.button(
                    "Edit / Test",
                    size="1",
                    variant="soft",
                    class_name="action-edit",
                    on_click=ActionsState.open_edit(row.id),
                ),
                rx.cond(
                    ActionsState.can_edit_actions,
                    delete_with_confirmation(
                        what="action",
                        title="Delete " + row.name + "?",
                        description="The action and its run log are deleted.",
                        on_confirm=ActionsState.delete(row.id),
                        button_class="action-delete",
                        confirm_props={"class_name": "action-delete-confirm"},
                    ),
                ),
                spacing="2",
            )
        ),
        class_name="action-row",
    )


def actions_table() -> rx.Component:
    return rx.table.root(
        rx.table.header(
            rx.table.row(
                *[rx.table.column_header_cell(h) for h in ("Action", "What", "Enabled")],
                rx.table.column_header_cell(visually_hidden("Actions")),
            )
        ),
        rx.table.body(rx.foreach(ActionsState.rows, action_row)),
        width="100%",
        id="actions-table",
    )


def run_row(row: RunRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row.time),
        rx.table.cell(row.action),
        rx.table.cell(row.conversation),
        rx.table.cell(row.trigger),
        rx.table.cell(rx.code(row.input, size="1")),
        rx.table.cell(
            rx.badge(
                row.outcome,
                color_scheme=rx.cond(row.outcome == "ok", "green", "red"),
                high_contrast=True,
            )
        ),
        rx.table.cell(rx.text(rx.cond(row.error != "", row.error, row.output), size="1")),
        class_name="run-row",
    )


def runs_table() -> rx.Component:
    headers = ("Time", "Action", "Conversation", "Trigger", "Input", "Outcome", "Result / error")
    return rx.cond(
        ActionsState.run_rows.length() > 0,
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
            rx.table.body(rx.foreach(ActionsState.run_rows, run_row)),
            width="100%",
            id="runs-table",
        ),
        rx.text("No runs yet.", color_scheme="gray", size="2", id="no-runs"),
    )
