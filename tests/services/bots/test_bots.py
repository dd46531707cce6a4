import pytest
from pydantic import ValidationError
from sqlmodel import select

from chatapp.core import security
from chatapp.core.errors import PermissionDenied, ValidationFailed
from chatapp.services.bots import bots
from chatapp.services.models import Bot, BotCreate, BotKey, BotUpdate, Role
from tests.utils.factories import make_tenant


def test_create_bot_has_defaults_and_an_unguessable_public_id(session):
    tenant = make_tenant(session, "a")
    bot = bots.create_bot(session, tenant.admin, BotCreate(name="  Support  "))
    assert bot.name == "Support"
    assert bot.message_limit == 1000 and bot.message_count == 0
    assert bot.public_id.startswith("bot_") and len(bot.public_id) >= 16
    assert bot.status == "active" and bot.position == "bottom-right"


@pytest.mark.parametrize("role", [Role.AGENT, Role.VIEWER])
def test_agents_and_viewers_read_bots_but_cannot_change_them(session, role):
    tenant = make_tenant(session, "a")
    actor = tenant.actor(role)
    assert [b.id for b in bots.list_bots(session, actor)] == [tenant.bot.id]
    assert bots.get_bot(session, actor, tenant.bot.id).name == "Bot a"
    with pytest.raises(PermissionDenied, match="create, change or delete bots"):
        bots.create_bot(session, actor, BotCreate(name="x"))
    with pytest.raises(PermissionDenied):
        bots.rename_bot(session, actor, tenant.bot.id, "x")
    with pytest.raises(PermissionDenied):
        bots.delete_bot(session, actor, tenant.bot.id)
    with pytest.raises(PermissionDenied):
        bots.create_widget_key(session, actor, tenant.bot.id)


def test_rename_validates_and_update_changes_appearance(session):
    tenant = make_tenant(session, "a")
    with pytest.raises(ValidationFailed):
        bots.rename_bot(session, tenant.owner, tenant.bot.id, "   ")
    assert bots.rename_bot(session, tenant.owner, tenant.bot.id, "Helper").name == "Helper"
    updated = bots.update_bot(
        session,
        tenant.owner,
        tenant.bot.id,
        BotUpdate(accent_color="#FF0000", position="bottom-left"),
    )
    assert (updated.accent_color, updated.position) == ("#ff0000", "bottom-left")
    with pytest.raises(ValidationError, match="accent colour"):
        BotUpdate(accent_color="red; background:url(x)")
    with pytest.raises(ValidationError):
        BotUpdate(position="top")


def test_search_filters_by_name(session):
    tenant = make_tenant(session, "a")
    for name in ("Sales helper", "Support desk", "HR bot"):
        bots.create_bot(session, tenant.owner, BotCreate(name=name))
    found = bots.list_bots(session, tenant.owner, search="SUP")
    assert [b.name for b in found] == ["Support desk"]
    assert bots.count_bots(session, tenant.owner) == 4


def test_usage_label_and_percent(session):
    tenant = make_tenant(session, "a")
    bot = tenant.bot
    bot.message_count = 450
    assert bots.usage(bot).label == "450 / 1000 messages - 45 %"
    bot.message_count = 5000
    assert bots.usage(bot).percent == 100


def test_widget_key_is_shown_once_stored_hashed_and_regeneration_revokes(session):
    tenant = make_tenant(session, "a")
    _first, plain_first = bots.create_widget_key(session, tenant.owner, tenant.bot.id)
    second, plain_second = bots.create_widget_key(session, tenant.owner, tenant.bot.id)
    assert plain_first.startswith("ck_") and plain_first != plain_second
    stored = session.exec(select(BotKey).order_by(BotKey.id)).all()
    assert [k.key_hash for k in stored] == [
        security.hash_token(plain_first),
        security.hash_token(plain_second),
    ]
    assert all(plain_first not in k.key_hash for k in stored)
    assert stored[0].revoked_at is not None and stored[1].revoked_at is None
    assert second.prefix == plain_second[:10]


def test_deleting_a_bot_removes_its_keys(session):
    tenant = make_tenant(session, "a")
    bots.create_widget_key(session, tenant.owner, tenant.bot.id)
    bots.delete_bot(session, tenant.owner, tenant.bot.id)
    assert session.exec(select(Bot)).all() == []
    assert session.exec(select(BotKey)).all() == []
