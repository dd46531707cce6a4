"""The "Audit log" table: one row per admin change, with paging."""

from __future__ import annotations

import reflex as rx

from chatapp.state.audit import AuditRow, AuditState


def _row(row: AuditRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row.when, white_space="nowrap"),
        rx.table.cell(row.actor),
        rx.table.cell(rx.code(row.action)),
        rx.table.cell(row.target),
        rx.table.cell(row.changes, class_name="audit-changes"),
    )


def audit_log_section() -> rx.Component:
    return rx.vstack(
        rx.heading("Audit log", size="5", id="audit-log", as_="h2"),
        rx.text(
            "Who changed what in this workspace. Keys, tokens and passwords are shown as ***.",
            color_scheme="gray",
            size="2",
        ),
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    rx.table.column_header_cell("When"),
                    rx.table.column_header_cell("Who"),
                    rx.table.column_header_cell("Action"),
                    rx.table.column_header_cell("Target"),
                    rx.table.column_header_cell("Changes"),
                )
            ),
            rx.table.body(rx.foreach(AuditState.audit_rows, _row)),
            width="100%",
            id="audit-table",
        ),
        rx.flex(
            rx.button(
                "Newer",
                on_click=AuditState.previous_audit_page,
                disabled=AuditState.audit_page <= 1,
                variant="soft",
                id="audit-newer",
            ),
            rx.text(
                f"Page {AuditState.audit_page} of {AuditState.audit_pages}",
                size="2",
                id="audit-page",
            ),
            rx.button(
                "Older",
                on_click=AuditState.next_audit_page,
                disabled=AuditState.audit_page >= AuditState.audit_pages,
                variant="soft",
                id="audit-older",
            ),
            spacing="3",
            align="center",
        ),
        width="100%",
        spacing="3",
        padding_top="2em",
    )
