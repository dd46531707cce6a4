"""The Team page: members, their roles, adding and removing people."""

from __future__ import annotations

import reflex as rx

from chatapp.components.a11y import H2_TITLE, return_focus, visually_hidden
from chatapp.components.audit_log import audit_log_section
from chatapp.components.layout import dashboard
from chatapp.components.team_invitations import invitations_card
from chatapp.state.auth import AuthState
from chatapp.state.invitations import InvitationsState
from chatapp.state.team import MemberRow, TeamState

ROLES = ["owner", "admin", "agent", "viewer"]


def role_cell(member: MemberRow) -> rx.Component:
    return rx.cond(
        AuthState.is_manager,
        rx.select(
            ROLES,
            value=member.role,
            size="1",
            on_change=lambda role: TeamState.change_role(member.user_id, role),
            custom_attrs={"aria-label": "Role of " + member.email},
        ),
        rx.badge(member.role),
    )


def remove_button(member: MemberRow) -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(
            rx.icon_button(
                rx.icon("user-minus", size=16),
                variant="ghost",
                color_scheme="red",
                aria_label="Remove member",
                title="Remove",
            )
        ),
        rx.alert_dialog.content(
            rx.alert_dialog.title("Remove " + member.email + "?", custom_attrs=H2_TITLE),
            rx.alert_dialog.description("They lose access to this workspace at once."),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(
                    rx.button(
                        "Remove",
                        color_scheme="red",
                        high_contrast=True,
                        on_click=TeamState.remove(member.user_id),
                    )
                ),
                justify="end",
                spacing="3",
                margin_top="1em",
            ),
            **return_focus(),
        ),
    )


def add_member_form() -> rx.Component:
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("Add a member", size="3", as_="h2"),
                rx.text(
                    "New people need an initial password; they can change it on their "
                    "Account page.",
                    size="2",
                    color_scheme="gray",
                ),
                rx.flex(
                    rx.input(
                        name="email",
                        type="email",
                        placeholder="Email",
                        required=True,
                        aria_label="Email",
                    ),
                    rx.input(name="name", placeholder="Name (optional)", aria_label="Name"),
                    rx.input(
                        name="password",
                        type="password",
                        placeholder="Initial password",
                        aria_label="Initial password",
                    ),
                    rx.select(
                        ROLES,
                        name="role",
                        default_value="agent",
                        custom_attrs={"aria-label": "Role"},
                    ),
                    rx.button("Add", type="submit"),
                    spacing="2",
                    wrap="wrap",
                ),
            ),
            on_submit=TeamState.add,
            reset_on_submit=True,
        ),
        margin_bottom="1em",
    )


@rx.page(
    route="/team",
    title="Team - Chatapp",
    on_load=[AuthState.require_login, TeamState.load, InvitationsState.load_invitations],
)
def team_page() -> rx.Component:
    return dashboard(
        rx.text(
            "Owners and admins manage members, bots and settings; agents handle "
            "conversations; viewers read.",
            color_scheme="gray",
            margin_bottom="1em",
        ),
        rx.cond(AuthState.is_manager, invitations_card()),
        rx.cond(AuthState.is_manager, add_member_form()),
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    rx.table.column_header_cell("Email"),
                    rx.table.column_header_cell("Name"),
                    rx.table.column_header_cell("Role"),
                    rx.table.column_header_cell("Joined"),
                    rx.table.column_header_cell(visually_hidden("Actions")),
                )
            ),
            rx.table.body(
                rx.foreach(
                    TeamState.members,
                    lambda m: rx.table.row(
                        rx.table.cell(m.email),
                        rx.table.cell(m.name),
                        rx.table.cell(role_cell(m)),
                        rx.table.cell(m.joined),
                        rx.table.cell(rx.cond(AuthState.is_manager, remove_button(m))),
                    ),
                )
            ),
            width="100%",
        ),
        rx.cond(AuthState.is_manager, audit_log_section()),
        title="Team",
    )
