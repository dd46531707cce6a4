"""The Settings section's Workspace and Account tabs: name, default limit, the LLM provider
(key stored encrypted, never shown again), backup download, and the member's own password."""

from __future__ import annotations

import reflex as rx

from chatapp.components.settings_fields import (
    READ_ONLY,
    error_text,
    labelled,
    save_button,
    section,
    settings_form,
    text_input,
)
from chatapp.state.account import AccountState
from chatapp.state.auth import AuthState
from chatapp.state.settings import SettingsState as S


def provider_card() -> rx.Component:
    status = rx.match(
        S.provider_source,
        ("workspace", "This workspace's own provider"),
        ("installation", "The installation's provider (set by whoever runs Chatapp)"),
        "None: answers are extracted from the sources, offline",
    )
    return section(
        "LLM provider",
        rx.text("Answers come from: ", rx.text.strong(status), size="2", id="provider-status"),
        rx.cond(
            S.provider_source != "offline",
            rx.text(
                "Model: ",
                S.provider_model,
                rx.cond(S.provider_base_url != "", " at " + S.provider_base_url, ""),
                rx.cond(S.provider_key_hint != "", ", key " + S.provider_key_hint, ""),
                size="2",
                color_scheme="gray",
            ),
        ),
        rx.form(
            rx.vstack(
                rx.input(
                    name="base_url",
                    placeholder="Base URL (empty: OpenAI)",
                    aria_label="Base URL",
                    width="100%",
                    id="provider-base-url",
                ),
                rx.input(
                    name="api_key",
                    type="password",
                    width="100%",
                    id="provider-key",
                    placeholder="API key (stored encrypted, never shown again)",
                    aria_label="API key",
                    auto_complete="off",
                ),
                rx.input(
                    name="model",
                    placeholder="Model, e.g. gpt-4o-mini",
                    aria_label="Model",
                    width="100%",
                    id="provider-model",
                ),
                error_text("provider"),
                rx.hstack(
                    rx.button("Save provider", type="submit", id="save-provider"),
                    rx.cond(
                        S.provider_source == "workspace",
                        rx.button(
                            "Use the installation's",
                            type="button",
                            variant="soft",
                            color_scheme="gray",
                            on_click=S.clear_provider,
                            id="clear-provider",
                        ),
                    ),
                    wrap="wrap",
                ),
                width="100%",
            ),
            on_submit=S.save_provider,
            reset_on_submit=True,
            width="100%",
        ),
        id="provider-card",
    )


def _name_section() -> rx.Component:
    """The workspace's name."""
    return section(
        "Workspace",
        settings_form(
            S.save_workspace_name,
            labelled(
                "Name",
                rx.input(
                    value=S.new_workspace_name,
                    on_change=lambda value: S.set_field("new_workspace_name", value),
                    read_only=READ_ONLY,
                    id="field-new_workspace_name",
                    name="new_workspace_name",
                    width="100%",
                    max_length=120,
                ),
                "new_workspace_name",
            ),
            save_button("Rename workspace", "save-workspace-name"),
        ),
    )


def _defaults_section() -> rx.Component:
    """The message limit a new bot starts with."""
    return section(
        "Defaults for new bots",
        settings_form(
            S.save_default_limit,
            labelled(
                "Monthly message limit of a new bot",
                text_input(
                    "default_limit",
                    type="number",
                    min="0",
                    placeholder="Installation default: " + S.installation_limit.to_string(),
                ),
                "default_limit",
                "Empty: the installation's default. Existing bots keep their own limit.",
            ),
            save_button("Save default", "save-default-limit"),
        ),
    )


def _retention_section() -> rx.Component:
    """How long conversations are kept."""
    return section(
        "Conversation retention",
        settings_form(
            S.save_retention,
            labelled(
                "Delete conversations after (days)",
                text_input(
                    "retention_days", type="number", min="1", max="3650", placeholder="Keep"
                ),
                "retention_days",
                "1 to 3650 days after their last message; empty keeps them for ever. "
                "Messages, events and action runs go with them; usage figures and contacts "
                "stay.",
            ),
            save_button("Save retention", "save-retention"),
        ),
    )


def workspace_tab() -> rx.Component:
    return rx.vstack(
        _name_section(),
        section(
            "Members and roles",
            rx.text("Add people, change their roles or remove them on the Team page.", size="2"),
            rx.link("Open Team", href="/team", id="team-link"),
        ),
        _defaults_section(),
        _retention_section(),
        rx.cond(S.is_manager, provider_card()),
        rx.cond(
            S.is_manager,
            section(
                "Backup",
                rx.text(
                    "A zip of this workspace's bots, sources and their texts, Q&A pairs, "
                    "conversations and contacts. Keys and passwords are never included.",
                    size="2",
                ),
                rx.button(
                    rx.icon("download", size=14),
                    "Download backup",
                    on_click=S.download_backup,
                    id="download-backup",
                    variant="soft",
                ),
            ),
        ),
        spacing="4",
        width="100%",
        max_width="640px",
    )


def account_tab() -> rx.Component:
    def password(name: str, placeholder: str) -> rx.Component:
        return rx.input(
            name=name,
            type="password",
            placeholder=placeholder,
            aria_label=placeholder,
            required=True,
            width="100%",
            id=name.replace("_", "-"),
        )

    return section(
        "Change password",
        rx.text("Signed in as ", AuthState.user_email, size="2", color_scheme="gray"),
        rx.form(
            rx.vstack(
                password("current_password", "Current password"),
                password("new_password", "New password (8 characters or more)"),
                password("confirm", "Repeat new password"),
                rx.button("Change password", type="submit", id="change-password"),
                spacing="3",
                width="100%",
            ),
            on_submit=AccountState.change_password,
            reset_on_submit=True,
            width="100%",
        ),
        max_width="420px",
    )
