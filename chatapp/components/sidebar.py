"""The dashboard's navigation: the workspace and bot switchers, the section links and the member.

Drawn twice on a page: in the desktop sidebar and, on a phone, in the navigation drawer (mounted
only while it is open). The drawer's copy prefixes its ids, so no id is ever on the page twice.
"""

from __future__ import annotations

import reflex as rx

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


def _link_style(route: str) -> dict:
    """The look of a section link, and `aria-current` on the page the member is on."""
    active = AuthState.router.page.path == route
    return {
        "href": route,
        "underline": "none",
        "color": rx.cond(active, rx.color("accent", 11), rx.color("gray", 12)),
        "background": rx.cond(active, rx.color("accent", 3), "transparent"),
        "aria_current": rx.cond(active, "page", None),
        "padding_x": "0.75em",
        "padding_y": "0.5em",
        "border_radius": "0.5em",
        "width": "100%",
    }


def nav_link(label: str, route: str, icon: str, prefix: str = "") -> rx.Component:
    return rx.link(
        rx.hstack(rx.icon(icon, size=18), rx.text(label, size="3"), spacing="3", align="center"),
        id=f"{prefix}nav-{label.lower()}",
        **_link_style(route),
    )


def pending_badge(element_id: str) -> rx.Component:
    """How many conversations wait for a person (shown once there is one)."""
    return rx.cond(
        InboxBadgeState.pending > 0,
        rx.badge(
            InboxBadgeState.pending,
            color_scheme="orange",
            high_contrast=True,
            radius="full",
            id=element_id,
        ),
    )


def inbox_link(prefix: str = "") -> rx.Component:
    """Inbox, with the number of conversations waiting for a person (kept live)."""
    handler = (AuthState.role == "agent") | (AuthState.role == "admin")
    return rx.cond(
        handler | (AuthState.role == "owner"),  # mounted once the role is known
        rx.link(
            rx.hstack(
                rx.icon("inbox", size=18),
                rx.text("Inbox", size="3"),
                rx.spacer(),
                pending_badge(f"{prefix}inbox-badge"),
                spacing="3",
                align="center",
                width="100%",
                on_mount=InboxBadgeState.follow,
            ),
            id=f"{prefix}nav-inbox",
            **_link_style("/inbox"),
        ),
    )


def workspace_switcher(prefix: str = "") -> rx.Component:
    return rx.vstack(
        rx.text("Workspace", size="1", color_scheme="gray", aria_hidden="true"),
        rx.select.root(
            rx.select.trigger(
                width="100%", id=f"{prefix}workspace-switcher", aria_label="Workspace"
            ),
            rx.select.content(
                rx.foreach(
                    AuthState.workspace_options,
                    lambda option: rx.select.item(option.name, value=option.id),
                )
            ),
            value=AuthState.workspace_id,
            on_change=AuthState.switch_workspace,
        ),
        new_workspace_dialog(prefix),
        width="100%",
        spacing="1",
    )


def bot_switcher(prefix: str = "") -> rx.Component:
    """The bot the sections below work on (hidden until the workspace has a bot)."""
    return rx.cond(
        BotScopeState.bot_options.length() > 0,
        rx.box(
            rx.select.root(
                rx.select.trigger(width="100%", id=f"{prefix}bot-switcher", aria_label="Bot"),
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


def new_workspace_dialog(prefix: str = "") -> rx.Component:
    return rx.dialog.root(
        rx.dialog.trigger(
            rx.button(
                rx.icon("plus", size=14),
                "New workspace",
                variant="ghost",
                size="1",
                id=f"{prefix}new-ws",
            )
        ),
        rx.dialog.content(
            rx.dialog.title("New workspace", custom_attrs={"as": "h2"}),
            rx.dialog.description(
                "A workspace is one business: its own bots, team and data.", size="2"
            ),
            rx.form(
                rx.vstack(
                    rx.input(
                        name="name",
                        placeholder="Workspace name",
                        aria_label="Workspace name",
                        required=True,
                        width="100%",
                    ),
                    rx.hstack(
                        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
                        rx.dialog.close(rx.button("Create", type="submit")),
                        justify="end",
                        width="100%",
                    ),
                    margin_top="1em",
                ),
                on_submit=AuthState.create_workspace,
                reset_on_submit=True,
            ),
        ),
    )


def sections(prefix: str = "") -> rx.Component:
    """The section links, in a navigation landmark."""
    return rx.el.nav(
        rx.vstack(
            nav_link(*WORKSPACE_SECTIONS[0], prefix=prefix),
            inbox_link(prefix),
            bot_switcher(prefix),
            *[nav_link(*section, prefix=prefix) for section in BOT_SECTIONS],
            rx.divider(),
            *[nav_link(*section, prefix=prefix) for section in WORKSPACE_SECTIONS[1:]],
            width="100%",
            spacing="1",
        ),
        aria_label="Dashboard",
        width="100%",
    )


def member_box(prefix: str = "") -> rx.Component:
    """Who is logged in, with their role, and the way out."""
    return rx.hstack(
        rx.avatar(fallback=AuthState.user_initial, size="2", radius="full", aria_hidden="true"),
        rx.vstack(
            rx.text(
                AuthState.user_email,
                size="2",
                trim="both",
                id=f"{prefix}current-user",
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
            id=f"{prefix}logout",
        ),
        width="100%",
        align="center",
    )


def brand() -> rx.Component:
    """The product's name: text, not a heading (the page title is the page's one h1)."""
    return rx.hstack(
        rx.icon("message-circle", size=24, color=rx.color("accent", 9), aria_hidden="true"),
        rx.text("Chatapp", size="5", weight="bold"),
        align="center",
    )


def sidebar_body(prefix: str = "") -> list[rx.Component]:
    """Everything under the brand: switchers, sections, then the member at the bottom."""
    return [
        workspace_switcher(prefix),
        rx.divider(),
        sections(prefix),
        rx.spacer(),
        rx.divider(),
        member_box(prefix),
    ]
