"""The widget's actions, live handoff and audiences against the real public and inbox routes
(docs/LIVE_AND_ACTIONS.md): a link button and a lead form under answers, "Talk to a person" with
an agent replying live through the inbox API, the stream resuming after the server restarts and
after a reload without missing or repeating a message, and the audience quick replies.

The API runs offline (extractive answers, actions picked by their rules) on a fixed port so the
test can restart it; agents act through the inbox routes with a workspace API token.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine
from sqlmodel import Session, select

from chatapp.services.models import Contact, Conversation
from tests.e2e.widget.conftest import widget_state
from tests.utils.live_stack import CONNECTING, LEAD_SUCCESS, LINK, prepare_live
from tests.utils.widget_stack import ApiProcess

pytestmark = pytest.mark.e2e

PLAIN = "<main><h1>Our shop</h1><p>Welcome.</p></main>"
INBOX = "/api/v1/workspaces/{ws}/inbox"  # the agents' routes
EVENTS = re.compile(r"/api/public/conversations/events\?")


@dataclass
class Live:
    server: ApiProcess
    site: object
    bot: dict
    engine: object

    @property
    def api(self) -> str:
        return self.server.base

    def page_url(self, path: str) -> str:
        tag = (
            f'<script src="{self.api}/widget.js" data-bot-id="{self.bot["bot"]}" '
            f'data-key="{self.bot["key"]}" async></script>'
        )
        html = (
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f"<title>Live {path}</title></head><body>{PLAIN}{tag}</body></html>"
        )
        return self.site.add(path, html)

    def agent(self, method: str, conversation_id: int, action: str, **body) -> httpx.Response:
        """An agent's call on one conversation of the inbox (take, messages, typing, resolve)."""
        url = self.api + INBOX.format(ws=self.bot["workspace"]) + f"/{conversation_id}/{action}"
        headers = {"Authorization": f"Bearer {self.bot['token']}"}
        response = httpx.request(method, url, json=body or None, headers=headers, timeout=10)
        assert response.status_code < 300, (action, response.status_code, response.text)
        return response

    def db(self) -> Session:
        return Session(self.engine)


@pytest.fixture(scope="module")
def live(widget_stack, tmp_path_factory):
    """widget_stack built the widget and serves the host pages; this bot has its own offline API."""
    data_dir = tmp_path_factory.mktemp("widget-live")
    bot = prepare_live(data_dir)
    server = ApiProcess(data_dir, llm_base_url=None)
    server.start()
    engine = create_engine(f"sqlite:///{data_dir / 'chatapp.db'}")
    try:
        yield Live(server, widget_stack.site, bot, engine)
    finally:
        server.stop()
        engine.dispose()


def open_widget(page, live: Live, path: str):
    page.goto(live.page_url(path))
    page.locator("chatapp-widget .l").click()
    dialog = page.get_by_role("dialog", name="Shop Assistant")
    expect(dialog).to_be_visible()
    return dialog


def ask(page, text: str) -> None:
    page.locator("#chatapp-input").fill(text)
    page.locator("#chatapp-input").press("Enter")


def talk_to_a_person(page, dialog) -> int:
    """Press the header's button; returns the conversation's id (and the stream is open)."""
    with page.expect_response("**/api/public/handoff") as handoff, page.expect_request(EVENTS):
        dialog.get_by_role("button", name="Talk to a person").click()
    assert handoff.value.status == 200
    reply = handoff.value.json()
    assert reply["status"] == "pending"
    expect(dialog.locator(".m.sy").last).to_have_text(reply["message"] or CONNECTING)
    expect(dialog.get_by_role("button", name="Talk to a person")).to_be_hidden()
    return reply["conversation_id"]


def test_a_link_action_is_a_button_under_the_answer(open_page, live):
    page = open_page()
    dialog = open_widget(page, live, "/live-link")
    ask(page, "Can I book a call with you?")
    answer = dialog.locator('.m[data-state="done"]').last
    button = answer.locator(".ac a.ab")
    expect(button).to_have_text(LINK["label"])
    expect(button).to_have_attribute("href", LINK["url"])
    expect(button).to_have_attribute("target", "_blank")
    expect(button).to_have_attribute("rel", re.compile(r"\bnoopener\b"))
    with page.context.expect_page() as popup:  # a new tab; the host page stays
        button.click()
    # noopener: the booking page cannot reach the host page (Playwright's opener() reports the
    # tab that opened it either way, so ask the page itself).
    assert popup.value.evaluate("window.opener === null") is True
    expect(page.locator("chatapp-widget .ac a.ab")).to_be_visible()

    page.reload()
    page.locator("chatapp-widget .l").click()
    expect(page.locator("chatapp-widget .ac a.ab")).to_have_attribute("href", LINK["url"])


