"""`python -m chatapp reextract`: sources indexed by an older extractor get the new text from their
stored original; unchanged ones are left alone, web sources are queued for a re-sync, and a source
whose original is gone keeps its old chunks. Real pipeline (SQLite/PostgreSQL, local embedder)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from chatapp import cli
from chatapp.core.db import session_scope
from chatapp.services.knowledge import sources
from chatapp.services.knowledge.ingest import extract_html, reextract
from chatapp.services.models import KnowledgeChunk, Source
from chatapp.workers import ingest as worker
from tests.utils.factories import make_tenant

DOC_PAGE = """<!DOCTYPE html><html><head><title>Returns</title></head><body>
<div class="navheader"><a href="a.html">Prev</a> | <a href="index.html">Up</a> |
  <a href="c.html">Next</a></div>
<h1>Returns</h1>
<p>You can return any item within 30 days of delivery for a full refund.</p>
<p>Items must be unused and in their original packaging.</p>
<div class="navfooter"><a href="a.html">Prev</a> | <a href="c.html">Next</a></div>
</body></html>"""


@pytest.fixture
def tenant(database_url):
    with session_scope() as session:
        return make_tenant(session, "a")


def _old_extraction():
    """The extractor before cleaning: no chrome markers, no link-density or chrome-line rules."""
    patch = pytest.MonkeyPatch()
    patch.setattr(extract_html, "CHROME_TOKENS", frozenset())
    patch.setattr(extract_html, "LINK_SHARE", 2.0)
    patch.setattr(extract_html, "drop_chrome_lines", lambda text: text)
    return patch


def _chunks(source_id: int) -> list[KnowledgeChunk]:
    with session_scope() as session:
        return list(
            session.exec(select(KnowledgeChunk).where(KnowledgeChunk.source_id == source_id)).all()
        )


def _add(tenant) -> tuple[int, int, int]:
    """A file, a pasted text and a URL source, trained by the old extractor."""
    old = _old_extraction()
    try:
        with session_scope() as session:
            file_id = sources.add_file(
                session,
                tenant.owner,
                tenant.bot.id,
                filename="returns.html",
                data=DOC_PAGE.encode(),
            ).id
            text_id = sources.add_text(
                session, tenant.owner, tenant.bot.id, title="Hours", text="Open 9 to 5 daily."
            ).id
        worker.run_until_idle()
    finally:
        old.undo()
    with session_scope() as session:
        url = Source(
            workspace_id=tenant.workspace.id,
            bot_id=tenant.bot.id,
            kind="url",
            url="https://shop.test/faq",
            status="ready",
        )
        session.add(url)
        session.flush()
        url_id = url.id
    return file_id, text_id, url_id


def test_reextract_gives_old_sources_the_clean_text_and_queues_web_sources(tenant, capsys):
    file_id, text_id, url_id = _add(tenant)
    assert any("Prev" in chunk.text for chunk in _chunks(file_id))  # the old text had the chrome
    text_chunks = {chunk.id for chunk in _chunks(text_id)}

    assert cli.main(["reextract"]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert f"source {file_id}: changed" in out
    assert f"source {text_id}: unchanged" in out
    assert f"source {url_id}: queued" in out

    texts = [chunk.text for chunk in _chunks(file_id)]
    assert texts and not any("Prev" in text or "Next" in text for text in texts)
    assert any("within 30 days" in text for text in texts)
    assert {chunk.id for chunk in _chunks(text_id)} == text_chunks  # nothing rewritten
    with session_scope() as session:
        assert session.get(Source, file_id).status == "ready"
        assert session.get(Source, url_id).status == "queued"  # the worker re-syncs it


def test_reextract_is_idempotent_and_can_skip_web_sources(tenant):
    file_id, text_id, _url_id = _add(tenant)
    first = reextract.reextract(queue_web=False)
    assert (first.changed, first.queued) == ([file_id], [])
    again = reextract.reextract(queue_web=False)
    assert again.changed == [] and sorted(again.unchanged) == sorted([file_id, text_id])


def test_a_source_whose_original_is_gone_keeps_its_old_chunks(tenant, capsys):
    file_id, _text_id, _url_id = _add(tenant)
    before = _chunks(file_id)
    with session_scope() as session:
        Path(session.get(Source, file_id).meta["path"]).unlink()

    assert cli.main(["reextract", "--skip-web", "--bot", str(tenant.bot.id)]) == 1
    captured = capsys.readouterr()
    assert f"source {file_id} kept its old text: The uploaded file is missing" in captured.err
    assert {chunk.id for chunk in _chunks(file_id)} == {chunk.id for chunk in before}


def test_reextract_is_limited_to_the_chosen_bot(tenant):
    file_id, _text_id, _url_id = _add(tenant)
    report = reextract.reextract(bot_id=tenant.bot.id + 1000)
    assert report == reextract.ReextractReport()
    assert any("Prev" in chunk.text for chunk in _chunks(file_id))
