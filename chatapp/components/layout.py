"""The dashboard frame: a sidebar with the workspace switcher and the sections that work."""

from __future__ import annotations

import reflex as rx

from chatapp.components.session_forms import end_session_form
from chatapp.state.auth import AuthState
from chatapp.state.bot_scope import BotScopeState
from chatapp.state.inbox import InboxBadgeState

# (label, route, icon). Bot sections work on the bot chosen in the sidebar's bot switcher.
BOT_SECTIONS = [
    ("Playground", "/playground", "message-square"),
    ("Activity", "/activity", "list"),
    ("Analytics", "/analytics", "chart-column"),
    ("Sources", "/sources", "database"),
    ("Contacts", "/contacts", "contact"),
    ("Actions", "/actions", "zap"),
    ("Connect", "/connect", "code"),
    ("Settings", "/settings", "settings"),
]
WORKSPACE_SECTIONS = [
    ("Bots", "/", "bot"),
    ("Team", "/team", "users"),
    ("Account", "/account", "user-cog"),
]


def nav_link(label: str, route: str, icon: str) -> rx.Component:
    active = AuthState.router.page.path == route
    return rx.link(
        rx.hstack(rx.icon(icon, size=18), rx.text(label, size="3"), spacing="3", align="center"),
        href=route,
        underline="none",
        color=rx.cond(active, rx.color("accent", 11), rx.color("gray", 12)),
        background=rx.cond(active, rx.color("accent", 3), "transparent"),
        padding_x="0.75em",
        padding_y="0.5em",
        border_radius="0.5em",
        width="100%",
        id=f"nav-{label.lower()}",
    )


def inbox_link() -> rx.Component:
    """Inbox, with the number of conversations waiting for a person (kept live)."""
    active = AuthState.router.page.path == "/inbox"
    handler = (AuthState.role == "agent") | (AuthState.role == "admin")
    return rx.cond(
        handler | (AuthState.role == "owner"),  # mounted once the role is known
        rx.link(
            rx.hstack(
                rx.icon("inbox", size=18),
                rx.text("Inbox", size="3"),
                rx.spacer(),
                rx.cond(
                    InboxBadgeState.pending > 0,
                    rx.badge(
                        InboxBadgeState.pending,
                        color_scheme="orange",
                        radius="full",
                        id="inbox-badge",
                    ),
                ),
                spacing="3",
                align="center",
                width="100%",
                on_mount=InboxBadgeState.follow,
            ),
            href="/inbox",
            underline="none",
            color=rx.cond(active, rx.color("accent", 11), rx.color("gray", 12)),
            background=rx.cond(active, rx.color("accent", 3), "transparent"),
            padding_x="0.75em",
            padding_y="0.5em",
            border_radius="0.5em",
            width="100%",
            id="nav-inbox",
        ),
    )


def workspace_switcher() -> rx.Component:
    return rx.vstack(
        rx.text("Workspace", size="1", color_scheme="gray"),
        rx.select.root(
            rx.select.trigger(width="100%", id="workspace-switcher"),
            rx.select.content(
                rx.foreach(
                    AuthState.workspace_options,
                    lambda option: rx.select.item(option.name, value=option.id),
                )
            ),
            value=AuthState.workspace_id,
            on_change=AuthState.switch_workspace,
        ),
        new_workspace_dialog(),
        width="100%",
        spacing="1",
    )


def bot_switcher() -> rx.Component:
    """The bot the sections below work on (hidden until the workspace has a bot)."""
    return rx.cond(
        BotScopeState.bot_options.length() > 0,
        rx.box(
            rx.select.root(
                rx.select.trigger(width="100%", id="bot-switcher", aria_label="Bot"),
                rx.select.content(
                    rx.foreach(
                        BotScopeState.bot_options,
                        lambda option: rx.select.item(option.name, value=option.id),
                    )
                ),
                value=BotScopeState.bot_id.to_string(),
                on_change=BotScopeState.switch_bot,
                size="2",
            ),
            width="100%",
            padding_y="0.25em",
        ),
    )


def new_workspace_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.trigger(
            rx.button(
                rx.icon("plus", size=14), "New workspace", variant="ghost", size="1", id="new-ws"
            )
        ),
        rx.dialog.content(
            rx.dialog.title("New workspace"),
            rx.form(
                rx.vstack(
                    rx.input(
                        name="name", placeholder="Workspace name", required=True, width="100%"
                    ),
                    rx.hstack(
                        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
                        rx.dialog.close(rx.button("Create", type="submit")),
                        justify="end",
                        width="100%",
                    ),
                ),
                on_submit=AuthState.create_workspace,
                reset_on_submit=True,
            ),
        ),
    )


def sidebar() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.icon("message-circle", size=24, color=rx.color("accent", 9)),
            rx.heading("Chatapp", size="5"),
            align="center",
        ),
        workspace_switcher(),
        rx.divider(),
        rx.vstack(
            nav_link(*WORKSPACE_SECTIONS[0]),
            inbox_link(),
            bot_switcher(),
            *[nav_link(*section) for section in BOT_SECTIONS],
            rx.divider(),
            *[nav_link(*section) for section in WORKSPACE_SECTIONS[1:]],
            width="100%",
            spacing="1",
        ),
        rx.spacer(),
        rx.divider(),
        rx.hstack(
            rx.avatar(fallback=AuthState.user_initial, size="2", radius="full"),
            rx.vstack(
                rx.text(
                    AuthState.user_email,
                    size="2",
                    trim="both",
                    id="current-user",
                    title=AuthState.user_email,
                    max_width="100%",
                    overflow="hidden",
                    text_overflow="ellipsis",
                    white_space="nowrap",
                ),
                rx.text(AuthState.role, size="1", color_scheme="gray"),
                spacing="0",
                min_width="0",
                flex="1",
            ),
            rx.icon_button(
                rx.icon("log-out", size=16),
                on_click=AuthState.logout,
                variant="ghost",
                aria_label="Log out",
                title="Log out",
                id="logout",
            ),
            end_session_form(),
            width="100%",
            align="center",
        ),
        width=["100%", "100%", "240px"],
        min_height=["auto", "auto", "100vh"],
        padding="1em",
        spacing="4",
        border_right=f"1px solid {rx.color('gray', 5)}",
        background=rx.color("gray", 2),
    )


def bot_section(*children: rx.Component, title: str) -> rx.Component:
    """A bot section's page: its content once the workspace has a bot, a pointer to Bots before."""
    return dashboard(
        rx.cond(
            BotScopeState.has_bot,
            rx.fragment(*children),
            rx.vstack(
                rx.callout(
                    "Create a bot first: this section works on one bot at a time.",
                    icon="info",
                    id="no-bot",
                ),
                rx.link("Go to Bots", href="/"),
            ),
        ),
        title=title,
    )


def dashboard(*children: rx.Component, title: str) -> rx.Component:
    """A page inside the frame: sidebar on the left (on top on small screens), content right."""
    return rx.flex(
        sidebar(),
        rx.box(
            rx.heading(title, size="7", margin_bottom="0.75em"),
            *children,
            padding=["1em", "1.5em", "2em"],
            width="100%",
            max_width="1200px",
        ),
        direction=rx.breakpoints(initial="column", md="row"),
        width="100%",
    )