def test_the_lead_form_checks_its_fields_and_creates_a_contact(open_page, live):
    page = open_page()
    dialog = open_widget(page, live, "/live-lead")
    ask(page, "Could you call me back tomorrow?")
    form = dialog.get_by_role("form", name="Leave your details")
    expect(form).to_be_visible()
    name = form.get_by_label("Your name")
    email = form.get_by_label("Email")
    phone = form.get_by_label("Phone")
    message = form.get_by_label("Message")
    expect(name).to_have_attribute("aria-required", "true")
    expect(phone).to_have_attribute("aria-required", "false")
    expect(form.locator(".rq")).to_have_count(2)  # the required marks

    # Nothing is sent while a field is wrong; each error sits next to its field.
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if "/api/public/leads" in r.url else None)
    send = form.get_by_role("button", name="Send")
    send.click()
    expect(form.locator("#" + name.get_attribute("aria-describedby"))).to_have_text(
        "Please fill in this field."
    )
    expect(name).to_be_focused()
    email.fill("ada@example")
    phone.fill("call me")
    name.fill("Ada Lovelace")
    send.click()
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(form.locator("#" + email.get_attribute("aria-describedby"))).to_contain_text(
        "valid email"
    )
    expect(form.locator("#" + phone.get_attribute("aria-describedby"))).to_contain_text(
        "valid phone"
    )
    assert requests == []

    email.fill("ada@example.com")
    phone.fill("+44 20 7946 0958")
    message.fill("Mornings are best.")
    with page.expect_response("**/api/public/leads") as response:
        send.click()
    assert response.value.status == 201
    contact_id = response.value.json()["contact_id"]
    status = dialog.get_by_role("status").filter(has_text=LEAD_SUCCESS)
    expect(status).to_be_visible()
    expect(dialog.get_by_role("form", name="Leave your details")).to_have_count(0)

    session_id = widget_state(page)[f"chatapp:{live.bot['bot']}"]["sid"]
    with live.db() as session:
        contact = session.get(Contact, contact_id)
        assert (contact.name, contact.email, contact.phone) == (
            "Ada Lovelace",
            "ada@example.com",
            "+44 20 7946 0958",
        )
        assert contact.notes == "Mornings are best."
        assert contact.workspace_id == live.bot["workspace"]
        conversation = session.exec(
            select(Conversation).where(Conversation.session_id == session_id)
        ).one()
        assert conversation.contact_id == contact_id

    # A reload shows the form as done, not again.
    page.reload()
    page.locator("chatapp-widget .l").click()
    expect(page.get_by_role("status").filter(has_text=LEAD_SUCCESS)).to_be_visible()
    expect(page.get_by_role("form")).to_have_count(0)


