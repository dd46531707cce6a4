"""What the Sources page relies on: the grouped overview, editing a Q&A pair, field-level
refusals and storage figures, through the real worker, index and database."""

import pytest

from chatapp.core.config import reset_settings
from chatapp.core.db import session_scope
from chatapp.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from chatapp.services.knowledge import schemas, sources
from chatapp.services.knowledge.ingest import queue
from chatapp.services.knowledge.retrieval import retrieve
from chatapp.services.knowledge.sources import SourceInputInvalid
from chatapp.services.knowledge.sources_view import sources_overview
from chatapp.workers import ingest as worker
from tests.utils.factories import make_tenant
from tests.utils.mutable_site import page, running_mutable_site

PAGES = {
    "/": page("Home", "Welcome to Acme bikes, the bike shop of Lyon.", ["/repairs", "/rentals"]),
    "/repairs": page("Repairs", "We repair punctures in 20 minutes for 15 euros.", ["/"]),
    "/rentals": page("Rentals", "City bikes can be rented for 12 euros a day.", ["/"]),
}


@pytest.fixture
def tenant(database_url):
    with session_scope() as session:
        return make_tenant(session, "a")


def _overview(actor, bot_id):
    with session_scope() as session:
        return sources_overview(session, actor, bot_id)


def _add_qa(tenant, question, answer):
    with session_scope() as session:
        return sources.add_qa(
            session, tenant.owner, tenant.bot.id, question=question, answer=answer
        ).id


def _answers(tenant, query):
    with session_scope() as session:
        passages = retrieve(
            session, workspace_id=tenant.workspace.id, bot_id=tenant.bot.id, query=query
        ).passages
    return " ".join(passage.text for passage in passages)


def test_overview_is_active_until_the_worker_is_done(tenant):
    with session_scope() as session:
        sources.add_text(session, tenant.owner, tenant.bot.id, title="Hours", text="Open 9 to 5.")
    queued = _overview(tenant.viewer, tenant.bot.id)
    assert queued.active and queued.entries[0].status == "queued"
    worker.run_until_idle()
    ready = _overview(tenant.viewer, tenant.bot.id)
    assert not ready.active
    entry = ready.entries[0]
    assert (entry.status, entry.kind, entry.title) == ("ready", "text", "Hours")
    assert entry.chunk_count >= 1 and entry.char_count == len("Open 9 to 5.")
    assert entry.trained_at is not None


def test_website_pages_are_grouped_under_their_site_and_counted_once(sqlite_url, monkeypatch):
    monkeypatch.setenv("ALLOW_PRIVATE_URLS", "true")  # the test site lives on loopback
    reset_settings()
    with session_scope() as session:
        tenant = make_tenant(session, "a")
    with running_mutable_site(PAGES) as site:
        with session_scope() as session:
            website = sources.add_website(
                session, tenant.owner, tenant.bot.id, url=site.base_url + "/"
            )
            sources.add_text(session, tenant.owner, tenant.bot.id, title="Hours", text="Open.")
        worker.run_until_idle()
    overview = _overview(tenant.agent, tenant.bot.id)
    sites = [entry for entry in overview.entries if entry.id == website.id]
    assert len(sites) == 1, "pages are not listed as top-level sources"
    pages = sites[0].pages
    assert [p.url.removeprefix(site.base_url) for p in pages] == ["/", "/rentals", "/repairs"]
    assert sites[0].pages_ready == 3 and sites[0].pages_failed == 0
    assert all(p.kind == "page" and not p.pages for p in pages)
    assert not any(entry.kind == "page" for entry in overview.entries)
    page_bytes = sum(p.size_bytes for p in pages)
    assert sites[0].size_bytes == page_bytes  # the site sums its pages ...
    # ... but the storage counts each page once, not once more through its website.
    assert overview.storage.bytes_used == len("Open.") + page_bytes
    assert sites[0].last_sync["added"] == 3


def test_editing_a_qa_pair_retrains_it_with_the_new_answer(tenant):
    pair = _add_qa(tenant, "Do you ship to Canada?", "Yes, in 5 to 8 days.")
    worker.run_until_idle()
    assert "5 to 8 days" in _answers(tenant, "shipping to Canada")
    with session_scope() as session:
        edited = sources.update_qa(
            session,
            tenant.admin,
            pair,
            question="Do you ship to Canada?",
            answer="Yes, in 3 business days with express post.",
        )
        assert edited.status == "queued"
    assert _overview(tenant.owner, tenant.bot.id).active
    worker.run_until_idle()
    entry = _overview(tenant.owner, tenant.bot.id).entries[0]
    assert entry.status == "ready" and entry.answer.startswith("Yes, in 3 business days")
    found = _answers(tenant, "shipping to Canada")
    assert "3 business days" in found and "5 to 8 days" not in found


