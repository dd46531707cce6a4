"""Action settings: each kind's validation and defaults, CRUD per bot, roles, tenants, secrets."""

import pytest
from sqlmodel import select

from chatapp.core.errors import Conflict, NotFound, PermissionDenied
from chatapp.core.security import decrypt_secret
from chatapp.services.actions import store, templates
from chatapp.services.actions.common import ActionInvalid
from chatapp.services.models import Action
from tests.utils.factories import make_tenant


def problems(kind, config):
    with pytest.raises(ActionInvalid) as info:
        templates.clean(kind, config)
    return info.value.errors


@pytest.mark.parametrize("kind", templates.KINDS)
def test_every_template_is_valid_as_shipped(kind):
    cleaned = templates.clean(kind, {})
    assert cleaned["rules"].keys() == {"keywords", "phrases", "on_fallback"}
    assert cleaned["description"]


def test_collect_lead_fields_are_checked():
    assert problems("collect_lead", {"fields": []}) == {
        "fields": "Choose at least one field for the form."
    }
    assert "one of" in problems("collect_lead", {"fields": [{"name": "age"}]})["fields"]
    only_name = problems("collect_lead", {"fields": [{"name": "name", "required": True}]})
    assert "email or a phone" in only_name["fields"]
    assert "webhook_url" in problems("collect_lead", {"webhook_url": "ftp://x"})
    form = templates.lead_form(templates.clean("collect_lead", {}))
    assert [f["type"] for f in form["fields"]] == ["text", "email", "tel", "textarea"]


def test_handoff_hours_threshold_and_messages_are_checked():
    errors = problems(
        "handoff",
        {
            "fallback_threshold": 99,
            "hours": {"timezone": "Mars/Base", "days": {"mon": ["18:00", "09:00"], "xyz": []}},
            "connecting_message": "",
        },
    )
    assert errors["fallback_threshold"] == "Use a whole number from 0 to 20."
    assert "Unknown time zone" in errors["hours.timezone"]
    assert "start first" in errors["hours.days.mon"]
    assert "Days are written" in errors["hours.days"]
    assert errors["connecting_message"] == "This cannot be empty."
    ok = templates.clean(
        "handoff", {"hours": {"timezone": "Europe/Paris", "days": {"mon": ["09:00", "17:00"]}}}
    )
    assert ok["hours"] == {"timezone": "Europe/Paris", "days": {"mon": ["09:00", "17:00"]}}


def test_http_settings_are_checked():
    errors = problems(
        "http",
        {
            "method": "FETCH",
            "url": "https://api.shop.com/orders/{order}",
            "parameters": {"type": "object", "properties": {"id": {"type": "nonsense"}}},
            "headers": [{"name": "Host", "value": "x"}],
            "timeout_seconds": 0,
            "response_path": "a..b",
        },
    )
    assert errors["method"].startswith("Choose one of")
    assert errors["url"] == "Define order under parameters, or remove it."
    assert errors["parameters"].startswith("Not a valid JSON schema")
    assert errors["headers"] == "'Host' cannot be used as a header name."
    assert errors["timeout_seconds"] == "Use a whole number from 1 to 30."
    assert "dotted path" in errors["response_path"]
    bad_pattern = {"type": "object", "properties": {"n": {"type": "string", "x-pattern": "("}}}
    assert (
        "x-pattern"
        in problems("http", {"url": "https://a.com", "parameters": bad_pattern})["parameters"]
    )
    assert "full web address" in problems("http", {"url": "api/orders"})["url"]


def test_link_needs_a_label_and_an_address():
    errors = problems("link", {"label": "", "url": "javascript:alert(1)"})
    assert set(errors) == {"label", "url"}


def test_unknown_kind_is_refused():
    assert "kind" in problems("email", {})


@pytest.fixture
def tenants(session):
    return make_tenant(session, "a"), make_tenant(session, "b")


