"""The dashboard by keyboard only and on a phone (issue 19, A1), in Chromium against the shared
production build: the Inbox (open a handed-over conversation, take it, reply, resolve) and the
Playground (ask, reset, ask again) with Tab and Enter only; the phone layout at 390x844 (a menu
button and its drawer, content at the top, no sideways scrolling, the Inbox in one column);
live regions for replies; axe-core with no serious or critical violation on both, at both sizes;
focus rings of 3:1 at least, and focus back on the opener when a dialog closes.
"""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Page, expect

from chatapp.core.db import get_engine, session_scope
from chatapp.services.bots import bots
from tests.e2e.dashboard_helpers import log_in, new_tenant, screenshot
from tests.e2e.test_playground_page import ANSWER_MS, shop_tenant
from tests.e2e.widget.conftest import run_axe
from tests.utils.handoff import add_action
from tests.utils.knowledge import new_session_id
from tests.utils.live_server import SSEReader

pytestmark = pytest.mark.e2e

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
MAX_TABS = 60  # more Tab presses than any page here has stops before the target

# The focused element's ring: its colour, width and style, and its contrast with what is around
# it (the nearest background behind the element's parent: rings are drawn outside the element).
_FOCUS_RING_JS = """
() => {
  const el = document.activeElement;
  const rgb = (color) => {
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = 1;
    const ctx = canvas.getContext('2d');
    ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, 1, 1);
    ctx.fillStyle = color; ctx.fillRect(0, 0, 1, 1);
    return Array.from(ctx.getImageData(0, 0, 1, 1).data.slice(0, 3));
  };
  const luminance = ([r, g, b]) => {
    const lin = (c) => {
      c /= 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  };
  let behind = 'rgb(255, 255, 255)';
  for (let node = el.parentElement; node; node = node.parentElement) {
    const bg = getComputedStyle(node).backgroundColor;
    if (bg && bg !== 'transparent' && !bg.endsWith(', 0)')) { behind = bg; break; }
  }
  const style = getComputedStyle(el);
  const [a, b] = [luminance(rgb(style.outlineColor)), luminance(rgb(behind))];
  return {
    id: el.id,
    style: style.outlineStyle,
    width: parseFloat(style.outlineWidth),
    ratio: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05),
  };
}
"""


def watch_console(page: Page) -> list[str]:
    """Errors the page logs or throws, for the test to find empty at its end."""
    problems: list[str] = []
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    return problems


def focused_id(page: Page) -> str:
    return page.evaluate("() => document.activeElement?.id || ''")


def tab_to(page: Page, element_id: str, backwards: bool = False) -> int:
    """Press Tab (Shift+Tab backwards) until the element has focus; how many presses it took."""
    key = "Shift+Tab" if backwards else "Tab"
    for presses in range(1, MAX_TABS + 1):
        page.keyboard.press(key)
        if focused_id(page) == element_id:
            return presses
    raise AssertionError(f"#{element_id} is not reachable with {key}")


def assert_visible_focus_ring(page: Page) -> None:
    ring = page.evaluate(_FOCUS_RING_JS)
    assert ring["style"] != "none" and ring["width"] >= 2, ring
    assert ring["ratio"] >= 3, ring


def assert_fits_a_phone(page: Page) -> None:
    """Content starts at the top (the page's one h1 on the first screen), nothing scrolls
    sideways."""
    heading = page.locator("main h1")
    expect(heading).to_have_count(1)
    expect(page.locator("h1")).to_have_count(1)
    box = heading.bounding_box()
    assert box is not None and box["y"] + box["height"] <= PHONE["height"] / 4, box
    overflow = page.evaluate("() => [document.scrollingElement.scrollWidth, window.innerWidth]")
    assert overflow[0] <= overflow[1], f"scrolls sideways: {overflow}"


def hand_over(http: httpx.Client, visitor: dict, message: str) -> None:
    """A visitor writes to the bot, then asks for a person."""
    http.post("/api/chat", json={**visitor, "message": message}).raise_for_status()
    assert http.post("/api/public/handoff", json=visitor).json()["status"] == "pending"


