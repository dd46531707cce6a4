"""Actions are changed and tested with the member's role as it is now, read from the database,
not as it was when their page loaded (issue 18, item 15c): a demoted or removed admin is refused
at the service, and nothing is written or run."""

from __future__ import annotations

import pytest
from sqlmodel import select

from chatapp.core.db import session_scope
from chatapp.core.errors import NotFound, PermissionDenied
from chatapp.services.accounts import workspaces
from chatapp.services.accounts.tenancy import Permission, actor_for, require_current
from chatapp.services.actions import execute, store
from chatapp.services.models import Action, ActionRun, Role
from tests.utils.factories import make_tenant


@pytest.fixture
def tenant(database_url):
    with session_scope() as session:
        tenant = make_tenant(session, "a")
        action = store.create_action(session, tenant.owner, tenant.bot.id, kind="link")
        store.update_action(
            session,
            tenant.owner,
            action.id,
            config={"label": "Prices", "url": "https://example.com/prices"},
        )
        session.expunge_all()
    return tenant, action.id


def _set_admin_role(tenant, role: str | None) -> None:
    with session_scope() as session:
        if role is None:
            workspaces.remove_member(session, tenant.owner, user_id=tenant.admin.user_id)
        else:
            workspaces.change_member_role(
                session, tenant.owner, user_id=tenant.admin.user_id, role=role
            )


def _actions() -> list[tuple]:
    with session_scope() as session:
        return [(a.id, a.name, a.enabled, a.config) for a in session.exec(select(Action)).all()]


def _runs() -> int:
    with session_scope() as session:
        return len(session.exec(select(ActionRun)).all())


@pytest.mark.parametrize(("role", "refusal"), [("viewer", PermissionDenied), (None, NotFound)])
def test_an_admin_demoted_or_removed_after_the_actor_was_made_is_refused(tenant, role, refusal):
    tenant, action_id = tenant
    admin = tenant.admin  # made while the member was an admin, like a page loaded earlier
    assert admin.role == Role.ADMIN
    before = _actions()
    _set_admin_role(tenant, role)
    with session_scope() as session:
        with pytest.raises(refusal):
            execute.test_action(session, admin, action_id, tenant.bot.id, params={})
        with pytest.raises(refusal):
            store.update_action(session, admin, action_id, name="Renamed")
        with pytest.raises(refusal):
            store.create_action(session, admin, tenant.bot.id, kind="link")
        with pytest.raises(refusal):
            store.delete_action(session, admin, action_id)
    assert _runs() == 0 and _actions() == before


def test_a_still_admin_tests_and_an_actor_below_its_member_gains_nothing(tenant):
    tenant, action_id = tenant
    with session_scope() as session:
        outcome = execute.test_action(session, tenant.admin, action_id, tenant.bot.id)
        assert outcome.outcome == "ok" and "Prices" in outcome.output
        # An actor that carries less than its member's role (an API token's) is not lifted up.
        lowered = actor_for(session, user_id=tenant.admin.user_id, workspace_id=tenant.workspace.id)
        lowered = type(lowered)(**{**vars(lowered), "role": Role.VIEWER})
        with pytest.raises(PermissionDenied):
            require_current(session, lowered, Permission.MANAGE_BOTS)
    assert _runs() == 1