def test_talk_to_a_person_and_exchange_messages_live(open_page, live):
    page = open_page()
    dialog = open_widget(page, live, "/live-handoff")
    ask(page, "When are you open on Saturdays?")
    expect(dialog.locator('.m[data-state="done"]')).to_have_count(2)  # welcome + answer
    conversation_id = talk_to_a_person(page, dialog)

    live.agent("POST", conversation_id, "take")
    expect(dialog.locator(".m.sy").last).to_contain_text("joined the conversation")

    live.agent("POST", conversation_id, "typing", typing=True)
    typing = dialog.locator(".m.typing")
    expect(typing).to_contain_text("is typing")
    live.agent("POST", conversation_id, "messages", content="Hello, I'm Sam from the shop.")
    agent = dialog.locator(".m.g")
    expect(agent).to_have_count(1)
    expect(agent.locator(".b")).to_have_text("Hello, I'm Sam from the shop.")
    expect(agent.locator(".an")).not_to_be_empty()
    expect(typing).to_have_count(0)

    # The visitor's typing reaches the agent; their message goes to the person, not the bot.
    with page.expect_request("**/api/public/typing") as typing_on:
        page.locator("#chatapp-input").press_sequentially("Great")
    assert typing_on.value.post_data_json["typing"] is True
    with page.expect_response("**/api/chat") as chat:
        page.locator("#chatapp-input").fill("Great, can you check my order?")
        page.locator("#chatapp-input").press("Enter")
    assert '"handled_by":"human"' in chat.value.text().replace(" ", "")
    mine = dialog.locator(".m.u").last
    expect(mine).to_have_attribute("data-state", "sent")
    expect(dialog.locator(".m.typing")).to_have_count(0)
    expect(dialog.locator('.m[data-state="done"]')).to_have_count(2)  # no answer from the bot

    live.agent("POST", conversation_id, "resolve")
    expect(dialog.locator(".m.sy").last).to_have_text("The conversation was closed.")
    expect(dialog.get_by_role("button", name="Talk to a person")).to_be_visible()
    ask(page, "Do you ship to Canada?")
    expect(dialog.locator('.m[data-state="done"]')).to_have_count(3)  # the bot answers again
    expect(dialog.locator('.m[data-state="done"]').last).to_contain_text("Canada")


def test_the_stream_resumes_after_a_restart_and_a_reload_missing_nothing(open_page, live):
    page = open_page()
    dialog = open_widget(page, live, "/live-resume")
    conversation_id = talk_to_a_person(page, dialog)
    live.agent("POST", conversation_id, "take")
    live.agent("POST", conversation_id, "messages", content="First reply")
    agent = dialog.locator(".m.g .b")
    expect(agent).to_have_text(["First reply"])

    # The server goes away (a real drop), and comes back while the widget cannot reconnect yet:
    # the reply sent meanwhile must arrive once the stream is back, after the last id it saw.
    assert widget_state(page)[f"chatapp:{live.bot['bot']}"]["live"]["last"] > 0
    reconnects = []
    page.on("request", lambda r: reconnects.append(r) if EVENTS.search(r.url) else None)
    page.route(EVENTS, lambda route: route.abort())
    live.server.restart()
    live.agent("POST", conversation_id, "messages", content="Sent during the drop")
    page.unroute(EVENTS)
    expect(agent).to_have_text(["First reply", "Sent during the drop"], timeout=60_000)
    assert reconnects  # it came back by itself; the missed reply arrived once, in order
    live.agent("POST", conversation_id, "messages", content="After the drop")
    expect(agent).to_have_text(["First reply", "Sent during the drop", "After the drop"])

    # The page goes away; a reply comes; the reloaded widget reopens the stream from the last id.
    page.goto("about:blank")
    live.agent("POST", conversation_id, "messages", content="While you were away")
    page.goto(live.page_url("/live-resume"))
    with page.expect_request(EVENTS) as resumed:  # the panel (and its stream) loads on open
        page.locator("chatapp-widget .l").click()
    assert re.search(r"last_event_id=\d+", resumed.value.url)
    expect(page.locator("chatapp-widget .m.g .b")).to_have_text(
        ["First reply", "Sent during the drop", "After the drop", "While you were away"]
    )
    live.agent("POST", conversation_id, "messages", content="Welcome back")
    expect(page.locator("chatapp-widget .m.g .b")).to_have_count(5)
    expect(page.locator("chatapp-widget .m.g .b").last).to_have_text("Welcome back")
    joined = page.locator("chatapp-widget .m.sy").filter(has_text="joined the conversation")
    expect(joined).to_have_count(1)


