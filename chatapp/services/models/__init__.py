"""Every table of the product, with the schemas the API reads and writes, one module per area.

`from chatapp.services.models import X` works for every table: this package re-exports them all.
Tenant data carries `workspace_id`, indexed, and every query in the services filters by it (see
`accounts/tenancy.py`). Times are aware UTC (`utcnow()`), the same on SQLite and PostgreSQL.
Later issues add columns and tables through Alembic migrations.

Integer primary keys are typed `id: int` with `default=None`: the database assigns them at the
first flush, and every row a service reads or passes on has one, so the type checker sees `int`
(the columns are the same as with `int | None`: a primary key is NOT NULL either way).
"""

from __future__ import annotations

from sqlmodel import SQLModel

from chatapp.services.models.accounts import (
    ApiToken,
    AuditEntry,
    AuthSession,
    Invitation,
    LoginAttempt,
    Membership,
    User,
    Workspace,
)
from chatapp.services.models.actions import Action, ActionRun, ActionRunOutcome
from chatapp.services.models.bots import (
    DEFAULT_FALLBACK,
    DEFAULT_WELCOME,
    Bot,
    BotBase,
    BotCreate,
    BotKey,
    BotPublic,
    BotUpdate,
)
from chatapp.services.models.common import BotStatus, Plan, Role, WidgetPosition, utcnow
from chatapp.services.models.conversations import (
    Contact,
    Conversation,
    ConversationEvent,
    ConversationStatus,
    Message,
    RateCounter,
    UsageDaily,
)
from chatapp.services.models.knowledge import KnowledgeChunk, Source, SourceStatus

__all__ = [
    "DEFAULT_FALLBACK",
    "DEFAULT_WELCOME",
    "TENANT_MODELS",
    "Action",
    "ActionRun",
    "ActionRunOutcome",
    "ApiToken",
    "AuditEntry",
    "AuthSession",
    "Bot",
    "BotBase",
    "BotCreate",
    "BotKey",
    "BotPublic",
    "BotStatus",
    "BotUpdate",
    "Contact",
    "Conversation",
    "ConversationEvent",
    "ConversationStatus",
    "Invitation",
    "KnowledgeChunk",
    "LoginAttempt",
    "Membership",
    "Message",
    "Plan",
    "RateCounter",
    "Role",
    "Source",
    "SourceStatus",
    "UsageDaily",
    "User",
    "WidgetPosition",
    "Workspace",
    "utcnow",
]

# Models that belong to one workspace: `tenancy.py` filters every query on them by workspace.
TENANT_MODELS: tuple[type[SQLModel], ...] = (
    Bot,
    BotKey,
    Source,
    KnowledgeChunk,
    ApiToken,
    Contact,
    Conversation,
    Message,
    UsageDaily,
    Action,
    ActionRun,
    ConversationEvent,
    AuditEntry,
    Membership,
    Invitation,
)