def test_inbox_by_keyboard_only_then_on_a_phone(app_server, page):
    label, tenant = new_tenant(app_server)
    engine = get_engine(app_server.database_url)
    with session_scope(engine) as session:
        _, key = bots.create_widget_key(session, tenant.owner, tenant.bot.id)
    add_action(tenant.bot.id, tenant.workspace.id, "handoff", engine=engine)
    base = app_server.base_url
    ann = {"bot_id": tenant.bot.public_id, "session_id": new_session_id(), "api_key": key}
    ben = {"bot_id": tenant.bot.public_id, "session_id": new_session_id(), "api_key": key}
    problems = watch_console(page)
    http = httpx.Client(base_url=base, timeout=15)
    hand_over(http, ann, "My parcel never arrived")
    log_in(page, f"agent-{label}@example.com")

    page.goto("/inbox")
    items = page.locator(".inbox-item")
    expect(items).to_have_count(1)
    item_id = items.first.get_attribute("id")
    # The first Tab stop is the skip link; Enter moves focus to the page's content.
    page.keyboard.press("Tab")
    assert focused_id(page) == "skip-link"
    expect(page.locator("#skip-link")).to_be_in_viewport()
    assert_visible_focus_ring(page)
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()

    # Tab to the conversation (a real button), open it with Enter: focus goes to the thread.
    tab_to(page, item_id)
    assert_visible_focus_ring(page)
    page.keyboard.press("Enter")
    expect(page.locator("#thread-visitor")).to_be_focused()
    expect(page.locator("#thread-messages")).to_contain_text("My parcel never arrived")

    # Take it (the next Tab stop), write and send the reply: the visitor gets it.
    page.keyboard.press("Tab")
    expect(page.locator("#inbox-take")).to_be_focused()
    assert_visible_focus_ring(page)
    events = f"{base}/api/public/conversations/events?" + str(
        httpx.QueryParams({"bot_id": ann["bot_id"], "session_id": ann["session_id"], "key": key})
    )
    with SSEReader(events) as widget:
        page.keyboard.press("Enter")
        expect(page.locator("#thread-status")).to_have_text("assigned")
        expect(page.locator("#inbox-reply")).to_be_focused()
        page.keyboard.type("Sorry about that, I am checking with the courier.")
        page.keyboard.press("Tab")
        expect(page.locator("#inbox-send")).to_be_focused()
        page.keyboard.press("Enter")
        widget.wait_for(
            lambda ev: any(e["event"] == "message" and e["data"]["role"] == "agent" for e in ev)
        )
        reply = [e["data"] for e in widget.events if e["event"] == "message"][-1]
        assert reply["content"] == "Sorry about that, I am checking with the courier."
    expect(page.locator("#inbox-reply")).to_be_focused()
    expect(page.locator("#inbox-reply")).to_have_value("")

    # The visitor's next message is read out by a polite live region.
    http.post("/api/chat", json={**ann, "message": "Thanks, order 5521."}).raise_for_status()
    live = page.locator("#inbox-live")
    expect(live).to_have_attribute("aria-live", "polite")
    expect(live).to_contain_text("Thanks, order 5521.")
    assert run_axe(page) == []

    # Resolve by keyboard (before the reply box in Tab order); focus lands on "Take".
    tab_to(page, "inbox-resolve", backwards=True)
    page.keyboard.press("Enter")
    expect(page.locator("#thread-status")).to_have_text("resolved")
    expect(page.locator("#inbox-take")).to_be_focused()

    # On a phone: one column. The open conversation fills the screen, with a way back.
    hand_over(http, ben, "Can I change my delivery address?")
    http.close()
    page.set_viewport_size(PHONE)
    expect(page.locator("#inbox-queue-panel")).to_be_hidden()
    expect(page.locator("#inbox-back")).to_be_visible()
    assert_fits_a_phone(page)
    assert run_axe(page) == []
    screenshot(page, "phone-inbox")
    page.locator("#inbox-back").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#inbox-queue-panel")).to_be_visible()
    expect(page.get_by_text("Choose a conversation on the left")).to_be_hidden()
    expect(page.locator("#inbox-view-pending")).to_be_focused()  # the first one left "pending"
    ben_item = page.locator(".inbox-item", has_text="Can I change my delivery address?")
    ben_id = ben_item.get_attribute("id")
    tab_to(page, ben_id)
    page.keyboard.press("Enter")
    expect(page.locator("#thread-visitor")).to_be_focused()
    expect(page.locator("#inbox-queue-panel")).to_be_hidden()
    assert_fits_a_phone(page)
    page.keyboard.press("Shift+Tab")  # the way back comes first
    expect(page.locator("#inbox-back")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator(f"#{ben_id}")).to_be_focused()
    assert_fits_a_phone(page)
    assert problems == []


