"""Website and URL sources through the real worker against a real loopback site."""

import pytest
from sqlmodel import select

from chatapp.core.config import reset_settings
from chatapp.core.db import session_scope
from chatapp.core.errors import ValidationFailed
from chatapp.services.knowledge import sources
from chatapp.services.knowledge.index.vector_index import get_index
from chatapp.services.knowledge.retrieval import retrieve
from chatapp.services.models import KnowledgeChunk, Source
from chatapp.workers import ingest as worker
from tests.utils.factories import make_tenant
from tests.utils.mutable_site import page, running_mutable_site

PAGES = {
    "/": page("Home", "Welcome to Acme bikes, the bike shop of Lyon.", ["/repairs", "/rentals"]),
    "/repairs": page("Repairs", "We repair punctures in 20 minutes for 15 euros.", ["/"]),
    "/rentals": page("Rentals", "City bikes can be rented for 12 euros a day.", ["/"]),
}


@pytest.fixture
def tenant(sqlite_url, monkeypatch):
    monkeypatch.setenv("ALLOW_PRIVATE_URLS", "true")  # the test site lives on loopback
    reset_settings()
    with session_scope() as session:
        return make_tenant(session, "a")


@pytest.fixture
def site():
    with running_mutable_site(PAGES) as site:
        yield site


def _children(site_id):
    with session_scope() as session:
        return {
            s.url.rsplit("/", 1)[-1] or "/": s
            for s in session.exec(select(Source).where(Source.parent_id == site_id))
        }


def _search(tenant, query):
    with session_scope() as session:
        return retrieve(
            session, workspace_id=tenant.workspace.id, bot_id=tenant.bot.id, query=query
        ).passages


def test_a_crawled_site_becomes_one_source_per_page(tenant, site):
    with session_scope() as session:
        website = sources.add_website(session, tenant.owner, tenant.bot.id, url=site.base_url + "/")
    worker.run_until_idle()
    with session_scope() as session:
        parent = session.get(Source, website.id)
    assert parent.status == "ready", parent.error
    children = _children(website.id)
    assert set(children) == {"/", "repairs", "rentals"}
    assert all(child.status == "ready" and child.chunk_count >= 1 for child in children.values())
    assert parent.chunk_count == sum(c.chunk_count for c in children.values())
    top = _search(tenant, "how much does fixing a flat tyre cost")[0]
    assert "punctures" in top.text and top.url.endswith("/repairs") and top.title == "Repairs"
    assert "Copyright" not in top.text  # the footer is not knowledge


def test_a_crawled_site_is_named_by_its_start_page_title_and_follows_it(tenant, site):
    with session_scope() as session:
        website = sources.add_website(session, tenant.owner, tenant.bot.id, url=site.base_url + "/")
        assert website.title == site.base_url + "/"  # until the crawl has read the start page
    worker.run_until_idle()
    with session_scope() as session:
        assert session.get(Source, website.id).title == "Home"
    site.pages["/"] = PAGES["/"].replace("<title>Home</title>", "<title>Acme bikes</title>")
    with session_scope() as session:
        sources.retrain(session, tenant.owner, website.id)
    worker.run_until_idle()
    with session_scope() as session:
        assert session.get(Source, website.id).title == "Acme bikes"


def test_a_site_whose_start_page_has_no_title_keeps_its_address(tenant, site):
    site.pages["/"] = PAGES["/"].replace("<title>Home</title>", "").replace("<h1>Home</h1>", "")
    with session_scope() as session:
        website = sources.add_website(session, tenant.owner, tenant.bot.id, url=site.base_url + "/")
    worker.run_until_idle()
    with session_scope() as session:
        stored = session.get(Source, website.id)
    assert stored.status == "ready" and stored.title == site.base_url + "/"


def test_resync_reindexes_changed_pages_only_and_drops_missing_ones(tenant, site):
    with session_scope() as session:
        website = sources.add_website(session, tenant.owner, tenant.bot.id, url=site.base_url + "/")
    worker.run_until_idle()
    before = _children(website.id)
    with session_scope() as session:
        unchanged_chunks = set(
            session.exec(
                select(KnowledgeChunk.id).where(KnowledgeChunk.source_id == before["/"].id)
            )
        )
    site.pages["/repairs"] = page("Repairs", "Puncture repairs now cost 18 euros.", ["/"])
    del site.pages["/rentals"]
    site.pages["/"] = PAGES["/"].replace('<li><a href="/rentals">/rentals</a></li>', "")
    with session_scope() as session:
        sources.retrain(session, tenant.owner, website.id)
    worker.run_until_idle()
    with session_scope() as session:
        parent = session.get(Source, website.id)
        home_chunks = set(
            session.exec(
                select(KnowledgeChunk.id).where(KnowledgeChunk.source_id == before["/"].id)
            )
        )
    after = _children(website.id)
    assert set(after) == {"/", "repairs"}
    assert parent.meta["last_sync"]["removed"] == 1
    assert parent.meta["last_sync"]["changed"] >= 1
    assert home_chunks == unchanged_chunks  # the home page text did not change
    index = get_index()
    assert (
        index.count(
            workspace_id=tenant.workspace.id, bot_id=tenant.bot.id, source_id=before["rentals"].id
        )
        == 0
    )
    texts = " ".join(p.text for p in _search(tenant, "puncture repair price"))
    assert "18 euros" in texts and "15 euros" not in texts


def test_single_url_source(tenant, site):
    with session_scope() as session:
        source = sources.add_url(
            session, tenant.owner, tenant.bot.id, url=site.base_url + "/rentals"
        )
    worker.run_until_idle()
    with session_scope() as session:
        stored = session.get(Source, source.id)
    assert stored.status == "ready" and stored.title == "Rentals"
    assert "12 euros" in _search(tenant, "bike rental price per day")[0].text


def test_a_url_that_fails_later_is_an_error_with_a_message(tenant, site):
    with session_scope() as session:
        source = sources.add_url(session, tenant.owner, tenant.bot.id, url=site.base_url + "/gone")
    worker.run_until_idle()
    with session_scope() as session:
        stored = session.get(Source, source.id)
    assert stored.status == "error" and "404" in stored.error


def test_private_addresses_are_refused_by_default(sqlite_url, site):
    with session_scope() as session:
        tenant = make_tenant(session, "b")
        with pytest.raises(ValidationFailed, match="private or local"):
            sources.add_url(session, tenant.owner, tenant.bot.id, url=site.base_url + "/")
        with pytest.raises(ValidationFailed, match="private or local"):
            sources.add_website(session, tenant.owner, tenant.bot.id, url=site.base_url + "/")
