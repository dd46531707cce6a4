"""The audit log: one entry per admin change, right actor and fields, no secrets, tenant-scoped."""

from __future__ import annotations

import json

import pytest
from sqlmodel import col, select

from chatapp.core.errors import NotAuthenticated, PermissionDenied
from chatapp.services.accounts import api_tokens, audit, workspace_defaults, workspaces
from chatapp.services.actions import store
from chatapp.services.bots import bots, providers
from chatapp.services.contacts import contacts, personal_data
from chatapp.services.contacts.contacts import ContactInput
from chatapp.services.knowledge import sources
from chatapp.services.models import AuditEntry, BotCreate, BotUpdate, Role
from chatapp.services.ops import retention
from tests.utils.factories import PASSWORD, make_tenant

PROVIDER_KEY = "sk-provider-secret-4242"
HEADER_SECRET = "Bearer header-secret-9191"
NEW_PASSWORD = "a brand new password 77"


def _new_entries(session, tenant, change) -> list[AuditEntry]:
    """Run `change` and return the entries it wrote in the tenant's workspace."""
    last = session.exec(select(AuditEntry.id).order_by(col(AuditEntry.id).desc())).first() or 0
    change()
    return list(
        session.exec(
            select(AuditEntry)
            .where(AuditEntry.id > last, AuditEntry.workspace_id == tenant.workspace.id)
            .order_by(AuditEntry.id)
        )
    )


def _http_action(session, actor, bot_id):
    config = {
        "url": "https://api.example.com/orders/{order_id}",
        "headers": [{"name": "Authorization", "value": HEADER_SECRET, "secret": True}],
    }
    return store.create_action(session, actor, bot_id, kind="http", config=config)


CHANGES = {
    "bot.create": lambda s, t: bots.create_bot(s, t.admin, BotCreate(name="Sales")),
    "bot.update": lambda s, t: bots.update_bot(s, t.admin, t.bot.id, BotUpdate(name="Renamed")),
    "bot.delete": lambda s, t: bots.delete_bot(s, t.admin, t.bot.id),
    "key.create": lambda s, t: bots.create_widget_key(s, t.admin, t.bot.id),
    "token.create": lambda s, t: api_tokens.create_token(s, t.admin, name="sync script"),
    "member.add": lambda s, t: workspaces.add_member(
        s, t.admin, email="new@example.com", role="agent", password=NEW_PASSWORD
    ),
    "member.role": lambda s, t: workspaces.change_member_role(
        s, t.admin, user_id=t.agent.user_id, role="viewer"
    ),
    "member.remove": lambda s, t: workspaces.remove_member(s, t.admin, user_id=t.viewer.user_id),
    "workspace.rename": lambda s, t: workspaces.rename_workspace(s, t.admin, name="Acme Ltd"),
    "workspace.provider": lambda s, t: providers.set_provider(
        s, t.admin, api_key=PROVIDER_KEY, model="gpt-x"
    ),
    "workspace.limits": lambda s, t: workspace_defaults.set_default_message_limit(s, t.admin, 77),
    "action.create": lambda s, t: _http_action(s, t.admin, t.bot.id),
    "workspace.retention": lambda s, t: retention.set_retention(s, t.admin, 90),
    "contact.erase": lambda s, t: personal_data.erase_contact(
        s, t.admin, contacts.create_contact(s, t.agent, ContactInput(name="Ada"), bot_id=None).id
    ),
}

EXPECTED = {
    "bot.create": {"name": [None, "Sales"], "message_limit": [None, 1000]},
    "bot.update": {"name": ["Bot A", "Renamed"]},
    "bot.delete": {"name": ["Bot A", None]},
    "token.create": {"name": [None, "sync script"]},
    "member.add": {"role": [None, "agent"]},
    "member.role": {"role": ["agent", "viewer"]},
    "member.remove": {"role": ["viewer", None]},
    "workspace.rename": {"name": ["Workspace A", "Acme Ltd"]},
    "workspace.provider": {"llm_model": ["", "gpt-x"], "llm_api_key": [None, "***"]},
    "workspace.limits": {"default_message_limit": [None, 77]},
    "workspace.retention": {"retention_days": [None, 90]},
    "contact.erase": {"conversations": [0, 0], "messages": [0, 0]},  # counts, never the person
}


