"""A member of workspace A can neither read, list, change nor delete anything of workspace B."""

import pytest
from sqlmodel import select

from chatapp.core.errors import NotFound, PermissionDenied
from chatapp.services.accounts import workspaces
from chatapp.services.accounts.tenancy import actor_for
from chatapp.services.bots import bots
from chatapp.services.models import Bot, BotCreate, BotKey, BotUpdate, Membership, Role
from tests.utils.factories import make_tenant

# Each case: (name, call(session, actor_of_A, tenant_B)). Every one must raise NotFound.
CROSS_TENANT_CALLS = [
    ("get bot", lambda s, a, b: bots.get_bot(s, a, b.bot.id)),
    ("update bot", lambda s, a, b: bots.update_bot(s, a, b.bot.id, BotUpdate(name="pwned"))),
    ("rename bot", lambda s, a, b: bots.rename_bot(s, a, b.bot.id, "pwned")),
    ("delete bot", lambda s, a, b: bots.delete_bot(s, a, b.bot.id)),
    ("create widget key", lambda s, a, b: bots.create_widget_key(s, a, b.bot.id)),
    ("list widget keys", lambda s, a, b: bots.list_widget_keys(s, a, b.bot.id)),
    ("remove member", lambda s, a, b: workspaces.remove_member(s, a, user_id=b.viewer.user_id)),
    (
        "change member role",
        lambda s, a, b: workspaces.change_member_role(s, a, user_id=b.viewer.user_id, role="admin"),
    ),
]


@pytest.fixture
def two_tenants(session):
    a = make_tenant(session, "a")
    b = make_tenant(session, "b")
    bots.create_widget_key(session, b.owner, b.bot.id)
    return a, b


def _snapshot(session, workspace_id):
    bots_rows = session.exec(select(Bot).where(Bot.workspace_id == workspace_id)).all()
    keys = session.exec(select(BotKey).where(BotKey.workspace_id == workspace_id)).all()
    members = session.exec(select(Membership).where(Membership.workspace_id == workspace_id)).all()
    return (
        sorted((b.id, b.name, b.updated_at) for b in bots_rows),
        sorted((k.id, k.revoked_at) for k in keys),
        sorted((m.user_id, m.role) for m in members),
    )


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize(
    ("what", "call"), CROSS_TENANT_CALLS, ids=[c[0] for c in CROSS_TENANT_CALLS]
)
def test_member_of_a_cannot_touch_b(session, two_tenants, role, what, call):
    a, b = two_tenants
    before = _snapshot(session, b.workspace.id)
    actor = a.actor(role)
    # A role check may fire before the lookup: that refusal protects B just as well.
    with pytest.raises((NotFound, PermissionDenied)):
        call(session, actor, b)
    session.expire_all()
    assert _snapshot(session, b.workspace.id) == before, what


@pytest.mark.parametrize("role", list(Role))
def test_listings_show_only_own_workspace(session, two_tenants, role):
    a, _b = two_tenants
    actor = a.actor(role)
    assert {bot.workspace_id for bot in bots.list_bots(session, actor)} == {a.workspace.id}
    assert bots.count_bots(session, actor) == 1
    emails = {m.email for m in workspaces.list_members(session, actor)}
    assert emails and all(e.endswith("-a@example.com") for e in emails)


def test_a_user_cannot_act_in_a_workspace_they_do_not_belong_to(session, two_tenants):
    a, b = two_tenants
    with pytest.raises(NotFound):
        actor_for(session, user_id=a.owner.user_id, workspace_id=b.workspace.id)


def test_bots_created_by_a_land_in_a(session, two_tenants):
    a, b = two_tenants
    bot = bots.create_bot(session, a.owner, BotCreate(name="mine"))
    assert bot.workspace_id == a.workspace.id
    assert "mine" not in {x.name for x in bots.list_bots(session, b.owner)}