def test_playground_by_keyboard_only_then_on_a_phone(app_server, page):
    label, _ = shop_tenant(app_server)
    problems = watch_console(page)
    log_in(page, f"owner-{label}@example.com")

    # A dialog of the frame gives focus back to the button that opened it.
    tab_to(page, "new-ws")
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog", name="New workspace")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#new-ws")).to_be_focused()
    tab_to(page, "nav-team")
    assert_visible_focus_ring(page)

    page.goto("/playground")
    expect(page.locator("#nav-playground")).to_have_attribute("aria-current", "page")
    tab_to(page, "playground-question")
    page.keyboard.type("When are you open on Saturdays?")
    page.keyboard.press("Enter")
    log = page.locator('#playground-messages [role="log"][aria-live="polite"]')
    expect(log.locator(".bubble-assistant")).to_contain_text("10am to 4pm", timeout=ANSWER_MS)
    expect(page.locator("#playground-question")).to_be_focused()

    # Reset by keyboard (it keeps focus), then ask again with Tab and Enter on Send.
    tab_to(page, "playground-reset", backwards=True)
    assert_visible_focus_ring(page)
    page.keyboard.press("Enter")
    expect(log.locator(".bubble")).to_have_count(0)
    expect(page.locator("#playground-reset")).to_be_focused()
    tab_to(page, "playground-question")
    page.keyboard.type("How many days do I have to return an item?")
    page.keyboard.press("Tab")
    expect(page.locator("#playground-send")).to_be_focused()
    page.keyboard.press("Enter")
    expect(log.locator(".bubble-assistant")).to_contain_text("30 days", timeout=ANSWER_MS)
    expect(page.locator("#playground-send")).to_be_focused()
    assert run_axe(page) == []

    # On a phone: the sidebar is a menu button; the chat is on the first screen.
    page.set_viewport_size(PHONE)
    menu = page.locator("#nav-menu")
    expect(menu).to_be_visible()
    expect(page.locator("aside")).to_be_hidden()
    assert_fits_a_phone(page)
    assert run_axe(page) == []
    screenshot(page, "phone-playground")

    # The menu button opens the navigation in a drawer; Escape gives focus back to it.
    expect(menu).to_have_attribute("aria-expanded", "false")
    menu.focus()
    page.keyboard.press("Enter")
    expect(menu).to_have_attribute("aria-expanded", "true")
    drawer = page.locator("#" + menu.get_attribute("aria-controls"))
    expect(drawer).to_be_visible()
    expect(drawer.get_by_role("navigation", name="Dashboard")).to_be_visible()
    page.keyboard.press("Escape")
    expect(drawer).to_be_hidden()
    expect(menu).to_be_focused()
    assert_visible_focus_ring(page)
    expect(menu).to_have_attribute("aria-expanded", "false")

    page.keyboard.press("Enter")
    page.locator("#menu-nav-activity").click()
    expect(page.get_by_role("heading", name="Activity", exact=True)).to_be_visible()
    expect(page.locator(".nav-drawer")).to_have_count(0)
    newest = page.locator(".conversation-row").first
    expect(newest).to_contain_text("How many days do I have to return an item?")
    assert_fits_a_phone(page)
    screenshot(page, "phone-activity")
    assert problems == []
