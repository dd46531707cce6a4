"""The widget on a plain page: bubble, panel, streaming, citations, feedback, persistence, errors,
the JS API and the locales."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine
from sqlmodel import Session, select

from chatapp.services.models import Contact, Conversation
from tests.e2e.widget.conftest import widget_state
from tests.utils.widget_stack import ROOT

pytestmark = pytest.mark.e2e

PLAIN = '<main><h1>Our shop</h1><p>Welcome to our shop.</p><a href="#x">A link</a></main>'


def launcher(page):
    return page.locator("chatapp-widget .l")


def panel(page):
    return page.locator("chatapp-widget .p")


def ask(page, text: str) -> None:
    page.locator("#chatapp-input").fill(text)
    page.locator("#chatapp-input").press("Enter")


def answers(page):
    return page.locator('chatapp-widget .m[data-state="done"]')


def test_plain_page_streams_a_cited_answer_and_takes_feedback(open_page, stack):
    stack.llm.reply = " ".join(f"word{i}" for i in range(40)) + " Saturday hours [1]. FINAL-WORD"
    stack.llm.token_delay = 0.08  # ~3.5 s of streaming
    url = stack.page("/plain", PLAIN + stack.tag())
    page = open_page()
    page.goto(url)

    bubble = launcher(page)
    expect(bubble).to_be_visible()
    expect(bubble).to_have_attribute("aria-label", "Open chat")
    expect(bubble).to_have_attribute("aria-expanded", "false")
    assert bubble.evaluate("el => el.tagName") == "BUTTON"
    expect(panel(page)).to_be_hidden()  # the panel is not even loaded yet
    assert page.locator("chatapp-widget .p").count() == 0

    bubble.click()
    dialog = page.get_by_role("dialog", name="Shop Assistant")
    expect(dialog).to_be_visible()
    expect(dialog).to_have_attribute("aria-modal", "true")
    box = dialog.bounding_box()
    assert (round(box["width"]), round(box["height"])) == (380, 600)
    expect(bubble).to_have_attribute("aria-expanded", "true")
    expect(page.locator("#chatapp-input")).to_be_focused()
    expect(dialog.get_by_text("Hi! Ask me about our shop.")).to_be_visible()
    log = dialog.get_by_role("log", name="Messages")
    expect(log).to_have_attribute("aria-live", "polite")

    # A starter question sends itself; the answer streams in before `done`.
    dialog.get_by_role("button", name="When are you open on Saturdays?").click()
    expect(dialog.locator(".m.u")).to_have_text(re.compile("When are you open on Saturdays"))
    streaming = dialog.locator('.m[data-state="streaming"]')
    expect(streaming).to_contain_text("word1")
    partial = streaming.inner_text()
    assert "FINAL-WORD" not in partial, "the whole answer arrived at once: not streamed"
    assert answers(page).count() == 1  # only the welcome message is done so far
    answer = answers(page).last
    expect(answer).to_contain_text("FINAL-WORD", timeout=20_000)
    expect(dialog.get_by_role("button", name="When are you open on Saturdays?")).to_have_count(0)

    # Citations: numbered, titled, with an expandable snippet.
    cites = answer.locator(".ct li")
    expect(cites.first).to_contain_text("[1]")
    expect(answer.locator(".ct h3")).to_have_text("Sources")
    snippet = cites.first.locator("blockquote")
    expect(snippet).to_be_hidden()
    cites.first.locator("summary").click()
    expect(snippet).to_be_visible()
    expect(snippet).not_to_be_empty()

    # Thumbs up is sent to the feedback API and shown as pressed.
    up = answer.get_by_role("button", name="Helpful", exact=True)
    with page.expect_response(re.compile(r"/api/public/messages/\d+/feedback")) as response:
        up.click()
    assert response.value.status == 200
    assert response.value.request.post_data_json["rating"] == "up"
    expect(up).to_have_attribute("aria-pressed", "true")
    expect(answer.get_by_role("button", name="Not helpful")).to_have_attribute(
        "aria-pressed", "false"
    )

    # The bubble closes the panel again.
    bubble.click()
    expect(dialog).to_be_hidden()
    expect(bubble).to_have_attribute("aria-label", "Open chat")


def test_markdown_is_rendered_as_elements(open_page, stack):
    url = stack.page("/markdown", PLAIN + stack.tag())
    page = open_page()
    page.goto(url)
    launcher(page).click()
    ask(page, "When are you open?")
    answer = answers(page).last
    expect(answer.locator("strong")).to_have_text("Monday to Friday")
    expect(answer.locator("ul li")).to_have_count(2)
    expect(answer.locator("code")).to_have_text("hours")
    link = answer.locator(".b a")
    expect(link).to_have_attribute("href", "https://example.com/hours")
    expect(link).to_have_attribute("rel", "noopener noreferrer nofollow")
    expect(link).to_have_attribute("target", "_blank")


def test_conversation_survives_a_reload_and_can_be_restarted(open_page, stack):
    url = stack.page("/persist", PLAIN + stack.tag())
    page = open_page()
    page.goto(url)
    launcher(page).click()
    ask(page, "Do you ship to Canada?")
    expect(answers(page)).to_have_count(2)  # welcome + answer
    answers(page).last.get_by_role("button", name="Not helpful").click()
    expect(answers(page).last.get_by_role("button", name="Not helpful")).to_have_attribute(
        "aria-pressed", "true"
    )
    key = f"chatapp:{stack.bots['shop']['bot']}"
    # The rating is stored once the API has it (the button shows it at once): wait for that.
    page.wait_for_function(
        "key => (JSON.parse(localStorage.getItem(key) || '{}').msgs || [])"
        ".some(m => m.f === 'down')",
        arg=key,
    )
    stored = widget_state(page)[key]
    session_id = stored["sid"]
    assert [m["r"] for m in stored["msgs"]] == ["u", "b"]

    page.reload()
    launcher(page).click()
    dialog = page.get_by_role("dialog")
    expect(dialog.locator(".m.u")).to_have_text(re.compile("Do you ship to Canada"))
    restored = answers(page).last
    expect(restored).to_contain_text("Monday to Friday")
    expect(restored.locator(".ct li").first).to_contain_text("[1]")
    expect(restored.get_by_role("button", name="Not helpful")).to_have_attribute(
        "aria-pressed", "true"
    )
    assert widget_state(page)[key]["sid"] == session_id

    # The same session goes on: the server knows the earlier question.
    with page.expect_request("**/api/chat") as request:
        ask(page, "And to Mexico?")
    assert request.value.post_data_json["session_id"] == session_id
    expect(answers(page)).to_have_count(3)

    dialog.get_by_role("button", name="New conversation").click()
    expect(dialog.locator(".m.u")).to_have_count(0)
    expect(answers(page)).to_have_count(1)  # the welcome message only
    expect(dialog.get_by_role("button", name="Do you ship to Canada?")).to_be_visible()
    fresh = widget_state(page)[key]
    assert fresh["sid"] != session_id and fresh["msgs"] == []


def test_refusals_and_failures_read_as_sentences(open_page, stack):
    # The monthly quota is used up (a real 429 from the API): no retry offered.
    page = open_page()
    page.goto(stack.page("/quota", PLAIN + stack.tag("quota")))
    launcher(page).click()
    ask(page, "Hello?")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("reached its monthly message limit")
    expect(alert.get_by_role("button")).to_have_count(0)

    # A wrong key (a real 401).
    page = open_page()
    page.goto(stack.page("/badkey", PLAIN + stack.tag(key="ck_not-a-real-key")))
    launcher(page).click()
    ask(page, "Hello?")
    expect(page.get_by_role("alert")).to_contain_text("invalid key")

    # Too many messages (a short Retry-After), then a retry that goes through.
    page = open_page()
    page.goto(stack.page("/rate", PLAIN + stack.tag()))
    launcher(page).click()
    limited = {
        "Retry-After": "30",
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Expose-Headers": "Retry-After",
    }
    page.route(
        "**/api/chat",
        lambda route: route.fulfill(status=429, headers=limited, json={"detail": "Too many"}),
    )
    ask(page, "When are you open?")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("try again in 30 seconds")
    page.unroute("**/api/chat")
    alert.get_by_role("button", name="Retry").click()
    expect(alert).to_have_count(0)
    expect(answers(page).last).to_contain_text("Monday to Friday")
    expect(page.locator("chatapp-widget .m.u")).to_have_count(1)  # not sent twice

    # The network fails once: a retry button with the same message.
    page.route("**/api/chat", lambda route: route.abort())
    ask(page, "Do you ship to Canada?")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Couldn't reach the chat server")
    page.unroute("**/api/chat")
    alert.get_by_role("button", name="Retry").click()
    expect(answers(page)).to_have_count(3)

    # Offline.
    page.context.set_offline(True)
    ask(page, "Are you there?")
    expect(page.get_by_role("alert")).to_contain_text("You're offline")
    page.context.set_offline(False)
    page.get_by_role("alert").get_by_role("button", name="Retry").click()
    expect(answers(page)).to_have_count(4)

    # The LLM breaks off mid-answer: an error event, a retry, an answer.
    stack.llm.script = ["break", "break", "break", "break"]
    ask(page, "And on Sundays?")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Something went wrong")
    stack.llm.script = []
    alert.get_by_role("button", name="Retry").click()
    expect(answers(page)).to_have_count(5)


def test_js_api_queue_identify_context_and_loading_once(open_page, stack):
    stub = (
        "<script>window.Chatapp=window.Chatapp||function(){(Chatapp.q=Chatapp.q||[]).push("
        "arguments)};Chatapp('identify',{name:'Ada',email:'ada@example.com'});"
        "Chatapp('setContext',{page:'pricing',plan:'pro'});Chatapp('open');</script>"
    )
    body = PLAIN + stub + stack.tag() + stack.tag()  # included twice
    page = open_page()
    page.goto(stack.page("/jsapi", body))
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()  # the queued 'open'
    expect(page.locator("chatapp-widget")).to_have_count(1)
    with page.expect_request("**/api/chat") as request:
        ask(page, "When are you open?")
    sent = request.value.post_data_json
    assert sent["context"] == {"page": "pricing", "plan": "pro"}
    assert sent["visitor"] == {"name": "Ada", "email": "ada@example.com"}
    assert sent["bot_id"] == stack.bots["shop"]["bot"]
    expect(answers(page)).to_have_count(2)

    page.evaluate("Chatapp('close')")
    expect(dialog).to_be_hidden()
    page.evaluate("Chatapp('toggle')")
    expect(dialog).to_be_visible()
    page.evaluate("Chatapp('no-such-command')")  # logged, never thrown
    assert page.problems == ["[chatapp] unknown command no-such-command"]
    page.problems.clear()
    assert page.evaluate("typeof Chatapp") == "function"


def docs_blocks() -> list[str]:
    """The html code blocks of docs/CUSTOMIZATION.md, as a reader copies them."""
    text = (ROOT / "docs" / "CUSTOMIZATION.md").read_text()
    return re.findall(r"```html\n(.*?)```", text, flags=re.S)


def test_the_documented_snippets_work_verbatim(open_page, stack):
    """The embed code, then `Chatapp('identify', ...)` after it, exactly as the docs show them:
    nothing throws (the async script has not loaded yet), and the first message carries the
    visitor, who becomes a contact of the conversation."""
    blocks = docs_blocks()
    embed = blocks[0]
    calls = next(block for block in blocks if "Chatapp('identify'" in block)
    assert "async></script>" in embed
    embed = (
        embed.replace("https://chat.example.com", stack.api)
        .replace("bot_xxxxxxxxxxxxxxxx", stack.bots["shop"]["bot"])
        .replace("ck_...", stack.bots["shop"]["key"])
    )
    page = open_page()
    page.goto(stack.page("/documented", PLAIN + embed + calls))
    launcher(page).click()
    with page.expect_response("**/api/chat") as response:
        ask(page, "When are you open?")
    assert response.value.status == 200
    expect(answers(page)).to_have_count(2)
    email = re.search(r"email: '([^']+)'", calls).group(1)
    engine = create_engine(f"sqlite:///{stack.data_dir / 'chatapp.db'}")
    try:
        with Session(engine) as session:
            sid = widget_state(page)[f"chatapp:{stack.bots['shop']['bot']}"]["sid"]
            conversation = session.exec(
                select(Conversation).where(Conversation.session_id == sid)
            ).one()
            contact = session.get(Contact, conversation.contact_id)
            assert contact is not None and contact.email == email
    finally:
        engine.dispose()


def test_locale_position_button_text_and_contrast(open_page, stack):
    page = open_page()
    page.goto(stack.page("/de", PLAIN + stack.tag(locale="de")))
    bubble = launcher(page)
    expect(bubble).to_have_attribute("aria-label", "Chat öffnen")
    # Indigo accent: white text.
    assert bubble.evaluate("el => getComputedStyle(el).color") == "rgb(255, 255, 255)"
    box = bubble.bounding_box()
    assert box["x"] + box["width"] == pytest.approx(1280 - 20, abs=1)  # bottom-right
    bubble.click()
    expect(page.locator("#chatapp-input")).to_have_attribute("placeholder", "Nachricht eingeben…")
    expect(page.get_by_role("button", name="Neue Unterhaltung")).to_be_visible()

    # A light accent gets black text; bottom-left; visible button text.
    page = open_page()
    page.goto(stack.page("/fr", PLAIN + stack.tag("quota", locale="fr")))
    bubble = launcher(page)
    expect(bubble).to_have_text("Ask us")
    assert bubble.evaluate("el => getComputedStyle(el).color") == "rgb(0, 0, 0)"
    assert bubble.bounding_box()["x"] == pytest.approx(20, abs=1)
    bubble.click()
    expect(page.get_by_role("button", name="Fermer le chat").first).to_be_visible()
    header = page.locator("chatapp-widget .hd")
    assert header.evaluate("el => getComputedStyle(el).color") == "rgb(0, 0, 0)"

    # The dashboard's "center" position centres the bubble.
    page = open_page()
    page.goto(stack.page("/center", PLAIN + stack.tag("xss")))
    box = launcher(page).bounding_box()
    assert box["x"] + box["width"] / 2 == pytest.approx(1280 / 2, abs=1)

    # Spanish from the browser's language when there is no data-locale.
    page = open_page(locale="es-ES")
    page.goto(stack.page("/es", PLAIN + stack.tag()))
    expect(launcher(page)).to_have_attribute("aria-label", "Abrir chat")


def test_typing_indicator_and_scrolling(open_page, stack):
    stack.llm.reply = "\n\n".join(f"Line {i} of a long answer." for i in range(50)) + " THE-END"
    stack.llm.first_delay = 1.0
    stack.llm.token_delay = 0.01
    page = open_page()
    page.goto(stack.page("/scroll", PLAIN + stack.tag()))
    launcher(page).click()
    dialog = page.get_by_role("dialog")
    ask(page, "When are you open?")
    typing = dialog.locator(".typing")
    expect(typing).to_be_visible()
    expect(typing).to_have_text("Typing…")
    expect(answers(page).last).to_contain_text("THE-END", timeout=20_000)
    expect(typing).to_have_count(0)
    log = dialog.locator(".log")
    at_bottom = "el => el.scrollHeight - el.scrollTop - el.clientHeight < 2"
    assert log.evaluate(at_bottom), "the log did not follow the answer"

    # Scrolled up while an answer streams: the log stays where the visitor put it.
    stack.llm.first_delay = 0.0
    stack.llm.token_delay = 0.02
    ask(page, "Tell me more")
    streaming = dialog.locator('.m[data-state="streaming"]')
    expect(streaming).to_contain_text("Line 3")
    log.evaluate("el => { el.scrollTop = 0; el.dispatchEvent(new Event('scroll')); }")
    expect(answers(page)).to_have_count(3, timeout=20_000)
    assert log.evaluate("el => el.scrollTop") == 0


def test_blocked_storage_and_open_on_load(open_page, stack):
    page = open_page()
    page.add_init_script(
        "Object.defineProperty(window, 'localStorage', {get() {"
        " throw new DOMException('blocked', 'SecurityError'); }});"
    )
    page.goto(stack.page("/nostorage", PLAIN + stack.tag(open="true")))
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()  # data-open, without a click
    expect(launcher(page)).to_have_attribute("aria-expanded", "true")
    assert page.evaluate("document.activeElement === document.body")  # focus left alone
    ask(page, "When are you open?")
    expect(answers(page).last).to_contain_text("Monday to Friday")
