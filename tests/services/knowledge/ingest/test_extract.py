"""Extraction of uploads, pasted text and pages: kinds by content, text kept, junk refused."""

from __future__ import annotations

import pytest

from chatapp.core.errors import ValidationFailed
from chatapp.services.knowledge.ingest import extract as extract_module
from chatapp.services.knowledge.ingest import extract_docx, extract_pdf
from chatapp.services.knowledge.ingest.extract import (
    SUPPORTED,
    detect_kind,
    extract_file,
    extract_html,
    extract_text,
)
from tests.services.knowledge.ingest import files

MB = 1024 * 1024
LIMIT = 20 * MB


def refused(data: bytes, filename: str, *, max_bytes: int = LIMIT) -> str:
    with pytest.raises(ValidationFailed) as caught:
        extract_file(data, filename, max_bytes=max_bytes)
    return caught.value.message


# --- detection by content ---------------------------------------------------------------------


def test_detection_follows_content_not_extension():
    assert detect_kind(files.pdf(["Hello"]), "notes.txt") == "pdf"
    assert detect_kind(b"just some words", "report.pdf") == "txt"
    assert detect_kind(files.docx_file([("p", "Hi")]), "upload.bin") == "docx"
    assert detect_kind(b"<!DOCTYPE html><html><body>x</body></html>", "a.txt") == "html"
    assert detect_kind(b"  <html><p>x</p></html>", "page") == "html"
    assert detect_kind(b"plain words", "readme.md") == "md"
    assert detect_kind(b"intro\n\n## Setup\n\nsteps", "notes.txt") == "md"
    assert detect_kind(b"no headings here\n#hashtag is not one", "notes.txt") == "txt"
    assert {"pdf", "docx", "txt", "md", "html"} == SUPPORTED


def test_text_named_pdf_is_extracted_as_text():
    document = extract_file(b"Opening hours: 9 to 5.", "hours.pdf", max_bytes=LIMIT)
    assert document.kind == "txt"
    assert document.text == "Opening hours: 9 to 5."
    assert document.title == "hours"


def test_pdf_named_txt_is_extracted_as_pdf():
    document = extract_file(files.pdf(["Refunds within 30 days."]), "policy.txt", max_bytes=LIMIT)
    assert document.kind == "pdf"
    assert "Refunds within 30 days." in document.text


@pytest.mark.parametrize(
    ("data", "text"),
    [
        ("Caf\u00e9 cr\u00e8me".encode("utf-16"), "Caf\u00e9 cr\u00e8me"),
        ("\ufeffCaf\u00e9".encode(), "Caf\u00e9"),
        ("Caf\u00e9 \u2013 na\u00efve".encode("cp1252"), "Caf\u00e9 \u2013 na\u00efve"),
    ],
)
def test_text_encodings_are_decoded(data, text):
    assert extract_file(data, "menu.txt", max_bytes=LIMIT).text == text


@pytest.mark.parametrize(
    "data",
    [
        files.random_bytes(),
        b"text with a NUL \x00 inside",
        b"\x89PNG\r\n\x1a\n" + files.random_bytes(200),
        "caf\u00e9".encode("cp1252") + b"\x01\x02\x03",  # not UTF-8, and controls in cp1252
    ],
)
def test_binary_junk_is_refused(data):
    assert refused(data, "file.txt") == extract_module.UNSUPPORTED


def test_other_zips_and_old_word_files_are_refused():
    spreadsheet = files.zip_file({"xl/workbook.xml": b"<workbook/>"})
    assert refused(spreadsheet, "sheet.xlsx") == extract_module.UNSUPPORTED
    assert refused(spreadsheet, "sheet.docx") == extract_docx.DAMAGED
    old_word = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512)
    assert refused(old_word, "letter.doc") == extract_module.OLD_WORD


def test_empty_and_oversized_files_are_refused_before_parsing(monkeypatch):
    def must_not_parse(*args, **kwargs):
        raise AssertionError("parsed a file that should have been refused")

    monkeypatch.setattr(extract_module, "extract_pdf", must_not_parse)
    assert refused(b"", "empty.pdf") == "The file is empty."
    assert refused(b"%PDF-" + b" " * LIMIT, "big.pdf") == (
        "This file is larger than the 20 MB limit."
    )
    assert (
        refused(b"x" * 2048, "a.txt", max_bytes=1024) == "This file is larger than the 1 KB limit."
    )
    assert refused(b" \n\t \r\n", "blank.txt") == "The file is empty."


