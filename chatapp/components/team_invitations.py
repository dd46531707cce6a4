"""The Team page's "Invite someone" card: a role and an optional email make a one-use link,
shown once to copy; below it, the pending invitations, each of which can be withdrawn."""

from __future__ import annotations

import reflex as rx

from chatapp.components.forms import field_error, field_label
from chatapp.state.auth import AuthState
from chatapp.state.invitations import InvitationRow, InvitationsState

MANAGER_ROLES = ["admin", "agent", "viewer"]


def _role_select() -> rx.Component:
    return rx.cond(
        AuthState.role == "owner",
        rx.select(
            ["owner", *MANAGER_ROLES], name="invite_role", default_value="agent", id="invite-role"
        ),
        rx.select(MANAGER_ROLES, name="invite_role", default_value="agent", id="invite-role"),
    )


def _form() -> rx.Component:
    return rx.form(
        rx.flex(
            rx.vstack(
                field_label("Email (optional)", "invite-email"),
                rx.input(
                    name="invite_email",
                    id="invite-email",
                    type="email",
                    placeholder="name@example.com",
                ),
                field_error(InvitationsState.errors.get("email", ""), "invite-email"),
                spacing="1",
            ),
            rx.vstack(
                field_label("Role", "invite-role"),
                _role_select(),
                field_error(InvitationsState.errors.get("role", ""), "invite-role"),
                spacing="1",
            ),
            rx.button("Create invitation link", type="submit", id="invite-create"),
            spacing="3",
            wrap="wrap",
            align="end",
        ),
        on_submit=InvitationsState.invite,
        reset_on_submit=True,
    )


def _new_link() -> rx.Component:
    """The link just made, full width to read and copy (a callout sizes itself to its text)."""
    background = rx.cond(
        InvitationsState.new_link_failed, rx.color("orange", 3), rx.color("green", 3)
    )
    return rx.cond(
        InvitationsState.new_link != "",
        rx.vstack(
            rx.text("Invitation link (shown only now):", weight="medium", size="2"),
            rx.flex(
                rx.input(
                    value=InvitationsState.new_link,
                    read_only=True,
                    id="invite-link",
                    aria_label="Invitation link",
                    flex_grow="1",
                    min_width="16em",
                ),
                rx.button(
                    rx.icon("copy", size=14),
                    "Copy link",
                    id="invite-copy",
                    on_click=[
                        rx.set_clipboard(InvitationsState.new_link),
                        rx.toast.success("Invitation link copied."),
                    ],
                ),
                spacing="2",
                width="100%",
                wrap="wrap",
            ),
            rx.text("It works once, until ", InvitationsState.new_link_expires, ".", size="2"),
            rx.text(InvitationsState.new_link_note, size="2", id="invite-note"),
            spacing="2",
            width="100%",
            padding="12px",
            border_radius="8px",
            background=background,
            id="invite-result",
            role="status",
        ),
    )


def _row(row: InvitationRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row.email),
        rx.table.cell(row.role),
        rx.table.cell(row.invited_by),
        rx.table.cell(row.expires, white_space="nowrap"),
        rx.table.cell(
            rx.button(
                "Withdraw",
                size="1",
                variant="soft",
                color_scheme="red",
                class_name="invite-revoke",
                aria_label="Withdraw the invitation for " + row.email,
                on_click=InvitationsState.revoke(row.id),
            )
        ),
    )


def _pending() -> rx.Component:
    return rx.cond(
        InvitationsState.invitations.length() > 0,
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    rx.table.column_header_cell("Invited"),
                    rx.table.column_header_cell("Role"),
                    rx.table.column_header_cell("By"),
                    rx.table.column_header_cell("Expires"),
                    rx.table.column_header_cell("Withdraw"),
                )
            ),
            rx.table.body(rx.foreach(InvitationsState.invitations, _row)),
            width="100%",
            id="invitations-table",
        ),
        rx.text("No pending invitations.", size="2", color_scheme="gray"),
    )


def invitations_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Invite someone", size="3", as_="h2"),
            rx.text(
                "Make a link that lets one person join with the role you choose; they set their "
                "own password. With an email, only that person can use it (and it is mailed to "
                "them when the installation has an email server).",
                size="2",
                color_scheme="gray",
            ),
            _form(),
            _new_link(),
            _pending(),
            spacing="3",
            width="100%",
        ),
        margin_bottom="1em",
        id="invitations",
    )
