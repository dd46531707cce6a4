"""The LLM server down, slow past LLM_TIMEOUT_SECONDS, or answering garbage, end to end over HTTP
against the API process: the visitor gets a readable error (an SSE `error` event, or 5xx JSON),
the question is stored once, and the quota is given back when nothing was delivered."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.faults.stack import FaultApi, Store, assert_readable, chat_body, parse_sse, prepare
from tests.utils.fake_llm import fake_llm_server
from tests.utils.knowledge import new_session_id
from tests.utils.widget_stack import free_port

QUESTION = "When are you open on Saturdays?"
TIMEOUT = 1.5  # LLM_TIMEOUT_SECONDS of the server under test
FAST = {"LLM_TIMEOUT_SECONDS": str(TIMEOUT), "LLM_ATTEMPTS": "2", "LLM_RETRY_BASE_SECONDS": "0"}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("llm-faults")
    return data_dir, prepare(data_dir)["shop"]


@pytest.fixture(scope="module")
def fake():
    with fake_llm_server() as server:
        yield server


@pytest.fixture(scope="module")
def api(data, fake):
    with FaultApi(data[0], llm_base_url=fake.base_url, env=FAST) as server:
        yield server


@pytest.fixture
def store(data):
    store = Store.sqlite(data[0])
    yield store
    store.close()


@pytest.fixture(autouse=True)
def calm(fake):
    fake.script, fake.first_delay, fake.token_delay = [], 0.0, 0.0
    yield
    fake.script, fake.first_delay = [], 0.0


def ask(base: str, shop: dict, session_id: str, stream: bool = True) -> httpx.Response:
    body = chat_body(shop, QUESTION, session_id, stream=stream)
    return httpx.post(f"{base}/api/chat", json=body, timeout=60)


def check_failed_turn(store: Store, shop: dict, session_id: str, used_before: int, refunded: bool):
    assert store.messages(session_id) == [("user", QUESTION)]  # the question, once, no answer
    expected = used_before if refunded else used_before + 1
    assert store.quota_used(shop["bot"]) == expected


def test_a_healthy_llm_answers_and_counts_one_message(api, data, fake, store):
    shop, session_id = data[1], new_session_id()
    used = store.quota_used(shop["bot"])
    events = parse_sse(ask(api.base, shop, session_id).text)
    assert [kind for kind, _ in events][-1] == "done"
    assert store.messages(session_id)[-1][0] == "assistant"
    assert store.quota_used(shop["bot"]) == used + 1


@pytest.mark.parametrize("stream", [True, False], ids=["sse", "json"])
def test_llm_server_down(data, store, stream, tmp_path):
    shop, session_id = data[1], new_session_id()
    dead = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there: connection refused
    used = store.quota_used(shop["bot"])
    with FaultApi(data[0], llm_base_url=dead, env=FAST) as api:
        started = time.monotonic()
        response = ask(api.base, shop, session_id, stream)
        elapsed = time.monotonic() - started
    assert elapsed < 10
    assert_readable(response.text)
    print(f"\nLLM down ({response.status_code}, {elapsed:.2f} s): {response.text[-200:]!r}")
    if stream:
        assert response.status_code == 200
        (kind, error), *_ = [e for e in parse_sse(response.text) if e[0] != "token"]
        assert kind == "error" and error["message"].startswith("The assistant")
    else:
        assert response.status_code == 503
        assert response.json()["detail"].startswith("The assistant")
    check_failed_turn(store, shop, session_id, used, refunded=True)


@pytest.mark.parametrize("stream", [True, False], ids=["sse", "json"])
def test_llm_slower_than_the_timeout(api, data, fake, store, stream):
    shop, session_id = data[1], new_session_id()
    fake.first_delay = TIMEOUT * 4  # headers only come after the client gave up
    used = store.quota_used(shop["bot"])
    started = time.monotonic()
    response = ask(api.base, shop, session_id, stream)
    elapsed = time.monotonic() - started
    assert elapsed < TIMEOUT * 2 + 5  # two attempts, each bounded by the timeout: no hang
    assert_readable(response.text)
    print(f"\nLLM slow ({response.status_code}, {elapsed:.2f} s): {response.text[-200:]!r}")
    if stream:
        errors = [data for kind, data in parse_sse(response.text) if kind == "error"]
        assert [e["code"] for e in errors] == ["llm_timeout"]
        assert "too long" in errors[0]["message"] or "try again" in errors[0]["message"].lower()
    else:
        assert response.status_code == 504
        assert response.json()["code"] == "llm_timeout"
    check_failed_turn(store, shop, session_id, used, refunded=True)


@pytest.mark.parametrize("mode", ["stream-error", "500"])
def test_llm_answering_an_error_instead_of_an_answer(api, data, fake, store, mode):
    shop, session_id = data[1], new_session_id()
    fake.script = [mode] * 4  # every attempt
    used = store.quota_used(shop["bot"])
    response = ask(api.base, shop, session_id)
    assert_readable(response.text)
    events = parse_sse(response.text)
    print(f"\nLLM {mode}: {events}")
    assert [kind for kind, _ in events] == ["error"]
    assert events[0][1]["message"]
    check_failed_turn(store, shop, session_id, used, refunded=True)


def test_llm_answering_garbage_mid_stream(api, data, fake, store):
    """Two tokens, then a chunk that is not JSON: the visitor saw a start, then the error. What
    they saw is kept (Activity shows it), the message is given back and counted as an error,
    never as an answered message."""
    shop, session_id = data[1], new_session_id()
    fake.script = ["garbage"]
    used = store.quota_used(shop["bot"])
    response = ask(api.base, shop, session_id)
    assert_readable(response.text)
    events = parse_sse(response.text)
    kinds = [kind for kind, _ in events]
    print(f"\nLLM garbage: {kinds} {events[-1]}")
    assert kinds[0] == "token" and kinds[-1] == "error" and "done" not in kinds
    seen = "".join(payload["content"] for kind, payload in events if kind == "token")
    assert store.messages(session_id) == [("user", QUESTION), ("assistant", seen)]
    assert store.quota_used(shop["bot"]) == used  # refunded
    # the conversation goes on
    fake.script = []
    events = parse_sse(ask(api.base, shop, session_id).text)
    assert events[-1][0] == "done"
    roles = [role for role, _ in store.messages(session_id)]
    assert roles == ["user", "assistant", "user", "assistant"]
