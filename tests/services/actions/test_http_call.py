"""The HTTP action against a real loopback API: parameters, headers, limits and the SSRF guard."""

import pytest

from chatapp.core.config import reset_settings
from chatapp.services.actions import execute as runner
from chatapp.services.actions import http_call, rules, run_log, store, templates
from chatapp.services.actions.common import ActionFailed, ActionRefused
from chatapp.services.knowledge.ingest.urlguard import PRIVATE_NETWORK
from tests.utils.action_api import running_action_api
from tests.utils.factories import make_tenant

ORDER_SCHEMA = templates.DEFAULTS["http"]["parameters"]


@pytest.fixture
def api(monkeypatch):
    monkeypatch.setenv("ALLOW_PRIVATE_URLS", "true")  # the test API lives on loopback
    reset_settings()
    with running_action_api({"12345": {"status": "shipped", "eta": {"day": "Friday"}}}) as api:
        yield api


def config(api, **overrides):
    values = {"url": api.base_url + "/orders/{order_id}", **overrides}
    return templates.clean("http", values)


def saved_earlier(api, url):
    """A config whose address the save-time guard would refuse today: saved before a setting
    or a DNS answer changed, so the guard at call time is the one that must refuse it."""
    return {**config(api, url=api.base_url + "/text", parameters={}), "url": url}


def test_the_order_lookup_fills_the_url_reads_the_path_and_fills_the_answer(api):
    result = http_call.call(config(api), {"order_id": "12345"})
    assert result.result == "shipped" and result.status == 200
    assert api.requests[-1].path == "/orders/12345"
    nested = http_call.call(config(api, response_path="eta.day"), {"order_id": "12345"})
    assert nested.result == "Friday"
    whole = http_call.call(config(api, response_path=""), {"order_id": "12345"})
    assert whole.result == '{"status": "shipped", "eta": {"day": "Friday"}}'
    assert http_call.fill_template(
        "Order {order_id}: {result}", {"order_id": 1, "result": "x"}
    ) == ("Order 1: x")


def test_parameters_are_checked_against_the_schema_before_any_call(api):
    with pytest.raises(ActionRefused) as info:
        http_call.call(config(api), {"order_id": "12; DROP"})
    assert "'order_id'" in info.value.message and "does not match" in info.value.message
    with pytest.raises(ActionRefused) as info:
        http_call.call(config(api), {})
    assert "'order_id' is a required property" in info.value.message
    assert api.requests == []


def test_values_are_escaped_into_the_url_and_extra_parameters_go_to_query_or_body(api):
    schema = {"type": "object", "properties": {"q": {"type": "string"}, "n": {"type": "integer"}}}
    api.orders["a%2Fb%3Fc"] = {"status": "escaped"}
    lookup = config(api, url=api.base_url + "/orders/{q}", parameters=schema)
    assert http_call.call(lookup, {"q": "a/b?c", "n": 2}).result == "escaped"
    assert api.requests[-1].path == "/orders/a%2Fb%3Fc?n=2"
    hook = config(
        api, method="POST", url=api.base_url + "/hook", parameters=schema, response_path=""
    )
    http_call.call(hook, {"q": "hello", "n": 3})
    assert api.requests[-1].json() == {"q": "hello", "n": 3}


def test_headers_are_sent_with_the_secret_decrypted(api, session):
    tenant = make_tenant(session, "a")
    headers = [
        {"name": "Authorization", "value": "Bearer sk-secret-0042", "secret": True},
        {"name": "X-Shop", "value": "lyon"},
    ]
    action = store.create_action(
        session, tenant.owner, tenant.bot.id, kind="http",
        config={"url": api.base_url + "/orders/{order_id}", "headers": headers},
    )  # fmt: skip
    assert "sk-secret" not in str(action.config)
    outcome = runner.run(
        session, store.snapshot(action), trigger="test", params={"order_id": "12345"}
    )
    assert outcome.outcome == "ok" and outcome.answer == "Order 12345: shipped"
    sent = api.requests[-1].headers
    assert sent["authorization"] == "Bearer sk-secret-0042" and sent["x-shop"] == "lyon"
    [run] = run_log.list_runs(session, tenant.viewer, tenant.bot.id)
    assert (run.trigger, run.outcome, run.input, run.output) == (
        "test",
        "ok",
        {"order_id": "12345"},
        "Order 12345: shipped",
    )


