"""X-Request-ID: kept when sane, made when missing or unsafe, returned on every response (errors
and event streams too), and carried by every log line of the request."""

import json
import logging
import re

from chatapp.core.logs import JsonFormatter
from tests.api.test_public_api import body
from tests.utils.knowledge import make_shop

GENERATED = re.compile(r"[0-9a-f]{32}")


def test_a_sane_incoming_id_comes_back(client):
    response = client.get("/api/health", headers={"X-Request-ID": "lb-7f3a.2_x"})
    assert response.headers["x-request-id"] == "lb-7f3a.2_x"


def test_a_missing_or_unsafe_id_is_replaced_by_a_new_one(client):
    ids = set()
    for incoming in (None, "has spaces", "a" * 65, 'quote"d', "new\u00e9".encode()):
        headers = {"X-Request-ID": incoming} if incoming else {}
        response = client.get("/api/health", headers=headers)
        assert GENERATED.fullmatch(response.headers["x-request-id"]), incoming
        ids.add(response.headers["x-request-id"])
    assert len(ids) == 5  # a new one each time


def test_errors_and_streams_carry_the_id(client):
    shop = make_shop()
    not_found = client.get("/api/public/bots/bot_doesnotexist1/config")
    assert not_found.status_code == 404 and GENERATED.fullmatch(not_found.headers["x-request-id"])
    invalid = client.post(
        "/api/chat", json={"bot_id": shop.public_id}, headers={"X-Request-ID": "r1"}
    )
    assert invalid.status_code == 422 and invalid.headers["x-request-id"] == "r1"
    unknown = client.get("/no/such/route", headers={"X-Request-ID": "r2"})
    assert unknown.status_code == 404 and unknown.headers["x-request-id"] == "r2"
    stream = client.post("/api/chat", json=body(shop), headers={"X-Request-ID": "r3"})
    assert stream.headers["content-type"].startswith("text/event-stream")
    assert stream.headers["x-request-id"] == "r3"
    preflight = client.options(
        "/api/chat",
        headers={"Origin": "https://shop.example", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 204 and GENERATED.fullmatch(preflight.headers["x-request-id"])


def test_log_lines_of_a_request_carry_its_id_and_format_as_json(client, caplog):
    caplog.set_level(logging.INFO)
    response = client.post(
        "/api/v1/auth/login",
        json={"email": "nobody@example.com", "password": "wrong password"},
        headers={"X-Request-ID": "trace-42"},
    )
    assert response.status_code == 401
    records = [r for r in caplog.records if r.name == "chatapp.security"]
    assert len(records) == 1 and records[0].request_id == "trace-42"
    line = JsonFormatter().format(records[0])
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["request_id"] == "trace-42"
    assert entry["level"] == "WARNING" and entry["logger"] == "chatapp.security"
    assert entry["event"] == "login_failed" and entry["ip"] == "testclient"
    assert {"time", "message", "reason", "email"} <= set(entry)
    assert "wrong password" not in line