def test_library_surprises_become_a_readable_refusal(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("internal detail")

    monkeypatch.setattr(extract_module, "extract_pdf", broken)
    message = refused(files.pdf(["x"]), "a.pdf")
    assert message == extract_module.UNREADABLE
    assert "internal" not in message


# --- PDF ----------------------------------------------------------------------------------------


def test_pdf_keeps_pages_and_metadata_title():
    data = files.pdf(
        ["Welcome to   Acme.\n\n\n\nWe sell anvils.", "", "Shipping takes 3 days."],
        title="Acme Handbook",
    )
    document = extract_file(data, "handbook.pdf", max_bytes=LIMIT)
    assert document.title == "Acme Handbook"
    assert document.filename == "handbook.pdf"
    assert [section.page for section in document.sections] == [1, 3]  # page 2 is empty
    # Line breaks stay between short lines; nothing marks the vertical gaps between paragraphs.
    assert document.sections[0].text == "Welcome to Acme.\nWe sell anvils."
    assert document.sections[1].text == "Shipping takes 3 days."


def test_pdf_title_falls_back_to_the_filename_stem():
    document = extract_file(files.pdf(["Text"]), "C:\\Users\\me\\Q3 report.v2.pdf", max_bytes=LIMIT)
    assert document.title == "Q3 report.v2"


def test_password_protected_pdf_is_refused():
    data = files.encrypted_pdf(files.pdf(["Secret plans"]), user_password="hunter2")
    assert refused(data, "secret.pdf") == extract_pdf.PASSWORD


def test_pdf_with_only_an_owner_password_opens_like_in_a_viewer():
    data = files.encrypted_pdf(files.pdf(["Printable but locked"]), user_password="")
    document = extract_file(data, "locked.pdf", max_bytes=LIMIT)
    assert document.text == "Printable but locked"


@pytest.mark.parametrize(
    "data",
    [
        files.pdf(["Some text " * 50] * 3)[:300],  # cut off early
        b"%PDF-1.7\n" + files.random_bytes(3000),
        b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 9 0 R >> endobj\ntrailer << /Root 1 0 R >>",
    ],
)
def test_malformed_pdf_is_refused(data):
    assert refused(data, "broken.pdf") == extract_pdf.DAMAGED


def test_pdf_without_text_is_refused():
    assert refused(files.blank_pdf(), "scan.pdf") == extract_pdf.NO_TEXT


def test_pdf_page_count_is_capped(monkeypatch):
    monkeypatch.setattr(extract_pdf, "MAX_PAGES", 2)
    assert refused(files.pdf(["a", "b", "c"]), "long.pdf") == extract_pdf.TOO_MANY_PAGES
    assert len(extract_file(files.pdf(["a", "b"]), "ok.pdf", max_bytes=LIMIT).sections) == 2


# --- DOCX ---------------------------------------------------------------------------------------


def test_docx_keeps_headings_lists_and_tables():
    data = files.docx_file(
        [
            ("p", "Intro before any heading."),
            ("h1", "Pricing"),
            ("p", "Plans are   billed monthly."),
            ("table", [["Plan", "Price"], ["Pro", "$10"]]),
            ("h2", "Discounts"),
            ("li", "Students"),
            ("li", "Non-profits"),
            ("p", "Ask us."),
        ],
        title="Price list",
    )
    document = extract_file(data, "prices.docx", max_bytes=LIMIT)
    assert document.kind == "docx"
    assert document.title == "Price list"
    assert [(s.heading, s.text) for s in document.sections] == [
        ("", "Intro before any heading."),
        ("Pricing", "Plans are billed monthly.\n\nPlan | Price\nPro | $10"),
        ("Discounts", "- Students\n- Non-profits\n\nAsk us."),
    ]


def test_docx_title_from_title_style_then_filename():
    styled = files.docx_file([("title", "Staff Guide"), ("p", "Be kind.")])
    assert extract_file(styled, "guide.docx", max_bytes=LIMIT).title == "Staff Guide"
    plain = files.docx_file([("p", "Be kind.")])
    assert extract_file(plain, "guide.docx", max_bytes=LIMIT).title == "guide"


def test_zip_bomb_disguised_as_docx_is_refused_without_unpacking(monkeypatch):
    def must_not_open(*args, **kwargs):
        raise AssertionError("opened a zip bomb")

    monkeypatch.setattr(extract_docx.docx, "Document", must_not_open)
    bomb = files.zip_bomb(unpacked_bytes=64 * MB)
    assert len(bomb) < MB  # small on disk, huge unpacked
    assert detect_kind(bomb, "cv.docx") == "docx"
    assert refused(bomb, "cv.docx") == extract_docx.BOMB


def test_zip_unpacking_far_beyond_the_upload_limit_is_refused_even_if_incompressible():
    archive = files.zip_file({"word/document.xml": files.random_bytes(3 * MB)})
    with pytest.raises(ValidationFailed) as caught:
        extract_docx.check_zip(archive, max_bytes=200_000)
    assert caught.value.message == extract_docx.BOMB
    extract_docx.check_zip(archive, max_bytes=LIMIT)  # within 10x of a 20 MB limit: fine


@pytest.mark.parametrize(
    "data",
    [
        files.zip_file({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document"}),
        files.docx_file([("p", "Cut short " * 200)])[:-200],
    ],
)
def test_damaged_docx_is_refused(data):
    assert refused(data, "letter.docx") == extract_docx.DAMAGED


def test_docx_without_text_is_refused():
    assert refused(files.docx_file([]), "blank.docx") == extract_docx.NO_TEXT


# --- HTML ---------------------------------------------------------------------------------------

PAGE = """<!DOCTYPE html>
<html><head><title>Acme Help Center</title>
<style>.hero { color: red }</style><script>var token = "leaked-script";</script></head>
<body class="has-cookie-banner">
  <header><a href="/">Acme logo</a></header>
  <nav><ul><li>Home</li><li>Blog</li></ul></nav>
  <div id="cookie-consent">We use cookies to improve your experience. <button>Accept</button></div>
  <main>
    <h1>Getting started</h1>
    <p>Welcome to   Acme.
       Setup takes five minutes.</p>
    <script>alert(1)</script>
    <img src="x" onerror="alert(2)">
    <h2>Install <small>v2</small></h2>
    <ul><li>Download the app</li><li>Run <b>setup</b></li></ul>
    <p>Need help? <a href="javascript:alert(3)">Contact us</a>.</p>
    <table><tr><th>Plan</th><th>Price</th></tr><tr><td>Pro</td><td>$10</td></tr></table>
    <div hidden>Hidden draft</div><!-- an html comment -->
  </main>
  <aside>Related posts</aside>
  <footer>Copyright 2024 Acme</footer>
</body></html>"""


def test_html_keeps_main_text_and_headings_and_drops_boilerplate():
    document = extract_html(PAGE, url="https://acme.test/help")
    assert document.kind == "html"
    assert document.url == "https://acme.test/help"
    assert document.title == "Acme Help Center"
    assert [(s.heading, s.text) for s in document.sections] == [
        ("Getting started", "Welcome to Acme. Setup takes five minutes."),
        (
            "Install v2",
            "- Download the app\n- Run setup\n\nNeed help? Contact us.\n\nPlan | Price\nPro | $10",
        ),
    ]
    for junk in ("Acme logo", "Home", "cookies", "Accept", "Related", "Copyright", "Hidden"):
        assert junk not in document.text


def test_html_never_leaks_script_or_markup():
    hostile = """<html><body><article>
      <h1 onclick="alert(4)">Safe <script>alert(5)</script>title</h1>
      <p>Text<script>document.write('alert(6)')</script> here</p>
      <svg onload="alert(7)"><text>alert(8)</text></svg>
      <iframe srcdoc="<script>alert(9)</script>"></iframe>
      <noscript><img src=x onerror=alert(10)></noscript>
      <style>body{background:url("javascript:alert(11)")}</style>
      <template><p>alert(12)</p></template>
      <p><![CDATA[alert(13)]]>End.</p>
    </article></body></html>"""
    document = extract_html(hostile)
    for bad in ("alert", "<", "onerror", "onload", "javascript", "document.write"):
        assert bad not in document.text
        assert bad not in document.title
        assert all(bad not in section.heading for section in document.sections)
    assert document.title == "Safe title"
    assert "Text here" in document.text
    assert "End." in document.text


def test_html_escaped_markup_stays_as_visible_text():
    document = extract_html("<p>Type &lt;b&gt; for bold</p>")
    assert document.text == "Type <b> for bold"  # it is text on the page; renderers escape it


def test_html_prefers_main_only_when_it_holds_the_content():
    body_text = " ".join(["word"] * 200)
    tiny_main = f"<body><main><p>Skip link</p></main><div><p>{body_text}</p></div></body>"
    assert "word word" in extract_html(tiny_main).text
    real_main = f"<body><div><p>Sidebar promo text</p></div><main><p>{body_text}</p></main></body>"
    text = extract_html(real_main).text
    assert "Sidebar" not in text
    assert text.startswith("word word")


def test_html_forms_and_banners_only_dropped_when_small():
    article = " ".join(["content"] * 400)
    page = f"""<body><form id="aspnetForm"><div class="banner-wrapper"><p>{article}</p></div>
      </form><form><p>Subscribe to our newsletter</p><input name=email></form></body>"""
    text = extract_html(page).text
    assert text.startswith("content content")
    assert "newsletter" not in text


def test_html_title_falls_back_to_first_h1_then_url():
    assert extract_html("<body><h1>Refund policy</h1><p>30 days.</p></body>").title == (
        "Refund policy"
    )
    assert extract_html("<p>30 days.</p>", url="https://x.test/r").title == "https://x.test/r"


def test_html_is_capped_at_a_word_boundary():
    document = extract_html(
        "<h1>One</h1><p>alpha beta gamma</p><h2>Two</h2><p>delta epsilon</p>", max_words=4
    )
    assert [(s.heading, s.text) for s in document.sections] == [
        ("One", "alpha beta gamma"),
        ("Two", "delta"),
    ]


def test_html_bytes_use_the_declared_charset():
    data = '<html><head><meta charset="iso-8859-1"></head><body><p>Caf\u00e9</p></body></html>'
    assert extract_html(data.encode("latin-1")).text == "Caf\u00e9"


def test_html_without_text_is_refused():
    with pytest.raises(ValidationFailed):
        extract_html("<html><body><nav>Menu</nav><script>x()</script></body></html>")


def test_deeply_nested_html_does_not_crash():
    depth = 20_000  # far past Python's recursion limit
    html = '<div class="banner">' * depth + "<p>Deep text</p>" + "</div>" * depth
    assert extract_html("<div>" * depth + "<p>Deep text</p>" + "</div>" * depth).text == (
        "Deep text"
    )
    with pytest.raises(ValidationFailed):  # every level is a small banner: all dropped
        extract_html(html)


def test_html_file_upload_uses_filename_when_untitled():
    document = extract_file(
        b"<html><body><p>Hours: 9-5</p></body></html>", "hours.htm", max_bytes=LIMIT
    )
    assert (document.kind, document.title, document.filename) == ("html", "hours", "hours.htm")


# --- text and Markdown --------------------------------------------------------------------------


def test_markdown_headings_start_sections_outside_code_fences():
    text = (
        "Intro line.\r\n\r\n\r\n\r\n# Setup   Guide #\r\nRun   it:\r\n\r\n```sh\r\n"
        "# not a heading\r\n    indented\r\n```\r\n## **Support**\r\nMail us.\r\n"
    )
    document = extract_text(text, title="  Handbook ")
    assert document.kind == "text"
    assert document.title == "Handbook"
    assert [(s.heading, s.text) for s in document.sections] == [
        ("", "Intro line."),
        ("Setup Guide", "Run it:\n\n```sh\n# not a heading\n    indented\n```"),
        ("Support", "Mail us."),
    ]


def test_text_title_comes_from_first_heading_else_untitled():
    assert extract_text("# FAQ\nQ and A", title="").title == "FAQ"
    assert extract_text("no headings", title="").title == "Untitled"
    with pytest.raises(ValidationFailed):
        extract_text(" \n\n ", title="x")


def test_markdown_and_text_files_take_titles_from_heading_or_filename():
    md = extract_file(b"# Returns\n\nSend it back.", "policy.md", max_bytes=LIMIT)
    assert (md.kind, md.title, md.sections[0].heading) == ("md", "Returns", "Returns")
    txt = extract_file(b"Line one\n\n\n\nLine   two", "notes.txt", max_bytes=LIMIT)
    assert (txt.kind, txt.title, txt.text) == ("txt", "notes", "Line one\n\nLine two")
