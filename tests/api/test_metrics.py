"""GET /metrics through the API: counts move after real chat requests, histograms have their
buckets, the database gauges read the queue, and METRICS_TOKEN protects the endpoint."""

import pytest
from fastapi.testclient import TestClient

from chatapp.api.app import create_api
from chatapp.core.config import reset_settings
from chatapp.core.db import session_scope
from chatapp.services.knowledge import sources
from tests.api.test_public_api import body, parse_sse
from tests.utils.fake_llm import fake_llm_server
from tests.utils.knowledge import make_shop
from tests.utils.prom import samples, value


@pytest.fixture(autouse=True)
def public_metrics(monkeypatch):
    """These tests read the counters; who may read them is tested on its own below."""
    monkeypatch.setenv("METRICS_PUBLIC", "true")
    reset_settings()


def scrape(client, **headers):
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return samples(response.text), response.text


def test_chat_requests_move_the_counters_and_histograms(client, monkeypatch):
    before, _ = scrape(client)
    shop = make_shop()  # three sources through the ingest worker
    with fake_llm_server() as fake:
        monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
        monkeypatch.setenv("LLM_RETRY_BASE_SECONDS", "0.01")
        reset_settings()
        streamed = [client.post("/api/chat", json=body(shop)) for _ in range(2)]
        assert all(r.status_code == 200 for r in streamed)
        assert all(parse_sse(r.text)[-1]["type"] == "done" for r in streamed)
        as_json = client.post("/api/chat", json=body(shop, stream=False))
        assert as_json.status_code == 200 and as_json.json()["answer"]
        fake.script = ["500", "500", "500"]
        failed = client.post("/api/chat", json=body(shop, stream=False))
        assert failed.status_code == 503
    refused = client.post("/api/chat", json={**body(shop), "api_key": "wrong-key"})
    assert refused.status_code == 401
    after, text = scrape(client)

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    chat = {"route": "/api/chat", "method": "POST"}
    assert delta("chatapp_http_requests_total", **chat, status="200") == 3
    assert delta("chatapp_http_requests_total", **chat, status="503") == 1
    assert delta("chatapp_http_requests_total", **chat, status="401") == 1
    assert delta("chatapp_http_request_duration_seconds_count", **chat) == 5
    assert delta("chatapp_chat_answers_total", outcome="answered") == 3
    assert delta("chatapp_chat_answers_total", outcome="error") == 1
    assert delta("chatapp_chat_first_token_seconds_count") == 3
    assert delta("chatapp_chat_answer_seconds_count") == 3
    assert delta("chatapp_chat_answer_seconds_sum") > 0
    assert delta("chatapp_chat_tokens_total", kind="completion") > 0
    assert delta("chatapp_chat_tokens_total", kind="prompt") > 0
    assert 'chatapp_chat_first_token_seconds_bucket{le="0.05"}' in text
    assert 'chatapp_chat_first_token_seconds_bucket{le="+Inf"}' in text
    assert delta("chatapp_ingest_jobs_total", status="ready") == 3
    assert value(after, "chatapp_streams_open", kind="chat") == 0  # every stream closed
    # route templates, never raw paths: the bot id does not become a label
    assert shop.public_id not in text


def test_queue_depth_and_pending_handoffs_are_read_from_the_database(client):
    shop = make_shop()
    with session_scope() as session:
        sources.add_text(
            session, shop.tenant.owner, shop.tenant.bot.id, title="New", text="x " * 50
        )
    parsed, _ = scrape(client)
    assert value(parsed, "chatapp_ingest_queue", state="queued") == 1
    assert value(parsed, "chatapp_ingest_queue", state="processing") == 0
    assert value(parsed, "chatapp_handoffs_pending") == 0


def test_metrics_token_is_required_when_set(database_url, monkeypatch):
    monkeypatch.setenv("METRICS_TOKEN", "scrape-secret-123")
    reset_settings()
    with TestClient(create_api()) as client:
        assert client.get("/metrics").status_code == 401
        wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        basic = client.get("/metrics", headers={"Authorization": "Basic scrape-secret-123"})
        assert basic.status_code == 401
        ok = client.get(
            "/metrics",
            headers={"Authorization": "Bearer scrape-secret-123", "Origin": "https://evil.example"},
        )
        assert ok.status_code == 200 and "chatapp_http_requests_total" in ok.text
        assert "access-control-allow-origin" not in ok.headers  # not CORS-open
        assert "/metrics" not in client.get("/api/openapi.json").json()["paths"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_metrics_still_answer_when_the_database_is_down(database_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")
    reset_settings()
    with TestClient(create_api()) as client:
        response = client.get("/metrics")
    assert response.status_code == 200
    assert "chatapp_http_requests_total" in response.text
    assert "chatapp_ingest_queue{" not in response.text  # skipped, not a failed scrape


def test_metrics_are_refused_until_the_operator_says_who_may_read_them(database_url, monkeypatch):
    """The safe default: no METRICS_TOKEN and no METRICS_PUBLIC=true -> 403 saying what to set
    (the counters describe the whole installation)."""
    monkeypatch.delenv("METRICS_PUBLIC")
    reset_settings()
    with TestClient(create_api()) as client:
        refused = client.get("/metrics")
        assert refused.status_code == 403
        assert "METRICS_TOKEN" in refused.json()["detail"]
        assert "METRICS_PUBLIC=true" in refused.json()["detail"]
        assert "chatapp_http_requests_total" not in refused.text
    monkeypatch.setenv("METRICS_PUBLIC", "true")
    reset_settings()
    with TestClient(create_api()) as client:
        assert client.get("/metrics").status_code == 200  # the operator's explicit choice
    monkeypatch.setenv("METRICS_TOKEN", "scrape-secret-123")
    reset_settings()
    with TestClient(create_api()) as client:  # a token always wins: public or not
        assert client.get("/metrics").status_code == 401