def test_audience_quick_replies_pick_the_starters_and_go_with_every_message(open_page, live):
    page = open_page()
    dialog = open_widget(page, live, "/live-audience")
    who = dialog.get_by_role("group", name="Who are you?")
    recruiter = who.get_by_role("button", name="I'm a recruiter")
    expect(recruiter).to_have_attribute("aria-pressed", "false")
    expect(who.get_by_role("button", name="I'm a peer")).to_be_visible()
    expect(dialog.get_by_role("button", name="When are you open on Saturdays?")).to_be_visible()

    recruiter.click()
    expect(who.get_by_role("button", name="I'm a recruiter")).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(dialog.get_by_role("button", name="When are you open on Saturdays?")).to_have_count(0)
    with page.expect_request("**/api/chat") as first:
        dialog.get_by_role("button", name="Which roles are you hiring for?").click()
    assert first.value.post_data_json["audience"] == "recruiter"
    expect(dialog.locator('.m[data-state="done"]')).to_have_count(2)
    expect(who).to_have_count(0)  # the start is over

    page.reload()
    page.locator("chatapp-widget .l").click()
    with page.expect_request("**/api/chat") as second:
        ask(page, "Do you ship to Canada?")
    assert second.value.post_data_json["audience"] == "recruiter"
    session_id = second.value.post_data_json["session_id"]
    expect(page.locator('chatapp-widget .m[data-state="done"]')).to_have_count(3)
    with live.db() as session:
        conversation = session.exec(
            select(Conversation).where(Conversation.session_id == session_id)
        ).one()
        assert conversation.audience == "recruiter"

    # A new conversation starts without an audience.
    page.get_by_role("button", name="New conversation").click()
    expect(page.get_by_role("button", name="I'm a recruiter")).to_have_attribute(
        "aria-pressed", "false"
    )
    with page.expect_request("**/api/chat") as third:
        ask(page, "Hello")
    assert "audience" not in third.value.post_data_json


def test_when_no_agent_takes_it_in_time_the_lead_form_is_offered(open_page, live):
    page = open_page()
    dialog = open_widget(page, live, "/live-wait")
    conversation_id = talk_to_a_person(page, dialog)
    expect(dialog.get_by_role("form", name="Leave your details")).to_have_count(0)

    # Nobody took it within the handoff's wait (30 minutes): move the ask back in time, as if
    # the visitor had waited, and let the widget's stream look again.
    with live.db() as session:
        conversation = session.get(Conversation, conversation_id)
        conversation.handoff_at = conversation.handoff_at - timedelta(minutes=31)
        session.add(conversation)
        session.commit()
    page.reload()
    page.locator("chatapp-widget .l").click()
    form = page.get_by_role("dialog", name="Shop Assistant").get_by_role(
        "form", name="Leave your details"
    )
    expect(form).to_be_visible()
    expect(form.get_by_label("Email")).to_be_visible()
    # Offered once: another look (a reload) does not offer it again.
    page.reload()
    page.locator("chatapp-widget .l").click()
    dialog = page.get_by_role("dialog", name="Shop Assistant")
    expect(dialog.get_by_role("form", name="Leave your details")).to_be_visible()
    expect(dialog.get_by_role("form", name="Leave your details")).to_have_count(1)
    assert len(widget_state(page)[f"chatapp:{live.bot['bot']}"]["msgs"]) == 2  # asked + offer


def test_talk_to_a_person_has_a_visible_label_and_connecting_shows_once(open_page, live):
    """The button says what it does (visible text, its accessible name, a tooltip), and asking
    for a person says "connecting" once: by the button, or by a phrase the bot recognises."""
    page = open_page()
    dialog = open_widget(page, live, "/live-label")
    button = dialog.get_by_role("button", name="Talk to a person")
    expect(button).to_have_text("Talk to a person")  # shown, not only an icon's aria-label
    expect(button).to_have_attribute("title", "Talk to a person")
    box = button.bounding_box()
    assert box is not None and box["width"] > 80  # the words are laid out, not clipped away

    connecting = dialog.locator(".m").filter(has_text=CONNECTING)
    conversation_id = talk_to_a_person(page, dialog)
    live.agent("POST", conversation_id, "take")  # later events arrive after the stored ones
    expect(dialog.locator(".m.sy").last).to_contain_text("joined the conversation")
    expect(connecting).to_have_count(1)
    live.agent("POST", conversation_id, "resolve")
    expect(dialog.locator(".m.sy").last).to_have_text("The conversation was closed.")

    with page.expect_response("**/api/chat"):
        ask(page, "Please, I want to speak to a human")
    expect(connecting).to_have_count(2)  # this request's line, once
    expect(button).to_be_hidden()
    page.reload()  # the conversation comes back from storage the same
    page.locator("chatapp-widget .l").click()
    expect(dialog.locator(".m.sy").last).to_be_visible()
    expect(connecting).to_have_count(2)