@pytest.mark.parametrize(
    ("question", "answer", "field"),
    [
        ("", "An answer", "question"),
        ("A question?", "  ", "answer"),
        ("Q?", "a" * 10_001, "answer"),
    ],
)
def test_qa_refusals_name_their_field(tenant, question, answer, field):
    pair = _add_qa(tenant, "Old question?", "Old answer.")
    for call in (
        lambda s: sources.add_qa(s, tenant.owner, tenant.bot.id, question=question, answer=answer),
        lambda s: sources.update_qa(s, tenant.owner, pair, question=question, answer=answer),
    ):
        with pytest.raises(SourceInputInvalid) as refused, session_scope() as session:
            call(session)
        assert refused.value.field == field and refused.value.message
    assert _overview(tenant.owner, tenant.bot.id).entries[0].question == "Old question?"


def test_website_options_are_refused_per_field(tenant):
    cases = [
        ({"url": "ftp://example.com"}, "url"),
        ({"url": "https://93.184.215.14/", "max_pages": 0}, "max_pages"),
        ({"url": "https://93.184.215.14/", "max_depth": 11}, "max_depth"),
        ({"url": "https://93.184.215.14/", "exclude": [f"/p{i}" for i in range(21)]}, "exclude"),
    ]
    for arguments, field in cases:
        with pytest.raises(SourceInputInvalid) as refused, session_scope() as session:
            sources.add_website(session, tenant.owner, tenant.bot.id, **arguments)
        assert refused.value.field == field
    with pytest.raises(SourceInputInvalid) as refused, session_scope() as session:
        sources.add_text(session, tenant.owner, tenant.bot.id, title="x", text="  ")
    assert refused.value.field == "text"


def test_only_qa_pairs_are_edited_and_not_while_training(tenant):
    with session_scope() as session:
        text = sources.add_text(session, tenant.owner, tenant.bot.id, title="t", text="Some text.")
    with pytest.raises(ValidationFailed, match="Only Q&A"), session_scope() as session:
        sources.update_qa(session, tenant.owner, text.id, question="q?", answer="a")
    worker.run_until_idle()
    pair = _add_qa(tenant, "Q?", "A.")
    from chatapp.core.db import get_engine

    assert queue.claim_next(get_engine()) == pair  # a worker is training it right now
    with pytest.raises(Conflict), session_scope() as session:
        sources.update_qa(session, tenant.owner, pair, question="Q2?", answer="A2.")


def test_members_who_may_not_change_the_bot_cannot_edit_pairs(tenant):
    pair = _add_qa(tenant, "Q?", "A.")
    for actor in (tenant.agent, tenant.viewer):
        with pytest.raises(PermissionDenied), session_scope() as session:
            sources.update_qa(session, actor, pair, question="Hacked?", answer="Yes.")
    assert _overview(tenant.viewer, tenant.bot.id).entries[0].question == "Q?"


def test_other_workspaces_cannot_list_or_edit(database_url):
    with session_scope() as session:
        a = make_tenant(session, "a")
        b = make_tenant(session, "b")
        b_pair = sources.add_qa(session, b.owner, b.bot.id, question="B?", answer="B.").id
    for actor in (a.owner, a.viewer):
        with pytest.raises(NotFound), session_scope() as session:
            sources_overview(session, actor, b.bot.id)
    with pytest.raises(NotFound), session_scope() as session:
        sources.update_qa(session, a.owner, b_pair, question="Mine?", answer="Yes.")
    assert _overview(b.owner, b.bot.id).entries[0].question == "B?"
    assert _overview(a.owner, a.bot.id).entries == []


def test_the_per_file_refusal_is_the_same_before_and_after_sending(tenant, monkeypatch):
    monkeypatch.setenv("MAX_UPLOAD_MB", "0.001")
    reset_settings()
    message = schemas.file_too_large_message("big.txt")
    assert message == "big.txt is larger than the 0.001 MB limit per file."
    with pytest.raises(ValidationFailed) as refused, session_scope() as session:
        sources.add_file(session, tenant.owner, tenant.bot.id, filename="big.txt", data=b"a" * 2000)
    assert refused.value.message == message


def test_table_rows_put_a_websites_pages_under_it_only_when_expanded(sqlite_url, monkeypatch):
    from chatapp.state.sources import rows_for

    monkeypatch.setenv("ALLOW_PRIVATE_URLS", "true")
    reset_settings()
    with session_scope() as session:
        tenant = make_tenant(session, "a")
    with running_mutable_site(PAGES) as site:
        with session_scope() as session:
            website = sources.add_website(
                session, tenant.owner, tenant.bot.id, url=site.base_url + "/"
            )
        _add_qa(tenant, "Parking?", "Behind the shop.")
        worker.run_until_idle()
    entries = _overview(tenant.owner, tenant.bot.id).entries
    collapsed = rows_for(entries, set())
    assert [row.kind for row in collapsed] == ["qa", "website"]
    assert collapsed[1].pages_label == "3 pages" and not collapsed[1].expanded
    expanded = rows_for(entries, {website.id})
    assert [row.kind for row in expanded] == ["qa", "website", "page", "page", "page"]
    assert all(row.is_page and row.status == "ready" for row in expanded[2:])
    assert expanded[1].expanded and expanded[1].chunks == str(entries[1].chunk_count)
