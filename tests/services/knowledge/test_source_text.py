"""Reading what a source taught its bot, on SQLite and PostgreSQL: the stored text of pasted texts
and Q&A pairs, the text of files rebuilt from their real (overlapping) chunks, paging, truncation
and tenancy."""

from __future__ import annotations

import re

import pytest

from chatapp.core.config import reset_settings
from chatapp.core.db import session_scope
from chatapp.core.errors import NotFound
from chatapp.services.knowledge import sources
from chatapp.services.knowledge.source_text import repeated_start, source_text
from chatapp.workers import ingest as worker
from tests.services.knowledge.ingest.files import pdf
from tests.utils.factories import make_tenant
from tests.utils.mutable_site import page, running_mutable_site

HOURS = "Opening hours\n\nOur shop in Lyon is open Monday to Friday from 9am to 6pm."
# Sixty distinct numbered sentences: several chunks, each starting with the last one's end.
SITE = {
    "/": page("Home", "Welcome to Acme bikes, the bike shop of Lyon.", ["/repairs"]),
    "/repairs": page("Repairs", "We repair punctures in 20 minutes for 15 euros.", ["/"]),
}
SENTENCES = [
    f"Rule {n}: bikes of model {n * 7} are serviced in bay {n % 9} by the team on shift {n % 4}."
    for n in range(1, 61)
]


@pytest.fixture
def tenant(database_url):
    with session_scope() as session:
        return make_tenant(session, "a")


def _read(actor, source_id, **options):
    with session_scope() as session:
        return source_text(session, actor, source_id, **options)


def _add(tenant, kind, **fields) -> int:
    with session_scope() as session:
        add = getattr(sources, f"add_{kind}")
        return add(session, tenant.owner, tenant.bot.id, **fields).id


def test_pasted_text_and_pairs_show_what_was_written_and_their_chunks(tenant):
    text_id = _add(tenant, "text", title="Hours", text=HOURS)
    pair_id = _add(tenant, "qa", question="Parking?", answer="Free, behind the shop.")
    worker.run_until_idle()
    text = _read(tenant.viewer, text_id)  # any member may read
    assert (text.kind, text.title, text.text, text.text_truncated) == (
        "text",
        "Hours",
        HOURS,
        False,
    )
    assert text.chunk_count == 1 and [c.index for c in text.chunks] == [1]
    assert "9am to 6pm" in text.chunks[0].text and text.notes == []
    pair = _read(tenant.agent, pair_id)
    assert pair.text == "Parking?\n\nFree, behind the shop."
    assert pair.chunks[0].text == "Parking?\nFree, behind the shop."


def test_a_files_text_is_rebuilt_from_its_chunks_and_shown_in_part(tenant):
    file_id = _add(tenant, "file", filename="rules.txt", data=" ".join(SENTENCES).encode())
    worker.run_until_idle()
    read = _read(tenant.owner, file_id, chunk_limit=500)
    assert read.chunk_count >= 3 and len(read.chunks) == read.chunk_count
    overlaps = [
        repeated_start(a.text, b.text) for a, b in zip(read.chunks, read.chunks[1:], strict=False)
    ]
    assert all(overlaps), "every chunk starts with the end of the one before (the test's premise)"
    found = re.findall(r"Rule \d+:", read.text)
    assert found == [f"Rule {n}:" for n in range(1, 61)]  # each sentence once, in order
    assert read.text == " ".join(SENTENCES)
    assert read.notes == [
        "Rebuilt from the indexed chunks: the text the bot learned from this source."
    ]

    assert read.chunk_note == ""  # all of them fit in one page

    # A long source is shown in part, each part saying so.
    part = _read(tenant.owner, file_id, chunk_offset=1, chunk_limit=1, max_chars=100)
    assert [c.index for c in part.chunks] == [2] and part.chunks[0].text == read.chunks[1].text
    assert part.text == read.text[:100] and part.text_truncated
    assert f"Showing the first 100 of {len(read.text):,} characters." in part.notes
    assert part.chunk_note == f"Showing chunks 2 to 2 of {read.chunk_count}."
    beyond = _read(tenant.owner, file_id, chunk_offset=10_000)
    assert beyond.chunks == [] and beyond.chunk_count == read.chunk_count


def test_pages_of_a_pdf_keep_their_page_numbers(tenant):
    file_id = _add(
        tenant,
        "file",
        filename="handbook.pdf",
        data=pdf(["Warranty: two years on every frame.", "Delivery takes three days."]),
    )
    worker.run_until_idle()
    read = _read(tenant.owner, file_id)
    assert [c.page for c in read.chunks] == [1, 2]
    assert read.text.index("two years") < read.text.index("three days")


def test_a_website_points_to_its_pages_whose_text_is_read(tenant, monkeypatch):
    monkeypatch.setenv("ALLOW_PRIVATE_URLS", "true")  # the test site lives on loopback
    reset_settings()
    with running_mutable_site(SITE) as site:
        website_id = _add(tenant, "website", url=site.base_url + "/")
        worker.run_until_idle()
    assert "open a page" in _read(tenant.owner, website_id).notes[0]
    with session_scope() as session:
        listed = sources.list_sources(session, tenant.owner, tenant.bot.id, include_pages=True)
    (repairs,) = [source for source in listed if source.url.endswith("/repairs")]
    read = _read(tenant.owner, repairs.id)
    assert "punctures in 20 minutes" in read.text and read.chunks


def test_a_queued_source_shows_its_text_before_its_chunks(tenant):
    queued = _read(tenant.owner, _add(tenant, "text", title="Hours", text=HOURS))
    assert (queued.status, queued.text, queued.chunks) == ("queued", HOURS, [])


def test_another_workspaces_source_is_not_found(database_url):
    with session_scope() as session:
        a = make_tenant(session, "a")
        b = make_tenant(session, "b")
        secret = sources.add_text(session, b.owner, b.bot.id, title="B", text="B's secret text.").id
    worker.run_until_idle()
    for actor in (a.owner, a.viewer):
        with pytest.raises(NotFound):
            _read(actor, secret)
    assert _read(b.viewer, secret).text == "B's secret text."


def test_repeated_start_finds_whole_words_only():
    assert repeated_start("One. Two three.", "Two three. Four.") == len("Two three.")
    assert repeated_start("One. Two three.", "three. Four.") == len("three.")
    assert repeated_start("One. Two three.", "hree. Four.") == 0
    assert repeated_start("One.", "Two.") == 0
