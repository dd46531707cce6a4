import socket

import pytest
from fastapi.testclient import TestClient

from chatapp import __version__
from chatapp.api.app import create_api
from chatapp.core.config import reset_settings
from chatapp.core.db import session_scope
from chatapp.services.knowledge import retrieval
from chatapp.services.ops import health
from tests.utils.knowledge import make_shop

DEPENDENCIES = {"database", "redis", "vector_index", "embedder", "llm", "ingestion"}


@pytest.fixture(autouse=True)
def fresh_health_cache():
    health.reset_cache()
    yield
    health.reset_cache()


def closed_port() -> int:
    with socket.socket() as sock:  # bound then closed: nothing listens there
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_health_reports_each_dependency_and_version(client):
    response = client.get("/api/health")
    assert response.status_code == 200
    result = response.json()
    assert result["status"] == "ok" and result["version"] == __version__, result
    checks = result["checks"]
    assert set(checks) == DEPENDENCIES
    assert checks["database"]["status"] == "ok" and checks["database"]["latency_ms"] >= 0
    assert checks["redis"]["status"] == "disabled"  # no REDIS_URL
    assert checks["vector_index"] == {**checks["vector_index"], "status": "ok", "mode": "embedded"}
    assert checks["embedder"]["provider"] == "local" and checks["embedder"]["status"] == "ok"
    assert checks["llm"] == {**checks["llm"], "mode": "extractive", "configured": False}
    assert checks["ingestion"]["queued"] == 0 and checks["ingestion"]["stalled"] == 0


def test_embedded_index_reports_the_bots_this_process_holds(client):
    before = client.get("/api/health").json()["checks"]["vector_index"]
    assert {**before, "latency_ms": 0} == {
        "status": "ok",
        "mode": "embedded",
        "bots": 0,
        "chunks": 0,
        "latency_ms": 0,
    }
    shop = make_shop()
    with session_scope() as session:
        retrieval.retrieve(
            session, workspace_id=shop.tenant.workspace.id, bot_id=shop.tenant.bot.id, query="hours"
        )
    health.reset_cache()
    after = client.get("/api/health").json()["checks"]["vector_index"]
    assert after["status"] == "ok" and after["bots"] == 1 and after["chunks"] >= 3


def test_health_with_redis_down_is_degraded_not_down(database_url, monkeypatch):
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{closed_port()}/0")
    reset_settings()
    with TestClient(create_api()) as client:
        response = client.get("/api/health")
    assert response.status_code == 200
    result = response.json()
    assert result["status"] == "degraded"
    assert result["checks"]["redis"]["status"] == "down"
    assert "Connection" in result["checks"]["redis"]["error"]
    assert result["checks"]["database"]["status"] == "ok"


def test_health_with_redis_up_pings_it(database_url, monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    reset_settings()
    with TestClient(create_api()) as client:
        result = client.get("/api/health").json()
    assert result["checks"]["redis"]["status"] == "ok", result  # Redis runs on this machine


def test_health_is_503_when_the_database_is_unreachable(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")
    reset_settings()
    with TestClient(create_api()) as client:
        response = client.get("/api/health")
    assert response.status_code == 503
    result = response.json()
    assert result["status"] == "down"
    assert result["checks"]["database"]["status"] == "down"
    assert result["checks"]["ingestion"]["status"] == "unknown"
    assert response.headers["x-request-id"]


def test_health_asks_the_llm_and_says_when_nothing_answers(database_url, monkeypatch):
    """It said "ok" while nothing listened at OPENAI_BASE_URL: now the plain check asks the
    provider for its model list (cached for a minute) and reports it down, in words."""
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{closed_port()}/v1")
    reset_settings()
    with TestClient(create_api()) as client:
        response = client.get("/api/health")
    assert response.status_code == 200  # answers may still come (offline fallback): degraded
    result = response.json()
    assert result["status"] == "degraded"
    llm = result["checks"]["llm"]
    assert llm["status"] == "down" and llm["configured"] is True, llm
    assert "127.0.0.1" in llm["error"] and "answer" in llm["error"], llm


def test_a_reachable_llm_is_checked_once_a_minute_not_on_every_probe(database_url, monkeypatch):
    from tests.utils.fake_llm import fake_llm_server

    with fake_llm_server() as fake:
        monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
        monkeypatch.setenv("OPENAI_MODEL", "fake")
        reset_settings()
        with TestClient(create_api()) as client:
            first = client.get("/api/health").json()
    assert first["status"] == "ok", first
    assert first["checks"]["llm"]["reachable"] is True
    assert first["checks"]["llm"]["model_listed"] is True
    # The provider is gone now; probes within the minute reuse the answer, deep asks again.
    with TestClient(create_api()) as client:
        cached = client.get("/api/health").json()["checks"]["llm"]
        deep = client.get("/api/health?deep=1").json()["checks"]["llm"]
    assert cached["status"] == "ok" and cached["reachable"] is True
    assert deep["status"] == "down"
    assert health.LLM_CACHE_SECONDS == 60


def test_deep_health_calls_the_llm_provider(database_url, monkeypatch):
    from tests.utils.fake_llm import fake_llm_server

    with fake_llm_server() as fake:
        monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
        reset_settings()
        with TestClient(create_api()) as client:
            shallow = client.get("/api/health").json()["checks"]["llm"]
            deep = client.get("/api/health?deep=1").json()["checks"]["llm"]
    assert shallow["configured"] is True and shallow["reachable"] is True
    assert deep["status"] == "ok" and deep["reachable"] is True
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{closed_port()}/v1")
    reset_settings()
    health.reset_cache()
    with TestClient(create_api()) as client:
        down = client.get("/api/health?deep=1")
    assert down.status_code == 200 and down.json()["status"] == "degraded"
    assert down.json()["checks"]["llm"]["status"] == "down"


def test_openapi_docs_are_served_from_local_files(client):
    docs = client.get("/api/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    assert "cdn.jsdelivr" not in docs.text  # works offline
    assert client.get("/api/docs-static/swagger-ui-bundle.js").status_code == 200
    assert client.get("/api/docs-static/swagger-ui.css").status_code == 200
    schema = client.get("/api/openapi.json").json()
    assert schema["info"]["title"] == "Chatapp API"
    assert "/api/health" in schema["paths"]
    assert "/api/v1/workspaces/{workspace_id}/bots" in schema["paths"]
