from fastapi.testclient import TestClient

from chatapp import __version__
from chatapp.api.app import create_api


def test_health_reports_database_and_version(client):
    response = client.get("/api/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": __version__, "checks": {"database": "ok"}}


def test_health_is_503_when_the_database_is_unreachable(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")
    from chatapp.services.config import reset_settings

    reset_settings()
    with TestClient(create_api()) as client:
        response = client.get("/api/health")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "unreachable"


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
