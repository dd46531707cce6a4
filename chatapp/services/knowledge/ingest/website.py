"""A website source: crawl (or read the sitemap), one child source per page, incremental re-sync.
The site is named after its start page's title (its address until then).

On every run each fetched page is compared with its child source by content hash: unchanged pages
are skipped, changed and new pages are re-indexed, pages that disappeared are removed with their
chunks and vectors.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy.engine import Engine
from sqlmodel import select

from chatapp.core.db import session_scope
from chatapp.core.errors import ValidationFailed
from chatapp.services.knowledge.ingest import pipeline
from chatapp.services.knowledge.ingest.crawl import CrawledPage, crawl_site, crawl_sitemap
from chatapp.services.knowledge.ingest.links import CrawlOptions
from chatapp.services.knowledge.ingest.types import Document
from chatapp.services.knowledge.sources import forget_source_data
from chatapp.services.models import Source, SourceStatus, utcnow


def sync_website(engine: Engine, source_id: int) -> dict:
    """Crawl and index a website source; returns counts of added/changed/unchanged/removed."""
    with session_scope(engine) as session:
        site = session.get(Source, source_id)
        if site is None:
            raise ValidationFailed("The source was deleted.")
        options = dict(site.meta or {})
        start_url, workspace_id, bot_id = site.url, site.workspace_id, site.bot_id

    pages, issues = _crawl(engine, source_id, start_url, options)
    with session_scope(engine) as session:
        children = {
            child.url: (child.id, child.content_hash)
            for child in session.exec(select(Source).where(Source.parent_id == source_id))
        }
    counts = {"added": 0, "changed": 0, "unchanged": 0, "removed": 0, "failed": len(issues)}
    seen: set[str] = set()
    start_title = ""
    for number, page in enumerate(pages, start=1):
        seen.add(page.url)
        try:
            document = pipeline.fetch_document(page.url, page.html, page.content_type)
        except ValidationFailed:
            counts["failed"] += 1
            continue
        if not start_title and _is_start_page(page, bool(options.get("use_sitemap"))):
            start_title = _page_title(document, page.url)
        digest = pipeline.content_hash(document.text)
        existing = children.get(page.url)
        if existing and existing[1] == digest:
            counts["unchanged"] += 1
            continue
        if existing:
            child_id = existing[0]
            counts["changed"] += 1
        else:
            child_id = _add_child(engine, workspace_id, bot_id, source_id, page.url, document)
            counts["added"] += 1
        if not _index_page(engine, child_id, document, len(page.html)):
            counts["failed"] += 1
        pipeline.set_progress(engine, source_id, 0.4 + 0.6 * number / len(pages))

    gone = [child_id for url, (child_id, _digest) in children.items() if url not in seen]
    _finish(engine, source_id, gone, options, counts, start_title)
    return counts


def _is_start_page(page: CrawledPage, use_sitemap: bool) -> bool:
    """The page a site is named after: where the crawl started (the only page at depth 0), or
    for a sitemap, whose pages are all at depth 0, the site's home page."""
    if use_sitemap:
        return urlsplit(page.url).path in ("", "/")
    return page.depth == 0


def _page_title(document: Document, url: str) -> str:
    """The page's own title; "" when extraction only had its address to show."""
    title = (document.title or "").strip()
    return "" if title.rstrip("/") == url.rstrip("/") else title[:300]


def _crawl(engine: Engine, source_id: int, start_url: str, options: dict) -> tuple[list, list]:
    """The site's pages and the crawl's issues (the crawl is the first 40% of the progress);
    no page at all is a ValidationFailed with the first issue's reason."""
    crawl_options = CrawlOptions(
        max_pages=int(options.get("max_pages", 50)),
        max_depth=int(options.get("max_depth", 2)),
        include=list(options.get("include", [])),
        exclude=list(options.get("exclude", [])),
    )

    def on_page(_page, done: int, total: int) -> None:
        pipeline.set_progress(engine, source_id, 0.4 * done / max(total, 1, done))

    crawl = crawl_sitemap if options.get("use_sitemap") else crawl_site
    pages, issues = crawl(start_url, crawl_options, on_page=on_page)
    if not pages:
        reason = issues[0].message if issues else "No pages could be read."
        raise ValidationFailed(f"No page of this site could be added: {reason}")
    return pages, issues


def _add_child(
    engine: Engine, workspace_id: int, bot_id: int, source_id: int, url: str, document: Document
) -> int:
    """A new page source under the site, processing; its id."""
    with session_scope(engine) as session:
        child = Source(
            workspace_id=workspace_id,
            bot_id=bot_id,
            parent_id=source_id,
            kind="page",
            title=(document.title or url)[:300],
            url=url,
            status=SourceStatus.PROCESSING,
        )
        session.add(child)
        session.flush()
        return child.id


def _index_page(engine: Engine, child_id: int, document: Document, size_bytes: int) -> bool:
    """Index one page's document into its source: ready, or failed with the reason (False)."""
    try:
        pipeline.index_document(engine, child_id, document)
        with session_scope(engine) as session:
            child = session.get_one(Source, child_id)
            child.status, child.progress, child.error = SourceStatus.READY, 1.0, ""
            child.size_bytes = size_bytes
            child.trained_at = utcnow()
            session.add(child)
    except ValidationFailed as error:
        pipeline.mark_failed(engine, child_id, error)
        return False
    return True


def _finish(
    engine: Engine, source_id: int, gone: list[int], options: dict, counts: dict, title: str
) -> None:
    """Remove the pages the site no longer has, then total the site's figures, note the sync's
    counts in its meta and name the site after its start page's title (its address until a
    crawl reads one; a re-sync follows a changed title)."""
    with session_scope(engine) as session:
        for child_id in gone:
            child = session.get(Source, child_id)
            if child is not None:
                forget_source_data(session, child)
                session.delete(child)
                counts["removed"] += 1
        site = session.get_one(Source, source_id)
        kids = session.exec(select(Source).where(Source.parent_id == source_id)).all()
        site.chunk_count = sum(k.chunk_count for k in kids)
        site.char_count = sum(k.char_count for k in kids)
        site.size_bytes = sum(k.size_bytes for k in kids)
        site.meta = {**options, "last_sync": counts}
        if title:
            site.title = title
        session.add(site)
