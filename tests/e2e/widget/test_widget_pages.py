"""The widget on hard pages: hostile CSS, a strict CSP, a phone, inline mode; XSS payloads,
keyboard-only use and an axe-core scan."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.widget.conftest import run_axe, widget_state
from tests.utils.widget_stack import XSS

pytestmark = pytest.mark.e2e

HOST_CONTENT = """
<header><nav><a href="#a">Home</a> <a href="#b">Prices</a></nav></header>
<main><h1>Acme</h1><p class="lead">Everything for your garden.</p>
<button type="button" class="cta">Buy now</button>
<ul><li>Spades</li><li>Rakes</li></ul>
<div class="card">A card the page hides</div>
<textarea aria-label="notes">notes</textarea></main>
<aside class="overlay" aria-hidden="true"></aside>
<aside class="banner">Cookie banner over the corner</aside>
"""
OVERLAYS = """
aside.overlay { position: fixed !important; inset: 0 !important; z-index: 2147483647 !important;
  background: rgba(255, 0, 0, .05) !important; pointer-events: none !important;
  display: block !important }
aside.banner { position: fixed !important; right: 0 !important; bottom: 0 !important;
  width: 600px !important; height: 160px !important; z-index: 999999999 !important;
  background: #222 !important; color: #fff !important; display: block !important }
"""
RESET = (
    """<style>
*, *::before, *::after { all: unset !important; }
div { display: none !important; }
html { font-size: 5px !important; } body { font-family: "Comic Sans MS", cursive !important;
  color: red !important; line-height: 4 !important; text-transform: uppercase !important;
  letter-spacing: 3px !important; direction: rtl !important; }
"""
    + OVERLAYS
    + "</style>"
)
FRAMEWORK = (
    """<style>
/* base styles in the manner of Bootstrap's reboot and Tailwind's preflight */
*, ::before, ::after { box-sizing: content-box; border: 0 solid #e5e7eb; margin: 0; padding: 0 }
html { font-size: 62.5%; line-height: 1.15; -webkit-text-size-adjust: 100% }
body { font: 20px/2 Georgia, serif; color: #0f0; background: #000; text-align: center }
div { display: none }
button, input, textarea { font: inherit; color: inherit; background: transparent;
  border: 3px solid lime }
button { text-transform: uppercase; padding: 20px 40px; border-radius: 0; min-width: 200px }
svg, img { display: block; width: 100%; height: auto; max-width: 100% }
h2 { font-size: 4.8rem; margin: 40px } p { margin: 3em 0 }
ol, ul { list-style: none } a { color: red; text-decoration: none }
:focus { outline: none !important } [hidden] { display: block !important }
textarea { resize: both; min-height: 300px }
"""
    + OVERLAYS
    + "</style>"
)

SNAPSHOT = """() => {
  const props = ['display', 'position', 'font-size', 'font-family', 'color', 'background-color',
    'margin-top', 'padding-left', 'width', 'height', 'overflow', 'z-index', 'transform',
    'line-height', 'visibility'];
  const pick = el => Object.fromEntries(
    props.map(p => [p, getComputedStyle(el).getPropertyValue(p)]));
  const els = [document.documentElement, document.body,
    ...document.querySelectorAll('header,nav,a,main,h1,p,button,ul,li,div,textarea,aside')];
  return {
    styles: els.map(pick),
    sheets: document.styleSheets.length,
    headChildren: document.head.children.length - document.head.querySelectorAll('script').length,
    htmlAttrs: [...document.documentElement.attributes].map(a => a.name + '=' + a.value),
    bodyAttrs: [...document.body.attributes].map(a => a.name + '=' + a.value),
    scroll: [scrollX, scrollY],
  };
}"""
INSERT_WIDGET = """([src, bot, key]) => {
  const s = document.createElement('script');
  s.src = src; s.async = true; s.dataset.botId = bot; s.dataset.key = key;
  document.body.appendChild(s);
}"""


def launcher(page):
    return page.locator("chatapp-widget .l")


def answers(page):
    return page.locator('chatapp-widget .m[data-state="done"]')


def ask(page, text: str) -> None:
    page.locator("#chatapp-input").fill(text)
    page.locator("#chatapp-input").press("Enter")


def on_top(page, locator) -> bool:
    """Is the element the topmost thing at its centre (not under a host page overlay)?"""
    box = locator.bounding_box()
    return page.evaluate(
        """([x, y]) => {
            const hit = document.elementFromPoint(x, y);
            const host = document.querySelector('chatapp-widget');
            return hit === host && !!host.shadowRoot.elementFromPoint(x, y);
        }""",
        [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2],
    )


@pytest.mark.parametrize("css", [RESET, FRAMEWORK], ids=["global-reset", "css-framework"])
def test_hostile_page_neither_breaks_nor_is_broken(open_page, stack, css):
    page = open_page()
    page.goto(stack.page(f"/hostile-{len(css)}", HOST_CONTENT, head=css))
    before = page.evaluate(SNAPSHOT)
    shop = stack.bots["shop"]
    page.evaluate(INSERT_WIDGET, [f"{stack.api}/widget.js", shop["bot"], shop["key"]])

    bubble = launcher(page)
    expect(bubble).to_be_visible()
    box = bubble.bounding_box()
    assert (round(box["width"]), round(box["height"])) == (56, 56)
    assert box["x"] + box["width"] == pytest.approx(1280 - 20, abs=1)
    assert box["y"] + box["height"] == pytest.approx(800 - 20, abs=1)
    assert on_top(page, bubble), "a host page overlay covers the bubble"
    assert bubble.evaluate("el => getComputedStyle(el).fontFamily") != '"Comic Sans MS", cursive'

    bubble.click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    box = dialog.bounding_box()
    assert (round(box["width"]), round(box["height"])) == (380, 600)
    assert on_top(page, page.locator("#chatapp-input"))
    style = page.locator("#chatapp-input").evaluate(
        "el => [getComputedStyle(el).fontSize, getComputedStyle(el).textTransform,"
        " getComputedStyle(el).direction]"
    )
    assert style == ["14px", "none", "ltr"]
    ask(page, "When are you open?")
    expect(answers(page).last).to_contain_text("Monday to Friday")
    expect(answers(page).last.locator("strong")).to_have_css("font-weight", "700")

    after = page.evaluate(SNAPSHOT)
    assert after == before, "the widget changed the host page's styles"


def test_strict_csp_allowing_only_the_widget_origin(open_page, stack):
    csp = f"default-src {stack.api}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    page = open_page()
    page.add_init_script(
        "window.__csp = []; document.addEventListener('securitypolicyviolation',"
        " e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    page.goto(
        stack.page(
            "/csp",
            "<main><h1>Strict</h1></main>" + stack.tag(),
            headers={"Content-Security-Policy": csp},
        )
    )
    bubble = launcher(page)
    expect(bubble).to_be_visible()
    assert bubble.evaluate("el => getComputedStyle(el).position") == "fixed"
    assert bubble.evaluate("el => getComputedStyle(el).borderRadius") == "28px"
    bubble.click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    assert round(dialog.bounding_box()["width"]) == 380
    ask(page, "When are you open?")
    answer = answers(page).last
    expect(answer).to_contain_text("Monday to Friday")
    expect(answer.locator(".ct li").first).to_be_visible()
    assert page.evaluate("window.__csp") == []


def test_phone_gets_a_full_screen_panel(open_page, stack):
    page = open_page(
        viewport={"width": 375, "height": 740},
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
        reduced_motion="reduce",
    )
    page.goto(stack.page("/phone", "<main><h1>Phone</h1></main>" + stack.tag()))
    bubble = launcher(page)
    expect(bubble).to_be_visible()
    bubble.tap()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    assert dialog.bounding_box() == {"x": 0, "y": 0, "width": 375, "height": 740}
    assert dialog.evaluate("el => getComputedStyle(el).transitionDuration").startswith("0s")
    ask(page, "When are you open?")
    expect(answers(page).last).to_contain_text("Monday to Friday")
    dialog.get_by_role("button", name="Close chat").tap()
    expect(dialog).to_be_hidden()
    expect(bubble).to_be_visible()


def test_inline_mode_renders_in_the_page(open_page, stack):
    body = (
        '<main><h1>Help centre</h1><section id="help-chat" style="width:500px;height:560px">'
        "</section></main>" + stack.tag(mode="inline", target="#help-chat")
    )
    page = open_page()
    page.goto(stack.page("/inline", body))
    region = page.get_by_role("region", name="Shop Assistant")
    expect(region).to_be_visible()
    box = region.bounding_box()
    host = page.locator("#help-chat").bounding_box()
    assert (round(box["width"]), round(box["height"])) == (500, 560)
    assert (box["x"], box["y"]) == (host["x"], host["y"])
    expect(launcher(page)).to_have_count(0)
    expect(page.get_by_role("button", name="Close chat")).to_have_count(0)
    ask(page, "When are you open?")
    expect(answers(page).last).to_contain_text("Monday to Friday")
    page.keyboard.press("Escape")
    expect(region).to_be_visible()


def test_xss_payloads_in_answers_and_sources_stay_text(open_page, stack):
    stack.llm.reply = (
        f"Hello {XSS} <script>window.__xss=(window.__xss||0)+1</script> "
        "[click me](javascript:window.__xss=1) [data](data:text/html,<script>alert(1)</script>) "
        '<a href="javascript:alert(1)">raw</a> [safe](https://example.com/safe) **bold** [1]'
    )
    page = open_page()
    page.goto(stack.page("/xss", "<main><h1>XSS</h1></main>" + stack.tag("xss")))
    launcher(page).click()
    ask(page, "When are you open?")
    answer = answers(page).last
    expect(answer).to_contain_text("<script>window.__xss")
    expect(answer.locator(".ct li").first).to_contain_text("<img src=x onerror=")
    answer.locator(".ct summary").first.click()
    expect(answer.locator(".ct blockquote").first).to_contain_text("<script>")

    def check() -> None:
        assert page.evaluate("window.__xss") is None
        found = page.evaluate(
            """() => {
                const root = document.querySelector('chatapp-widget').shadowRoot;
                return {
                    tags: [...root.querySelectorAll('img,script,iframe,object,embed,style')]
                        .map(e => e.tagName),
                    hrefs: [...root.querySelectorAll('[href]')].map(e => e.getAttribute('href')),
                    handlers: [...root.querySelectorAll('*')].flatMap(e => [...e.attributes])
                        .filter(a => a.name.startsWith('on')).map(a => a.name),
                };
            }"""
        )
        assert found["tags"] == []
        assert found["handlers"] == []
        assert found["hrefs"] == ["https://example.com/safe"]  # the citation's javascript: URL too

    check()
    expect(answer.locator("strong")).to_have_text("bold")
    # The stored transcript renders just as inertly after a reload.
    page.reload()
    launcher(page).click()
    expect(answers(page)).to_have_count(2)
    answers(page).last.locator(".ct summary").first.click()
    check()


def test_keyboard_only(open_page, stack):
    page = open_page()
    page.goto(
        stack.page(
            "/keyboard",
            '<main><h1>Keys</h1><a href="#a">First link</a> <button>Page button</button></main>'
            + stack.tag(),
        )
    )
    expect(launcher(page)).to_be_visible()
    focused_in_widget = "() => document.activeElement?.tagName === 'CHATAPP-WIDGET'"
    for _ in range(6):
        page.keyboard.press("Tab")
        if page.evaluate(focused_in_widget):
            break
    expect(launcher(page)).to_be_focused()
    # A visible focus ring.
    assert launcher(page).evaluate("el => getComputedStyle(el).outlineStyle") == "solid"

    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    textbox = page.locator("#chatapp-input")
    expect(textbox).to_be_focused()
    page.keyboard.type("Hello")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("when are you open?")
    expect(textbox).to_have_value("Hello\nwhen are you open?")
    page.keyboard.press("Enter")
    expect(textbox).to_have_value("")
    expect(answers(page)).to_have_count(2)
    expect(page.locator("chatapp-widget .m.u")).to_have_text(re.compile("Hello\\s+when are you"))

    # Tab stays inside the dialog (aria-modal), in both directions.
    inside = (
        "() => document.querySelector('chatapp-widget').shadowRoot.querySelector('.p')"
        ".contains(document.querySelector('chatapp-widget').shadowRoot.activeElement)"
    )
    for _ in range(15):
        page.keyboard.press("Tab")
        assert page.evaluate(inside)
    for _ in range(15):
        page.keyboard.press("Shift+Tab")
        assert page.evaluate(inside)

    # The citation's excerpt opens from the keyboard.
    summary = answers(page).last.locator(".ct summary").first
    summary.focus()
    page.keyboard.press("Enter")
    expect(answers(page).last.locator(".ct blockquote").first).to_be_visible()

    # Esc closes and gives focus back to the bubble.
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(launcher(page)).to_be_focused()
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    expect(textbox).to_be_focused()


@pytest.mark.parametrize("bot", ["shop", "quota"])
def test_axe_finds_no_serious_violations(open_page, stack, bot):
    page = open_page()
    page.goto(stack.page(f"/axe-{bot}", "<main><h1>Accessible</h1></main>" + stack.tag(bot)))
    expect(launcher(page)).to_be_visible()
    assert run_axe(page) == []

    launcher(page).click()
    expect(page.get_by_role("dialog")).to_be_visible()
    ask(page, "When are you open?")
    if bot == "shop":
        answer = answers(page).last
        expect(answer.locator(".ct li").first).to_be_visible()
        answer.locator(".ct summary").first.click()
        answer.get_by_role("button", name="Helpful", exact=True).click()
        expect(answer.get_by_role("button", name="Helpful", exact=True)).to_have_attribute(
            "aria-pressed", "true"
        )
    else:
        expect(page.get_by_role("alert")).to_be_visible()
    assert run_axe(page) == []
    assert widget_state(page)  # something was stored for the bot