def test_crud_roles_and_tenants(session, tenants):
    a, b = tenants
    link = store.create_action(session, a.admin, a.bot.id, kind="link", config={"label": "Book"})
    assert (link.name, link.enabled, link.config["label"]) == (
        "Show a link or button",
        True,
        "Book",
    )
    with pytest.raises(PermissionDenied):
        store.create_action(session, a.agent, a.bot.id, kind="link")
    with pytest.raises(PermissionDenied):
        store.update_action(session, a.viewer, link.id, enabled=False)
    assert [x.id for x in store.list_actions(session, a.viewer, a.bot.id)] == [link.id]
    # Another workspace can neither see nor touch it, nor add actions to a's bot.
    with pytest.raises(NotFound):
        store.get_action(session, b.owner, link.id)
    with pytest.raises(NotFound):
        store.update_action(session, b.owner, link.id, enabled=False)
    with pytest.raises(NotFound):
        store.delete_action(session, b.owner, link.id)
    with pytest.raises(NotFound):
        store.create_action(session, b.owner, a.bot.id, kind="link")
    with pytest.raises(NotFound):
        store.list_actions(session, b.owner, a.bot.id)

    store.update_action(session, a.owner, link.id, enabled=False, name="Booking")
    assert store.enabled_actions(session, workspace_id=a.workspace.id, bot_id=a.bot.id) == []
    with pytest.raises(ActionInvalid):
        store.update_action(session, a.owner, link.id, config={"url": "nope"})
    assert session.get(Action, link.id).config["url"] == "https://example.com/book"
    store.delete_action(session, a.owner, link.id)
    assert session.exec(select(Action)).all() == []


def test_one_lead_form_and_one_handoff_per_bot(session, tenants):
    a, _ = tenants
    store.create_action(session, a.owner, a.bot.id, kind="collect_lead")
    with pytest.raises(Conflict):
        store.create_action(session, a.owner, a.bot.id, kind="collect_lead")
    store.create_action(session, a.owner, a.bot.id, kind="http", config={"url": "https://1.1.1.1"})
    store.create_action(session, a.owner, a.bot.id, kind="http", config={"url": "https://8.8.8.8"})


def test_a_template_is_only_a_starting_point_until_created(session, tenants):
    a, b = tenants
    start = store.from_template(session, a.owner, a.bot.id, "link")
    assert (start.id, start.name, start.config["url"]) == (
        0,
        "Show a link or button",
        "https://example.com/book",
    )
    assert session.exec(select(Action)).all() == []  # nothing saved, nothing live
    with pytest.raises(PermissionDenied):
        store.from_template(session, a.agent, a.bot.id, "link")
    with pytest.raises(NotFound):
        store.from_template(session, b.owner, a.bot.id, "link")
    with pytest.raises(ActionInvalid):
        store.from_template(session, a.owner, a.bot.id, "teleport")
    store.create_action(session, a.owner, a.bot.id, kind="collect_lead")
    with pytest.raises(Conflict, match="already has a 'Collect lead' action"):
        store.from_template(session, a.owner, a.bot.id, "collect_lead")


def test_secret_header_is_encrypted_at_rest_hidden_and_kept_on_edit(session, tenants):
    a, _ = tenants
    headers = [
        {"name": "Authorization", "value": "Bearer sk-live-123456", "secret": True},
        {"name": "X-Shop", "value": "lyon", "secret": False},
    ]
    action = store.create_action(
        session, a.owner, a.bot.id, kind="http", config={"headers": headers}
    )
    stored = session.get(Action, action.id).config["headers"][0]
    assert "sk-live" not in str(session.get(Action, action.id).config)
    assert decrypt_secret(stored["value_encrypted"]) == "Bearer sk-live-123456"
    shown = store.view(action).config["headers"]
    assert shown[0] == {"name": "Authorization", "value": "", "secret": True, "has_value": True}
    assert shown[1]["value"] == "lyon"
    # Saving the form again with the secret left empty keeps it; a new value replaces it.
    edited = store.update_action(session, a.owner, action.id, config=store.view(action).config)
    assert decrypt_secret(edited.config["headers"][0]["value_encrypted"]) == (
        "Bearer sk-live-123456"
    )
    headers[0]["value"] = "Bearer sk-new-999999"
    edited = store.update_action(session, a.owner, action.id, config={"headers": headers})
    assert decrypt_secret(edited.config["headers"][0]["value_encrypted"]) == "Bearer sk-new-999999"
    new_secret = [{"name": "X-Key", "value": "", "secret": True}]
    with pytest.raises(ActionInvalid) as info:
        store.update_action(session, a.owner, action.id, config={"headers": new_secret})
    assert info.value.errors["headers"] == "Enter the secret value of 'X-Key'."