@pytest.mark.parametrize("action", sorted(CHANGES))
def test_each_admin_change_writes_one_entry_with_actor_and_changed_fields(session, action):
    tenant = make_tenant(session, "A")
    entries = _new_entries(session, tenant, lambda: CHANGES[action](session, tenant))
    assert [e.action for e in entries] == [action]
    entry = entries[0]
    assert entry.actor == "admin-a@example.com"
    assert entry.user_id == tenant.admin.user_id
    assert entry.target_type and entry.target_id
    if action in EXPECTED:
        assert entry.changes == EXPECTED[action]


def test_changes_to_existing_rows_are_logged_once_each(session):
    tenant = make_tenant(session, "A")
    token, _ = api_tokens.create_token(session, tenant.owner, name="old script")
    action = _http_action(session, tenant.owner, tenant.bot.id)
    source = sources.add_text(session, tenant.owner, tenant.bot.id, title="Prices", text="Ten.")
    contact = contacts.create_contact(
        session, tenant.owner, ContactInput(name="Ann", email="ann@example.com"), bot_id=None
    )
    bots.create_widget_key(session, tenant.owner, tenant.bot.id)
    steps = {
        "token.revoke": lambda: api_tokens.revoke_token(session, tenant.owner, token.id),
        "action.update": lambda: store.update_action(
            session, tenant.owner, action.id, name="Order lookup", enabled=False
        ),
        "action.delete": lambda: store.delete_action(session, tenant.owner, action.id),
        "source.delete": lambda: sources.delete_source(session, tenant.owner, source.id),
        "contact.delete": lambda: contacts.delete_contact(session, tenant.owner, contact.id),
        "key.revoke": lambda: bots.revoke_widget_keys(session, tenant.owner, tenant.bot.id),
    }
    for name, step in steps.items():
        entries = _new_entries(session, tenant, step)
        assert [e.action for e in entries] == [name]
        assert entries[0].actor == "owner-a@example.com"
    update = session.exec(select(AuditEntry).where(AuditEntry.action == "action.update")).one()
    assert update.changes == {
        "name": ["HTTP request / webhook", "Order lookup"],
        "enabled": [True, False],
    }
    revoke = session.exec(select(AuditEntry).where(AuditEntry.action == "key.revoke")).one()
    assert revoke.changes == {"keys_revoked": [None, 1]}
    deleted = session.exec(select(AuditEntry).where(AuditEntry.action == "contact.delete")).one()
    assert "ann@example.com" not in json.dumps(deleted.changes)  # erased people stay erased


def test_an_update_that_changes_nothing_writes_nothing(session):
    tenant = make_tenant(session, "A")
    entries = _new_entries(
        session,
        tenant,
        lambda: bots.update_bot(session, tenant.owner, tenant.bot.id, BotUpdate(name="Bot A")),
    )
    assert entries == []


def test_secrets_and_keys_are_never_stored(session):
    tenant = make_tenant(session, "A")
    _, widget_key = bots.create_widget_key(session, tenant.owner, tenant.bot.id)
    _, api_token = api_tokens.create_token(session, tenant.owner, name="script")
    providers.set_provider(session, tenant.owner, api_key=PROVIDER_KEY, model="m")
    providers.set_provider(session, tenant.owner, api_key=PROVIDER_KEY + "-rotated", model="m")
    action = _http_action(session, tenant.owner, tenant.bot.id)
    store.update_action(
        session,
        tenant.owner,
        action.id,
        config={
            "url": "https://api.example.com/orders/{order_id}",
            "headers": [{"name": "Authorization", "value": HEADER_SECRET + "2", "secret": True}],
        },
    )
    workspaces.add_member(
        session, tenant.owner, email="pw@example.com", role="agent", password=NEW_PASSWORD
    )
    stored = json.dumps([e.changes for e in session.exec(select(AuditEntry)).all()])
    for secret in (widget_key, api_token, PROVIDER_KEY, "header-secret-9191", NEW_PASSWORD):
        assert secret not in stored
    rotated = session.exec(
        select(AuditEntry).where(AuditEntry.action == "workspace.provider")
    ).all()[-1]
    assert rotated.changes == {"llm_api_key": ["***", "***"]}  # a new key shows it changed
    assert "***" in stored


