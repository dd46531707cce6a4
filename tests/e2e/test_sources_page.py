"""The Sources section in Chromium against the running app: uploads, pasted text, Q&A pairs,
refusals next to their field, live training status, deletion, roles and a phone-sized screen.

Files are built in the test; the server's own ingest worker trains them, and the page must show
the progress by itself (no reload): Playwright's auto-waiting `expect` polls the page.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from chatapp.core.db import get_engine, session_scope
from chatapp.services.knowledge import sources
from chatapp.services.models import Source
from tests.e2e.dashboard_helpers import log_in, new_tenant, open_section, screenshot
from tests.services.knowledge.ingest.files import blank_pdf, encrypted_pdf, pdf, zip_bomb

pytestmark = pytest.mark.e2e

TRAINED_WITHIN_MS = 120_000  # the first source also loads the embedding model
HANDBOOK = [
    "Opening hours. Our shop in Lyon is open Monday to Friday from 9am to 6pm.",
    "Repairs. We repair punctures in 20 minutes for 15 euros.",
]
RETURNS = (
    "Returns policy\n\nYou can return any item within 30 days of delivery for a full refund. "
    "Items must be unused and in their original packaging."
)
A_NUMBER = re.compile(r"^[1-9][\d,]*$")
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _row(page: Page, title: str):
    return page.locator(".source-row", has=page.locator(".source-title", has_text=title))


def _expect_ready(page: Page, title: str) -> None:
    row = _row(page, title)
    expect(row.locator(".source-status")).to_have_text("Ready", timeout=TRAINED_WITHIN_MS)
    expect(row.locator(".source-chunks")).to_have_text(A_NUMBER)


def _upload(page: Page, *files: tuple[str, str, bytes]) -> None:
    page.set_input_files(
        "#upload-zone input[type=file]",
        files=[{"name": name, "mimeType": mime, "buffer": data} for name, mime, data in files],
    )


def _add_text_source(app_server, tenant, title: str, text: str) -> int:
    with session_scope(get_engine(app_server.database_url)) as session:
        return sources.add_text(session, tenant.owner, tenant.bot.id, title=title, text=text).id


def _open_sources_as(page: Page, role: str, label: str) -> None:
    log_in(page, f"{role}-{label}@example.com")
    open_section(page, "Sources")


def test_owner_teaches_the_bot_files_text_and_a_qa_pair(page, app_server):
    label, _tenant = new_tenant(app_server)
    _open_sources_as(page, "owner", label)
    expect(page.locator("#no-sources")).to_be_visible()

    _upload(
        page,
        ("handbook.pdf", "application/pdf", pdf(HANDBOOK)),
        ("returns.txt", "text/plain", RETURNS.encode()),
    )
    expect(page.locator(".source-row")).to_have_count(2)
    _expect_ready(page, "handbook")
    _expect_ready(page, "returns")
    expect(_row(page, "handbook")).to_contain_text("PDF")  # the type read from the content
    expect(_row(page, "returns")).to_contain_text("TXT")

    page.click("#tab-text")
    page.click("#add-text")
    expect(page.locator("#error-text-text")).to_have_text("Paste some text first.")
    page.fill("#text-title", "Parking")
    page.fill("#text-body", "Free parking is available behind the Lyon shop.")
    page.click("#add-text")
    expect(page.locator("#error-text-text")).to_have_count(0)
    expect(page.locator("#text-body")).to_have_value("")  # the form is ready for the next one
    _expect_ready(page, "Parking")

    page.click("#tab-qa")
    page.fill("#qa-question", "Do you ship to Canada?")
    page.click("#add-qa")
    expect(page.locator("#error-qa-answer")).to_contain_text("question and its answer")
    page.fill("#qa-answer", "Yes, in 5 to 8 days.")
    page.click("#add-qa")
    _expect_ready(page, "ship to Canada")

    _row(page, "ship to Canada").locator(".edit-source").click()
    expect(page.locator("#edit-answer")).to_have_value("Yes, in 5 to 8 days.")
    page.fill("#edit-answer", "")
    page.click("#save-qa")
    expect(page.locator("#error-edit-answer")).to_contain_text("question and its answer")
    page.fill("#edit-answer", "Yes, in 3 business days by express post.")
    page.click("#save-qa")
    expect(page.locator("#edit-answer")).to_have_count(0)  # the dialog closed
    _expect_ready(page, "ship to Canada")
    _row(page, "ship to Canada").locator(".edit-source").click()
    expect(page.locator("#edit-answer")).to_have_value("Yes, in 3 business days by express post.")
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)

    expect(page.locator(".source-row")).to_have_count(4)
    expect(page.locator("#storage")).to_contain_text("of 50.0 MB used")
    page.click("#tab-files")
    expect(page.locator("[data-sonner-toast]")).to_have_count(0, timeout=20_000)
    screenshot(page, "sources")


def test_unsupported_damaged_and_oversized_files_are_refused_in_words(page, app_server):
    label, _tenant = new_tenant(app_server)
    _open_sources_as(page, "owner", label)
    program = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(range(256)) * 64
    _upload(page, ("invoice.pdf", "application/pdf", program))
    expect(page.locator("#upload-refusals")).to_contain_text(
        "invoice.pdf: This file type is not supported"
    )
    expect(page.locator(".source-row")).to_have_count(0)

    too_big = b"a" * (20 * 1024 * 1024 + 1)  # the server's default limit is 20 MB per file
    _upload(page, ("manual.txt", "text/plain", too_big))
    expect(page.locator("#upload-refusals")).to_have_text(
        "manual.txt is larger than the 20 MB limit per file."
    )
    expect(page.locator(".source-row")).to_have_count(0)

    # Issue 18 items 10-12: what cannot work is refused at once, each file in words.
    whole = pdf(HANDBOOK * 10)
    _upload(
        page,
        ("encrypted.pdf", "application/pdf", encrypted_pdf(whole, user_password="hunter2")),
        ("truncated.pdf", "application/pdf", whole[: len(whole) // 2]),
        ("cv.docx", DOCX, zip_bomb(unpacked_bytes=64 * 1024 * 1024)),
        ("prices.pdf", "application/pdf", b"<!DOCTYPE html><html><body>Ten euros</body></html>"),
        ("invoice\u202etxt.exe", "text/plain", b"Pay now."),
    )
    refusals = page.locator("#upload-refusals")
    expect(refusals).to_contain_text("encrypted.pdf: This PDF is password-protected")
    expect(refusals).to_contain_text("truncated.pdf: This PDF file is damaged")
    expect(refusals).to_contain_text("cv.docx: This DOCX file unpacks to far more data")
    expect(refusals).to_contain_text("prices.pdf is named like a PDF but is really an HTML page")
    expect(refusals).to_contain_text(
        "invoice\ufffdtxt.exe: The file name contains a hidden control or text-direction "
        "character (U+202E)"
    )
    expect(page.locator(".source-row")).to_have_count(0)

    # A PDF that opens but only fails while being read (no text): the row says why, in words.
    _upload(page, ("broken.pdf", "application/pdf", blank_pdf()))
    row = _row(page, "broken")
    expect(row.locator(".source-status")).to_have_text("Error", timeout=TRAINED_WITHIN_MS)
    expect(row.locator(".source-error")).not_to_be_empty()
    expect(row.locator(".source-error")).not_to_contain_text("Traceback")


def test_url_and_website_forms_say_what_is_wrong_next_to_the_field(page, app_server):
    label, _tenant = new_tenant(app_server)
    _open_sources_as(page, "owner", label)
    page.click("#tab-url")
    page.fill("#url-address", "ftp://example.com/faq")
    page.click("#add-url")
    expect(page.locator("#error-url-url")).to_contain_text("http")

    page.click("#tab-website")
    page.fill("#site-address", "http://127.0.0.1/")
    page.click("#add-website")
    expect(page.locator("#error-website-url")).to_contain_text("private or local")
    page.fill("#site-address", "https://93.184.215.14/")
    page.fill("#site-max-pages", "0")
    page.click("#add-website")
    expect(page.locator("#error-website-max_pages")).to_contain_text("between 1 and 1,000")
    expect(page.locator("#error-website-url")).to_have_count(0)
    page.fill("#site-max-pages", "10")
    page.fill("#site-max-depth", "99")
    page.click("#add-website")
    expect(page.locator("#error-website-max_depth")).to_contain_text("between 0 and 10")
    expect(page.locator(".source-row")).to_have_count(0)


def test_deleting_asks_first_then_removes_the_row(page, app_server):
    label, tenant = new_tenant(app_server)
    kept = _add_text_source(app_server, tenant, "Hours", "Open from 9am to 6pm.")
    doomed = _add_text_source(app_server, tenant, "Old prices", "Repairs cost 10 euros.")
    _open_sources_as(page, "owner", label)
    _expect_ready(page, "Old prices")

    _row(page, "Old prices").locator(".delete-source").click()
    expect(page.get_by_role("alertdialog")).to_contain_text("Delete Old prices?")
    page.get_by_role("button", name="Cancel").click()
    expect(_row(page, "Old prices")).to_have_count(1)

    _row(page, "Old prices").locator(".delete-source").click()
    page.click("#confirm-delete")
    expect(_row(page, "Old prices")).to_have_count(0)
    expect(_row(page, "Hours")).to_have_count(1)
    with session_scope(get_engine(app_server.database_url)) as session:
        assert session.get(Source, doomed) is None
        assert session.get(Source, kept) is not None


@pytest.mark.parametrize("role", ["viewer", "agent"])
def test_members_who_cannot_change_the_bot_see_the_table_without_controls(page, app_server, role):
    label, tenant = new_tenant(app_server)
    _add_text_source(app_server, tenant, "Hours", "Open from 9am to 6pm.")
    with session_scope(get_engine(app_server.database_url)) as session:
        sources.add_qa(session, tenant.owner, tenant.bot.id, question="Parking?", answer="Yes.")
    _open_sources_as(page, role, label)
    _expect_ready(page, "Hours")
    expect(_row(page, "Parking?")).to_have_count(1)
    expect(page.locator("#storage")).to_be_visible()
    for control in ("#add-sources", "#upload-zone", ".delete-source", ".retrain-source"):
        expect(page.locator(control)).to_have_count(0)
    expect(page.locator(".edit-source")).to_have_count(0)


def test_the_table_is_usable_on_a_phone(page, app_server):
    label, tenant = new_tenant(app_server)
    _add_text_source(app_server, tenant, "Hours", "Open from 9am to 6pm.")
    page.set_viewport_size({"width": 390, "height": 844})
    _open_sources_as(page, "owner", label)
    _expect_ready(page, "Hours")
    row = _row(page, "Hours")
    row.locator(".retrain-source").scroll_into_view_if_needed()
    for part in (".source-title", ".source-status", ".retrain-source", ".delete-source"):
        expect(row.locator(part)).to_be_in_viewport()
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px on a phone"
    row.locator(".retrain-source").click()  # the controls work there too
    expect(page.get_by_text("Re-training.")).to_be_visible()
    expect(row.locator(".source-status")).to_have_text("Ready", timeout=TRAINED_WITHIN_MS)


def test_a_website_is_added_with_its_options_and_offers_a_re_sync(page, app_server):
    label, tenant = new_tenant(app_server)
    _open_sources_as(page, "owner", label)
    page.click("#tab-website")
    page.fill("#site-address", "https://93.184.215.14/sitemap.xml")
    page.click("#site-sitemap")
    page.fill("#site-max-pages", "5")
    page.fill("#site-max-depth", "1")
    page.fill("#site-include", "/help/\n/faq/")
    page.fill("#site-exclude", "/blog/")
    page.click("#add-website")
    row = _row(page, "93.184.215.14")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Website")
    expect(row.locator(".toggle-pages")).to_contain_text("page")
    expect(page.locator("#site-address")).to_have_value("")  # a fresh form for the next one
    with session_scope(get_engine(app_server.database_url)) as session:
        (site,) = sources.list_sources(session, tenant.owner, tenant.bot.id)
        assert site.meta["use_sitemap"] is True
        assert (site.meta["max_pages"], site.meta["max_depth"]) == (5, 1)
        assert (site.meta["include"], site.meta["exclude"]) == (["/help/", "/faq/"], ["/blog/"])
    # Whatever the network says (this machine may have none), it ends in a settled state.
    expect(row.locator(".source-status")).to_have_text(
        re.compile("^(Ready|Error)$"), timeout=TRAINED_WITHIN_MS
    )
    expect(row.get_by_role("button", name="Re-sync website")).to_be_enabled()
