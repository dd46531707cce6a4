"""The members' playground API takes the dashboard playground's tweaks (instructions, model,
temperature), validated by the same schema as the engine, with the same limits and words."""

import asyncio

import pytest

from chatapp.core.errors import ValidationFailed
from chatapp.services.bots.fields import MAX_INSTRUCTIONS, MAX_MODEL, MAX_TEMPERATURE
from chatapp.services.chat import engine as chat_engine
from chatapp.services.chat.request import ChatRequest
from chatapp.state.playground import instructions_error, model_error, temperature_error
from tests.utils.factories import PASSWORD
from tests.utils.fake_llm import configured_fake_llm
from tests.utils.knowledge import make_shop

QUESTION = "When are you open on Saturdays?"


@pytest.fixture
def fake(monkeypatch, database_url):
    with configured_fake_llm(monkeypatch, api_key="sk-test-playground-0001") as server:
        yield server


@pytest.fixture
def shop(client, fake):
    shop = make_shop("a")
    login = client.post(
        "/api/v1/auth/login", json={"email": "owner-a@example.com", "password": PASSWORD}
    )
    headers = {"Authorization": f"Bearer {login.json()['token']}"}
    path = f"/api/v1/workspaces/{shop.tenant.workspace.id}/bots/{shop.bot_id}/chat"
    return shop, headers, path


def test_the_playground_api_answers_with_the_tweaks_tried(client, fake, shop):
    shop, headers, path = shop
    fake.reply = "We open from 10am to 4pm on Saturdays [1]."
    tweaks = {"instructions": "Answer in one short sentence.", "model": "tryout-model"}
    body = {"message": QUESTION, "stream": False, "temperature": 1.5, **tweaks}
    response = client.post(path, json=body, headers=headers)
    assert response.status_code == 200, response.text
    assert "10am to 4pm" in response.json()["answer"]
    sent = fake.requests[-1]
    assert sent["model"] == "tryout-model" and sent["temperature"] == 1.5
    assert "Answer in one short sentence." in sent["messages"][0]["content"]
    # Without tweaks, the bot's own settings answer.
    plain = client.post(path, json={"message": QUESTION, "stream": False}, headers=headers)
    assert plain.status_code == 200
    assert fake.requests[-1]["model"] != "tryout-model"
    assert "Answer in one short sentence." not in fake.requests[-1]["messages"][0]["content"]


LIMITS = [
    ("instructions", "x" * MAX_INSTRUCTIONS, "x" * (MAX_INSTRUCTIONS + 1), instructions_error),
    ("model", "m" * MAX_MODEL, "m" * (MAX_MODEL + 1), model_error),
    ("model", "gpt-4o-mini", "gpt 4o", model_error),
    ("temperature", MAX_TEMPERATURE, MAX_TEMPERATURE + 0.1, lambda v: temperature_error(str(v))),
]


@pytest.mark.parametrize(("field", "at_limit", "over", "form_check"), LIMITS)
def test_api_engine_and_dashboard_agree_on_each_tweak(
    client, fake, shop, field, at_limit, over, form_check
):
    shop, headers, path = shop
    ok = client.post(path, json={"message": QUESTION, field: at_limit}, headers=headers)
    assert ok.status_code == 200, ok.text
    assert form_check(at_limit) == ""
    refused = client.post(path, json={"message": QUESTION, field: over}, headers=headers)
    request = ChatRequest(
        bot_id=shop.public_id,
        message=QUESTION,
        actor=shop.tenant.owner,
        channel="playground",
        **{field: over},
    )
    with pytest.raises(ValidationFailed) as engine_refusal:
        asyncio.run(chat_engine.reply(request))
    words = engine_refusal.value.message
    assert refused.status_code == 422
    assert refused.json()["detail"] == f"{field}: {words}"
    assert form_check(over) == words
