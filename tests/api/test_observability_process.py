"""The real server (granian, loopback HTTP): JSON log lines on stderr carry the request id, and
with PROMETHEUS_MULTIPROC_DIR two worker processes report one exact sum at /metrics."""

import json

import httpx

from chatapp.core import migrations
from tests.utils.prom import samples, value
from tests.utils.widget_stack import ApiProcess

# Served by either worker without the vector store (Qdrant's local mode is one process only).
MISSING_BOT = "/api/public/bots/bot_doesnotexist1/config"
TOKEN = "prometheus-scrape-token-0123"


def serve(data_dir, **env) -> ApiProcess:
    migrations.upgrade(f"sqlite:///{data_dir / 'chatapp.db'}")
    server = ApiProcess(data_dir, None, workers=int(env.pop("WORKERS", 1)))
    server.env |= env
    return server


def test_json_logs_carry_the_request_id(isolated_settings):
    data_dir = isolated_settings
    server = serve(data_dir, LOG_FORMAT="json")
    base = server.start()
    try:
        response = httpx.post(
            f"{base}/api/v1/auth/login",
            json={"email": "nobody@example.com", "password": "not-the-password"},
            headers={"X-Request-ID": "proxy-abc.123"},
        )
        assert response.status_code == 401
        assert response.headers["x-request-id"] == "proxy-abc.123"
    finally:
        server.stop()
    lines = (data_dir / "api.log").read_text().splitlines()
    entries = [json.loads(line) for line in lines if line.startswith("{")]
    login = [e for e in entries if e.get("event") == "login_failed"]
    assert len(login) == 1, lines[-20:]
    entry = login[0]
    assert entry["request_id"] == "proxy-abc.123" and entry["logger"] == "chatapp.security"
    assert entry["ip"] == "127.0.0.1" and entry["level"] == "WARNING"
    assert entry["time"].endswith("+00:00") and entry["email"] == "nobody@example.com"
    assert "not-the-password" not in "\n".join(lines)


def test_two_workers_report_one_exact_sum(isolated_settings, tmp_path):
    multiproc = tmp_path / "prometheus"
    multiproc.mkdir()
    server = serve(
        isolated_settings, WORKERS=2, PROMETHEUS_MULTIPROC_DIR=str(multiproc), METRICS_TOKEN=TOKEN
    )
    base = server.start()
    scraper = {"Authorization": f"Bearer {TOKEN}"}
    try:
        with httpx.Client(headers=scraper) as first:
            before = samples(first.get(f"{base}/metrics").text)
        for _ in range(30):
            with httpx.Client() as client:  # a new connection each: either worker may answer
                assert client.get(f"{base}{MISSING_BOT}").status_code == 404
        with httpx.Client(headers=scraper) as last:
            after = samples(last.get(f"{base}/metrics").text)
    finally:
        server.stop()
    labels = {"route": "/api/public/bots/{bot_id}/config", "method": "GET", "status": "404"}
    counted = value(after, "chatapp_http_requests_total", **labels)
    assert counted - value(before, "chatapp_http_requests_total", **labels) == 30
    pids = {path.stem.rsplit("_", 1)[-1] for path in multiproc.glob("*.db")}
    assert len(pids) >= 2  # both workers write their counts there
