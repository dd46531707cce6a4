"""Security events on the `chatapp.security` logger, through the API with real databases: each
refusal logs one structured event with the client address and ids, never the secret itself."""

import logging

import pytest

from chatapp.core.db import session_scope
from chatapp.services.accounts import api_tokens
from chatapp.services.knowledge.ingest.urlguard import PRIVATE_NETWORK
from tests.api.test_public_api import body, login
from tests.utils.factories import PASSWORD
from tests.utils.knowledge import make_shop


@pytest.fixture
def events(caplog):
    caplog.set_level(logging.WARNING, logger="chatapp.security")

    def taken():
        found = [r for r in caplog.records if r.name == "chatapp.security"]
        caplog.clear()
        return found

    return taken


def only(records, event):
    assert [r.event for r in records] == [event], [vars(r) for r in records]
    record = records[0]
    assert record.ip == "testclient" and record.request_id not in ("", "-")
    return record


def test_wrong_widget_key_and_wrong_origin(client, events):
    shop = make_shop()
    events()
    wrong_key = "wk_live_0123456789abcdefSECRET"
    refused = client.post("/api/chat", json={**body(shop), "api_key": wrong_key})
    assert refused.status_code == 401
    record = only(events(), "widget_key_refused")
    assert record.bot_id == shop.tenant.bot.id and record.workspace_id == shop.tenant.workspace.id
    assert record.key_prefix == "wk_liv..." and "SECRET" not in record.getMessage()
    assert all("SECRET" not in str(v) for v in vars(record).values())

    owner = login(client, "owner-a@example.com")
    bot_url = f"/api/v1/workspaces/{shop.tenant.workspace.id}/bots/{shop.tenant.bot.id}"
    client.patch(bot_url, json={"allowed_domains": ["shop.example"]}, headers=owner)
    events()
    wrong_site = client.post("/api/chat", json=body(shop), headers={"Origin": "https://evil.test"})
    assert wrong_site.status_code == 403
    record = only(events(), "origin_refused")
    assert record.origin_host == "evil.test" and record.bot_id == shop.tenant.bot.id
    allowed = client.post("/api/chat", json=body(shop), headers={"Origin": "https://shop.example"})
    assert allowed.status_code == 200 and events() == []  # accepted requests log no event


def test_ssrf_refusal_of_a_url_source(client, events):
    shop = make_shop()
    owner = login(client, "owner-a@example.com")
    url = f"/api/v1/workspaces/{shop.tenant.workspace.id}/bots/{shop.tenant.bot.id}/sources/url"
    events()
    metadata = client.post(
        url, json={"url": "http://169.254.169.254/latest/meta-data/"}, headers=owner
    )
    assert metadata.status_code == 422 and metadata.json()["detail"] == PRIVATE_NETWORK
    record = only(events(), "ssrf_refused")
    assert record.host == "169.254.169.254" and "169.254.169.254" in record.reason
    loopback = client.post(url, json={"url": "http://127.0.0.1:6379/"}, headers=owner)
    assert loopback.status_code == 422
    assert only(events(), "ssrf_refused").host == "127.0.0.1"
    not_a_url = client.post(url, json={"url": "ftp://example.com/"}, headers=owner)
    assert not_a_url.status_code == 422 and events() == []  # a typo is not an attack


def test_failed_logins_then_throttling(client, events, monkeypatch):
    shop = make_shop()
    events()
    for _ in range(5):  # LOGIN_MAX_FAILURES defaults to 5
        response = client.post(
            "/api/v1/auth/login", json={"email": "owner-a@example.com", "password": "hunter2!!"}
        )
        assert response.status_code == 401
    failed = events()
    assert [r.event for r in failed] == ["login_failed"] * 5
    assert failed[0].email == "owner-a@example.com" and failed[0].ip == "testclient"
    assert all("hunter2" not in str(vars(r)) for r in failed)
    throttled = client.post(
        "/api/v1/auth/login", json={"email": "owner-a@example.com", "password": PASSWORD}
    )
    assert throttled.status_code == 429
    assert only(events(), "login_throttled").email == "owner-a@example.com"
    typed_password = client.post(
        "/api/v1/auth/login", json={"email": "my secret pw", "password": "x"}
    )
    assert typed_password.status_code == 401
    assert only(events(), "login_failed").email == "(not an email address)"
    assert shop  # the tenant exists: the failures above were wrong passwords


def test_refused_api_token(client, events):
    shop = make_shop()
    other = make_shop("b")
    with session_scope() as session:
        _, token = api_tokens.create_token(session, shop.tenant.owner, name="script")
    events()
    other_ws = f"/api/v1/workspaces/{other.tenant.workspace.id}/bots"
    response = client.get(other_ws, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    record = only(events(), "api_token_refused")
    assert record.workspace_id == other.tenant.workspace.id
    assert record.token_prefix == token[:8] + "..." and token not in str(vars(record))
    unknown = client.get(other_ws, headers={"Authorization": "Bearer cat_unknown-token-value"})
    assert unknown.status_code == 401 and only(events(), "api_token_refused").reason == "unknown"