def test_a_raw_secret_passed_by_a_caller_is_redacted_at_the_door(session):
    tenant = make_tenant(session, "A")
    entry = audit.record(
        session,
        tenant.owner,
        "test.raw",
        "workspace",
        tenant.workspace.id,
        {"api_key": ["old-secret", "new-secret"], "keywords": [["a"], ["b"]]},
    )
    assert entry.changes == {"api_key": ["***", "***"], "keywords": [["a"], ["b"]]}


def test_api_token_changes_name_the_token_and_its_creator(session):
    tenant = make_tenant(session, "A")
    _, plain = api_tokens.create_token(session, tenant.owner, name="docs sync")
    actor = api_tokens.actor_for_token(session, plain, tenant.workspace.id)
    entries = _new_entries(
        session, tenant, lambda: workspaces.rename_workspace(session, actor, name="Renamed")
    )
    assert entries[0].actor == "owner-a@example.com (API token 'docs sync')"


def test_only_owners_and_admins_read_and_only_their_own_workspace(session):
    a = make_tenant(session, "A")
    b = make_tenant(session, "B")
    bots.update_bot(session, a.owner, a.bot.id, BotUpdate(name="A's secret plan"))
    bots.update_bot(session, b.owner, b.bot.id, BotUpdate(name="B's change"))
    for role in (Role.OWNER, Role.ADMIN):
        page = audit.list_entries(session, b.actor(role))
        assert page.total >= 1
        assert {e.workspace_id for e in page.entries} == {b.workspace.id}
        assert "A's secret plan" not in json.dumps([e.changes for e in page.entries])
    for role in (Role.AGENT, Role.VIEWER):
        with pytest.raises(PermissionDenied):
            audit.list_entries(session, a.actor(role))


def test_pages_are_newest_first(session):
    tenant = make_tenant(session, "A")
    for n in range(5):
        workspaces.rename_workspace(session, tenant.owner, name=f"Name {n}")
    first = audit.list_entries(session, tenant.owner, page=1, per_page=2)
    second = audit.list_entries(session, tenant.owner, page=2, per_page=2)
    renames = [e.changes["name"][1] for e in first.entries + second.entries]
    assert renames == ["Name 4", "Name 3", "Name 2", "Name 1"]
    assert first.total == second.total >= 5


def test_a_revoked_token_is_refused_at_once(session):
    tenant = make_tenant(session, "A")
    other = make_tenant(session, "B")
    token, plain = api_tokens.create_token(session, tenant.owner, name="script")
    assert api_tokens.actor_for_token(session, plain, tenant.workspace.id).role == Role.ADMIN
    with pytest.raises(NotAuthenticated, match="another workspace"):
        api_tokens.actor_for_token(session, plain, other.workspace.id)
    api_tokens.revoke_token(session, tenant.owner, token.id)
    with pytest.raises(NotAuthenticated, match="revoked"):
        api_tokens.actor_for_token(session, plain, tenant.workspace.id)


def test_member_password_is_the_factory_one_not_logged(session):
    make_tenant(session, "A")
    stored = json.dumps([e.changes for e in session.exec(select(AuditEntry)).all()])
    assert PASSWORD not in stored
    assert session.exec(select(AuditEntry).where(AuditEntry.action == "member.add")).all()
