"""Actions over HTTP: CRUD, test runs and the run log (members), and the public lead form."""

import ipaddress

import pytest
from sqlmodel import select

from chatapp.core.config import reset_settings
from chatapp.core.db import session_scope
from chatapp.core.errors import ValidationFailed
from chatapp.services.actions import store
from chatapp.services.bots import bots
from chatapp.services.knowledge.ingest import urlguard
from chatapp.services.knowledge.ingest.urlguard import PRIVATE_NETWORK
from chatapp.services.models import Contact, Conversation
from tests.utils.action_api import running_action_api
from tests.utils.factories import PASSWORD, make_tenant


@pytest.fixture
def tenants(client):
    with session_scope() as session:
        a, b = make_tenant(session, "a"), make_tenant(session, "b")
        _, key_a = bots.create_widget_key(session, a.owner, a.bot.id)
    return a, b, key_a


def login(client, email):
    response = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    return {"Authorization": f"Bearer {response.json()['token']}"}


def base(tenant):
    return f"/api/v1/workspaces/{tenant.workspace.id}/bots/{tenant.bot.id}/actions"


def test_crud_test_and_run_log(client, tenants, monkeypatch):
    a, b, _ = tenants
    owner = login(client, "owner-a@example.com")
    monkeypatch.setenv("ALLOW_PRIVATE_URLS", "true")
    reset_settings()
    with running_action_api({"777": {"status": "packed"}}) as api:
        config = {
            "url": api.base_url + "/orders/{order_id}",
            "headers": [{"name": "X-Token", "value": "tok-secret-1234", "secret": True}],
        }
        created = client.post(base(a), json={"kind": "http", "config": config}, headers=owner)
        assert created.status_code == 201, created.text
        action = created.json()
        assert action["config"]["headers"][0]["value"] == "" and "tok-secret" not in created.text
        url = f"{base(a)}/{action['id']}"
        tested = client.post(f"{url}/test", json={"input": {"order_id": "777"}}, headers=owner)
        assert tested.status_code == 200
        assert tested.json()["outcome"] == "ok"
        assert tested.json()["output"] == "Order 777: packed"
        assert api.requests[-1].headers["x-token"] == "tok-secret-1234"
    bad = client.patch(url, json={"config": {**config, "method": "FETCH"}}, headers=owner)
    assert bad.status_code == 422 and bad.json()["errors"]["method"].startswith("Choose")
    off = client.patch(url, json={"enabled": False, "name": "Orders"}, headers=owner)
    assert off.json()["enabled"] is False and off.json()["name"] == "Orders"

    monkeypatch.setenv("ALLOW_PRIVATE_URLS", "false")
    reset_settings()
    internal = client.post(f"{url}/test", json={"input": {"order_id": "777"}}, headers=owner)
    assert internal.json()["outcome"] == "refused"
    assert internal.json()["error"] == PRIVATE_NETWORK

    log = client.get(f"{base(a)}/runs", headers=login(client, "viewer-a@example.com")).json()
    assert [(r["outcome"], r["trigger"]) for r in log] == [("refused", "test"), ("ok", "test")]
    assert client.get(base(a), headers=owner).json()[0]["id"] == action["id"]

    # Roles and tenants.
    agent = login(client, "agent-a@example.com")
    assert client.post(base(a), json={"kind": "link"}, headers=agent).status_code == 403
    other = login(client, "owner-b@example.com")
    assert client.get(url, headers=other).status_code == 404
    b_path = f"/api/v1/workspaces/{b.workspace.id}/bots/{a.bot.id}/actions"
    assert client.get(b_path, headers=other).status_code == 404
    assert client.get(f"{base(b)}/{action['id']}", headers=other).status_code == 404
    assert client.delete(f"{base(b)}/{action['id']}", headers=other).status_code == 404
    assert client.delete(url, headers=owner).status_code == 204
    assert client.get(url, headers=owner).status_code == 404


def lead(client, tenant, key, **fields):
    body = {"bot_id": tenant.bot.public_id, "api_key": key, **fields}
    return client.post("/api/public/leads", json=body)


