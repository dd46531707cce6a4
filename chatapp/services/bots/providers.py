"""Which LLM answers for a bot: the workspace's own provider, the installation's, or none.

* A workspace may store its own OpenAI-compatible provider (base URL, API key, model). The key is
  encrypted (security.encrypt_secret) and only decrypted to make a request.
* Otherwise the installation's `OPENAI_BASE_URL` / `OPENAI_API_KEY` apply, with the model chosen
  by the workspace's plan (`OPENAI_MODEL`, or `OPENAI_MODEL_PAID` on the paid plan).
* A bot's own `model` overrides both. With no provider at all the bot answers offline
  (extractive answers, `extractive.py`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlmodel import Session

from chatapp.core import security
from chatapp.core.config import Settings, get_settings
from chatapp.core.errors import ServiceError, ValidationFailed
from chatapp.services.accounts import audit
from chatapp.services.accounts.tenancy import Actor, Permission, current_workspace
from chatapp.services.knowledge.ingest.urlguard import check_url
from chatapp.services.models import Bot, Plan, Workspace

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LLMConfig:
    base_url: str  # "" = OpenAI's own API
    api_key: str
    model: str
    timeout: float

    def __repr__(self) -> str:  # never print the key
        return f"LLMConfig(base_url={self.base_url!r}, model={self.model!r})"


@dataclass(frozen=True)
class ProviderView:
    """What the dashboard shows: where answers come from, never the key itself."""

    source: str  # "workspace", "installation" or "offline"
    base_url: str
    model: str
    key_hint: str


def plan_model(settings: Settings, plan: str) -> str:
    if plan == Plan.PAID and settings.openai_model_paid:
        return settings.openai_model_paid
    return settings.openai_model


def llm_config(
    workspace: Workspace, bot: Bot, settings: Settings | None = None
) -> LLMConfig | None:
    """The LLM to use for this bot, or None for offline (extractive) answers."""
    settings = settings or get_settings()
    if workspace.llm_base_url or workspace.llm_api_key_encrypted:
        try:
            key = (
                security.decrypt_secret(workspace.llm_api_key_encrypted)
                if workspace.llm_api_key_encrypted
                else ""
            )
        except ServiceError:
            log.warning("workspace %s: stored LLM key unreadable; answering offline", workspace.id)
            return None
        model = bot.model or workspace.llm_model or plan_model(settings, workspace.plan)
        return LLMConfig(workspace.llm_base_url, key, model, settings.llm_timeout_seconds)
    if settings.openai_base_url or settings.openai_api_key:
        model = bot.model or plan_model(settings, workspace.plan)
        return LLMConfig(
            settings.openai_base_url, settings.openai_api_key, model, settings.llm_timeout_seconds
        )
    return None


def get_provider(session: Session, actor: Actor) -> ProviderView:
    actor.require(Permission.READ)
    workspace = current_workspace(session, actor)
    settings = get_settings()
    if workspace.llm_base_url or workspace.llm_api_key_encrypted:
        hint = ""
        if workspace.llm_api_key_encrypted:
            try:
                plain = security.decrypt_secret(workspace.llm_api_key_encrypted)
                hint = security.secret_hint(plain)
            except ServiceError:
                hint = "unreadable: enter it again"
        model = workspace.llm_model or plan_model(settings, workspace.plan)
        return ProviderView("workspace", workspace.llm_base_url, model, hint)
    if settings.openai_base_url or settings.openai_api_key:
        hint = security.secret_hint(settings.openai_api_key) if settings.openai_api_key else ""
        model = plan_model(settings, workspace.plan)
        return ProviderView("installation", settings.openai_base_url, model, hint)
    return ProviderView("offline", "", "extractive", "")


def set_provider(
    session: Session, actor: Actor, *, base_url: str = "", api_key: str = "", model: str = ""
) -> ProviderView:
    """Use the workspace's own OpenAI-compatible provider (the key is stored encrypted)."""
    actor.require(Permission.MANAGE_SETTINGS)
    base_url, api_key, model = base_url.strip(), api_key.strip(), model.strip()
    if not base_url and not api_key:
        raise ValidationFailed("Give a base URL, an API key, or both.")
    if len(api_key) > 500 or len(model) > 100:
        raise ValidationFailed("The API key or model name is too long.")
    if base_url:
        # The server will send requests there: only public addresses (unless ALLOW_PRIVATE_URLS).
        base_url = check_url(base_url).rstrip("/")
        if len(base_url) > 500:
            raise ValidationFailed("The base URL is too long.")
    workspace = current_workspace(session, actor)
    audit.record(
        session,
        actor,
        "workspace.provider",
        "workspace",
        workspace.id,
        _provider_changes(workspace, base_url, api_key, model),
    )
    workspace.llm_base_url = base_url
    workspace.llm_api_key_encrypted = security.encrypt_secret(api_key) if api_key else ""
    workspace.llm_model = model
    session.add(workspace)
    session.flush()
    return get_provider(session, actor)


def clear_provider(session: Session, actor: Actor) -> ProviderView:
    actor.require(Permission.MANAGE_SETTINGS)
    workspace = current_workspace(session, actor)
    audit.record(
        session,
        actor,
        "workspace.provider",
        "workspace",
        workspace.id,
        _provider_changes(workspace, "", "", ""),
    )
    workspace.llm_base_url = ""
    workspace.llm_api_key_encrypted = ""
    workspace.llm_model = ""
    session.add(workspace)
    session.flush()
    return get_provider(session, actor)


def _provider_changes(workspace, base_url: str, api_key: str, model: str) -> dict:
    """The provider's changed fields for the audit log; a new key shows as "***" -> "***"."""
    changes = audit.changes_of(workspace, {"llm_base_url": base_url, "llm_model": model})
    had_key, has_key = bool(workspace.llm_api_key_encrypted), bool(api_key)
    if had_key or has_key:
        changes["llm_api_key"] = [
            audit.REDACTED if had_key else None,
            audit.REDACTED if has_key else None,
        ]
    return changes