def test_timeout_size_cap_non_json_and_errors_are_failures_in_words(api):
    api.slow_seconds = 5
    with pytest.raises(ActionFailed) as info:
        http_call.call(config(api, url=api.base_url + "/slow", timeout_seconds=1), {
            "order_id": "123"
        })  # fmt: skip
    assert info.value.message == "The service took longer than 1 seconds to answer."
    api.release.set()

    big = config(api, url=api.base_url + "/big", response_path="", max_response_bytes=1000)
    with pytest.raises(ActionFailed) as info:
        http_call.call(big, {"order_id": "123"})
    assert (
        info.value.message
        == "The answer was larger than 1,000 bytes, the limit set for this action."
    )

    text = config(api, url=api.base_url + "/text")
    with pytest.raises(ActionFailed) as info:
        http_call.call(text, {"order_id": "123"})
    assert "did not answer with JSON" in info.value.message
    plain = http_call.call(config(api, url=api.base_url + "/text", response_path=""), {
        "order_id": "123"
    })  # fmt: skip
    assert plain.result == "All systems go."

    with pytest.raises(ActionFailed) as info:
        http_call.call(config(api, url=api.base_url + "/fail"), {"order_id": "123"})
    assert info.value.message == "The service answered with an error (HTTP 500)."
    with pytest.raises(ActionFailed) as info:
        http_call.call(config(api), {"order_id": "999"})
    assert "HTTP 404" in info.value.message
    with pytest.raises(ActionFailed) as info:
        http_call.call(config(api, response_path="missing.field"), {"order_id": "12345"})
    assert info.value.message == "The answer has no 'missing.field'."


def test_internal_addresses_are_refused_like_url_ingestion(api, monkeypatch, session):
    for url in ("http://169.254.169.254/latest/meta-data/", "http://metadata.google.internal/"):
        with pytest.raises(ActionRefused) as info:  # refused even with private URLs allowed
            http_call.call(saved_earlier(api, url), {})
        assert info.value.message == PRIVATE_NETWORK
    tenant = make_tenant(session, "a")
    action = store.create_action(  # saved while private addresses were allowed ...
        session, tenant.owner, tenant.bot.id, kind="http",
        config={"url": "http://127.0.0.1:9/admin", "parameters": {}},
    )  # fmt: skip
    urls = (api.base_url + "/text", "http://10.0.0.5/", "http://[::1]/", "http://0x7f.1/")
    configs = [saved_earlier(api, url) for url in urls]
    monkeypatch.setenv("ALLOW_PRIVATE_URLS", "false")  # ... then no longer: refused when called
    reset_settings()
    for saved in configs:
        with pytest.raises(ActionRefused):
            http_call.call(saved, {})
    assert api.requests == []
    outcome = runner.run(session, store.snapshot(action), trigger="test")
    assert (outcome.outcome, outcome.error) == ("refused", PRIVATE_NETWORK)
    [run] = run_log.list_runs(session, tenant.owner, tenant.bot.id)
    assert (run.outcome, run.error, run.trigger) == ("refused", PRIVATE_NETWORK, "test")


def test_rules_match_words_phrases_and_fallbacks():
    rule = {"keywords": ["order"], "phrases": ["where is my"], "on_fallback": True}
    assert rules.reason(rule, "My ORDER is late", fell_back=False) == "keyword: order"
    assert rules.reason(rule, "Where is my parcel?", fell_back=False) == "phrase: where is my"
    assert rules.reason(rule, "I reordered it", fell_back=False) is None  # whole words only
    assert rules.reason(rule, "Hello", fell_back=True) == "the bot could not answer"
    assert rules.reason(rule, "Hello", fell_back=False) is None
    found = rules.extract_parameters(ORDER_SCHEMA, "Where is order #12345 please?")
    assert found == {"order_id": "12345"}
    typed = {"properties": {"n": {"type": "integer", "x-pattern": r"(\d+) items"}}}
    assert rules.extract_parameters(typed, "send 4 items") == {"n": 4}
    assert rules.extract_parameters(ORDER_SCHEMA, "no number here") == {}