def test_the_lead_form_makes_a_contact_linked_to_the_conversation(client, tenants, monkeypatch):
    a, b, key = tenants
    assert lead(client, a, key, email="x@example.com").status_code == 404  # no form yet
    monkeypatch.setenv("ALLOW_PRIVATE_URLS", "true")
    reset_settings()
    with running_action_api() as api, session_scope() as session:
        store.create_action(
            session, a.owner, a.bot.id, kind="collect_lead",
            config={"webhook_url": api.base_url + "/hook"},
        )  # fmt: skip
    config = client.get(f"/api/public/bots/{a.bot.public_id}/config").json()["lead_form"]
    assert config["enabled"] is True and config["fields"][1]["type"] == "email"
    assert client.get(f"/api/public/bots/{b.bot.public_id}/config").json()["lead_form"] == {
        "enabled": False, "title": "", "fields": []
    }  # fmt: skip

    bad = lead(client, a, key, email="not-an-email", phone="12")
    assert bad.status_code == 422
    assert set(bad.json()["errors"]) == {"email", "phone"}
    assert lead(client, a, "ck_wrong", email="ana@example.com").status_code == 401

    session_id = "visitor-lead-0001"
    chat = client.post(
        "/api/chat",
        json={"bot_id": a.bot.public_id, "api_key": key, "message": "hi", "session_id": session_id,
              "stream": False},
    )  # fmt: skip
    assert chat.status_code == 200
    with running_action_api() as api:
        with session_scope() as session:
            action = store.lead_form_action(session, workspace_id=a.workspace.id, bot_id=a.bot.id)
            store.update_action(
                session, a.owner, action.id,
                config={**action.config, "webhook_url": api.base_url + "/hook"},
            )  # fmt: skip
        ok = lead(
            client, a, key, name="Ana", email="Ana@Example.com", message="Call me",
            session_id=session_id,
        )  # fmt: skip
        assert ok.status_code == 201, ok.text
        assert ok.json()["message"] == "Thanks! We will get back to you soon."
        assert api.requests[-1].json()["email"] == "ana@example.com"
    with session_scope() as session:
        contact = session.get(Contact, ok.json()["contact_id"])
        assert (contact.workspace_id, contact.name, contact.notes) == (
            a.workspace.id, "Ana", "Call me"
        )  # fmt: skip
        conversation = session.exec(
            select(Conversation).where(Conversation.session_id == session_id)
        ).one()
        assert conversation.contact_id == contact.id
    # The same person again: the same contact, notes added; the webhook is gone (down): logged.
    again = lead(client, a, key, email="ana@example.com", phone="+33 6 12 34 56 78",
                 message="Still waiting")  # fmt: skip
    assert again.status_code == 201 and again.json()["contact_id"] == contact.id
    with session_scope() as session:
        contact = session.get(Contact, contact.id)
        assert contact.notes == "Call me\n\nStill waiting" and contact.phone.startswith("+33")
        assert (
            session.exec(select(Contact).where(Contact.workspace_id == b.workspace.id)).all() == []
        )
    owner = login(client, "owner-a@example.com")
    log = client.get(f"{base(a)}/runs", headers=owner).json()
    assert [(r["trigger"], r["outcome"]) for r in log] == [("visitor", "error"), ("visitor", "ok")]
    assert log[0]["error"].startswith("Webhook:")
    # Another workspace's key cannot submit to this bot.
    with session_scope() as session:
        _, key_b = bots.create_widget_key(session, b.owner, b.bot.id)
    assert lead(client, a, key_b, email="eve@example.com").status_code == 401


@pytest.fixture
def fake_dns(monkeypatch):
    """Host names resolved from a table (no public DNS here); the guard itself is the real one."""
    table = {"orders.intranet.test": "10.1.2.3", "api.shop.test": "93.184.215.14"}

    def resolve(host, port):
        if host not in table:
            raise ValidationFailed(f"We couldn't find a website at this address ({host}).")
        return [ipaddress.ip_address(table[host])]

    monkeypatch.setattr(urlguard, "resolve", resolve)
    return table


def test_internal_addresses_are_refused_when_an_action_or_webhook_is_saved(
    client, tenants, fake_dns, monkeypatch
):
    """Issue 18 item 13: the URL sources' guard and message at save time (422), not at run time."""
    a, _, _ = tenants
    owner = login(client, "owner-a@example.com")

    def save(kind, **config):
        return client.post(base(a), json={"kind": kind, "config": config}, headers=owner)

    for url in (
        "http://127.0.0.1:8080/orders/{order_id}",
        "http://10.0.0.5/orders/{order_id}",
        "http://169.254.169.254/latest/{order_id}",
        "http://orders.intranet.test/orders/{order_id}",  # a name is resolved at save too
    ):
        refused = save("http", url=url)
        assert refused.status_code == 422, (url, refused.text)
        assert refused.json()["errors"]["url"] == PRIVATE_NETWORK
    hook = save("collect_lead", webhook_url="http://orders.intranet.test/hook")
    assert hook.status_code == 422 and hook.json()["errors"]["webhook_url"] == PRIVATE_NETWORK
    unknown = save("http", url="https://nowhere.test/orders/{order_id}")
    assert "couldn't find a website" in unknown.json()["errors"]["url"]
    in_host = save("http", url="https://{order_id}.shop.test/orders")
    assert "not the host" in in_host.json()["errors"]["url"]
    assert client.get(base(a), headers=owner).json() == []  # nothing was saved

    assert save("http").status_code == 201  # the template's example, as the dashboard adds it
    public = save("http", url="https://api.shop.test/orders/{order_id}")
    assert public.status_code == 201, public.text
    moved = client.patch(
        f"{base(a)}/{public.json()['id']}",
        json={"config": {**public.json()["config"], "url": "http://[::1]/orders/{order_id}"}},
        headers=owner,
    )
    assert moved.status_code == 422 and moved.json()["errors"]["url"] == PRIVATE_NETWORK
    assert save("link", url="http://10.0.0.5/book").status_code == 201  # the visitor opens links

    # The same settings as URL sources lift it (never for metadata addresses).
    monkeypatch.setenv("PRIVATE_URL_NETWORKS", "10.1.0.0/16")
    reset_settings()
    assert save("collect_lead", webhook_url="http://orders.intranet.test/hook").status_code == 201
    assert save("http", url="http://10.0.0.5/orders/{order_id}").status_code == 422
    monkeypatch.setenv("ALLOW_PRIVATE_URLS", "true")
    reset_settings()
    assert save("http", url="http://10.0.0.5/orders/{order_id}").status_code == 201
    metadata = save("http", url="http://169.254.169.254/latest/{order_id}")
    assert metadata.status_code == 422 and metadata.json()["errors"]["url"] == PRIVATE_NETWORK
