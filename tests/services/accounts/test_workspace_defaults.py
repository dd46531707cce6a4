"""The workspace's default monthly limit: new bots start with it, existing bots keep theirs."""

import pytest

from chatapp.core.config import get_settings
from chatapp.core.db import session_scope
from chatapp.core.errors import PermissionDenied, ValidationFailed
from chatapp.services.accounts import workspace_defaults
from chatapp.services.bots import bots
from chatapp.services.models import BotCreate
from tests.utils.factories import make_tenant


def test_new_bots_start_with_the_workspace_default(sqlite_url):
    with session_scope() as session:
        tenant, other = make_tenant(session, "d"), make_tenant(session, "o")
        before = workspace_defaults.get_bot_defaults(session, tenant.viewer)
        assert before.message_limit is None
        assert before.effective_limit == get_settings().default_message_limit
        after = workspace_defaults.set_default_message_limit(session, tenant.admin, 250)
        assert after.effective_limit == 250
        new = bots.create_bot(session, tenant.owner, BotCreate(name="New"))
        assert new.message_limit == 250
        assert bots.get_bot(session, tenant.owner, tenant.bot.id).message_limit != 250
        foreign = bots.create_bot(session, other.owner, BotCreate(name="Theirs"))
        assert foreign.message_limit == get_settings().default_message_limit
        workspace_defaults.set_default_message_limit(session, tenant.owner, None)
        assert bots.create_bot(session, tenant.owner, BotCreate(name="Third")).message_limit == (
            get_settings().default_message_limit
        )


def test_the_default_is_checked_and_for_managers_only(sqlite_url):
    with session_scope() as session:
        tenant = make_tenant(session, "d")
        with pytest.raises(ValidationFailed):
            workspace_defaults.set_default_message_limit(session, tenant.owner, -1)
        for actor in (tenant.agent, tenant.viewer):
            with pytest.raises(PermissionDenied):
                workspace_defaults.set_default_message_limit(session, actor, 10)
