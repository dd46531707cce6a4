"""Crawl a website (breadth-first from a start page) or the pages its sitemap lists.

Every request goes through `fetch()`, so the SSRF guard, time and size limits apply to each page,
to robots.txt and to every sitemap. Rules:

* same site only: scheme + host + port of the start page (after its redirects);
* depth: the start page is depth 0; links found on a depth-d page are depth d + 1;
* limits: `min(options, settings)` for pages and depth; `max_pages` counts kept pages; fetch
  attempts stop at `2 * max_pages + 10` so a site full of broken links ends quickly;
* URLs are canonicalised: lower-case scheme and host, default port dropped, fragment dropped,
  empty path -> "/"; "/docs" and "/docs/" count as the same page (the form first seen is fetched);
  the query is kept as is (nothing sorted);
* include/exclude patterns match the URL path (with its query): a pattern with * ? or [ is a glob
  (fnmatch), any other pattern a substring. Exclude wins. The start page is always fetched to find
  links, and kept only if it passes the filters. Filtered-out links are not fetched;
* robots.txt (per origin, fetched through `fetch()`; missing or unreadable = everything allowed)
  and `<meta name="robots" content="noindex|nofollow">` are honoured when `respect_robots`;
* non-HTML answers are skipped quietly (links to obvious files are not even fetched); every other
  per-page failure becomes a `CrawlIssue` and the crawl goes on.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from urllib import robotparser

import httpx
from bs4 import BeautifulSoup

from chatapp.core.config import get_settings
from chatapp.core.errors import ValidationFailed
from chatapp.services.knowledge.ingest.fetch import (
    ROBOTS_USER_AGENT,
    FetchedPage,
    NotAWebPage,
    build_client,
    fetch,
)
from chatapp.services.knowledge.ingest.links import (
    CrawlIssue,
    CrawlOptions,
    canonicalise,
    extract_links,
    looks_like_file,
    meta_robots,
    origin_of,
    page_key,
    passes_filters,
)
from chatapp.services.knowledge.ingest.sitemap import sitemap_urls
from chatapp.services.knowledge.ingest.urlguard import check_url

HTML_TYPES = ("text/html", "application/xhtml+xml")
ROBOTS_TYPES = ("text/plain", "text/html", "application/octet-stream", "")


@dataclass
class CrawledPage:
    url: str  # canonical final address (after redirects)
    html: bytes
    content_type: str
    depth: int
    etag: str = ""
    last_modified: str = ""


OnPage = Callable[["CrawledPage", int, int], object]


# --- robots.txt ----------------------------------------------------------------------------------


class _Robots:
    """robots.txt rules per origin, fetched once each; unreadable means everything is allowed."""

    def __init__(self, client: httpx.Client, enabled: bool):
        self._client = client
        self._enabled = enabled
        self._parsers: dict[str, robotparser.RobotFileParser | None] = {}

    def allowed(self, url: str) -> bool:
        if not self._enabled:
            return True
        origin = origin_of(url)
        if origin not in self._parsers:
            self._parsers[origin] = self._load(origin)
        parser = self._parsers[origin]
        return parser is None or parser.can_fetch(ROBOTS_USER_AGENT, url)

    def _load(self, origin: str) -> robotparser.RobotFileParser | None:
        try:
            page = fetch(f"{origin}/robots.txt", accept_types=ROBOTS_TYPES, client=self._client)
        except ValidationFailed:
            return None
        parser = robotparser.RobotFileParser(f"{origin}/robots.txt")
        parser.parse(page.body.decode("utf-8", errors="replace").splitlines())
        return parser


ROBOTS_REFUSED = "Skipped: the website's robots.txt asks crawlers not to visit this page."


# --- crawling ----------------------------------------------------------------------------------


def _limits(options: CrawlOptions) -> tuple[int, int]:
    settings = get_settings()
    max_pages = max(0, min(options.max_pages, settings.crawl_max_pages))
    max_depth = max(0, min(options.max_depth, settings.crawl_max_depth))
    return max_pages, max_depth


def _fetch_page(url: str, client: httpx.Client, issues: list[CrawlIssue]) -> FetchedPage | None:
    """Fetch one HTML page; a failure becomes an issue, a non-HTML answer is skipped quietly."""
    try:
        return fetch(url, accept_types=HTML_TYPES, client=client)
    except NotAWebPage:
        return None
    except ValidationFailed as exc:
        issues.append(CrawlIssue(url, exc.message))
        return None


def crawl_site(
    start_url: str, options: CrawlOptions, *, on_page: OnPage | None = None
) -> tuple[list[CrawledPage], list[CrawlIssue]]:
    """Breadth-first crawl of one site from `start_url`; see the module docstring for the rules.

    Raises `ValidationFailed` only if `start_url` itself is not acceptable; a start page that
    fails to load is reported as an issue. `on_page(page, done, total_estimate)` is called after
    each kept page; an exception it raises stops the crawl and propagates (use it to cancel).
    """
    start = canonicalise(check_url(start_url))
    if start is None:  # pragma: no cover - check_url already refused such addresses
        raise ValidationFailed("Only http and https addresses can be added.")
    max_pages, max_depth = _limits(options)
    max_attempts = 2 * max_pages + 10
    pages: list[CrawledPage] = []
    issues: list[CrawlIssue] = []
    queue: deque[tuple[str, int]] = deque([(start, 0)])
    seen = {page_key(start)}  # queued or fetched
    done: set[str] = set()  # fetched, by final address
    origin = origin_of(start)
    attempts = 0

    with build_client() as client:
        robots = _Robots(client, options.respect_robots)
        while queue and len(pages) < max_pages and attempts < max_attempts:
            url, depth = queue.popleft()
            if not robots.allowed(url):
                issues.append(CrawlIssue(url, ROBOTS_REFUSED))
                continue
            attempts += 1
            fetched = _fetch_page(url, client, issues)
            if fetched is None:
                continue
            final = canonicalise(fetched.final_url) or url
            if origin_of(final) != origin:
                if depth == 0:
                    origin = origin_of(final)  # e.g. http -> https or example.com -> www.
                else:
                    issues.append(CrawlIssue(url, "Skipped: this page moved to another website."))
                    continue
            final_key = page_key(final)
            if final_key in done:
                continue  # a redirect to a page we already have
            done.add(final_key)
            seen.add(final_key)

            soup = BeautifulSoup(fetched.body, "html.parser")
            directives = meta_robots(soup) if options.respect_robots else set()
            keep = passes_filters(final, options) or (depth > 0 and passes_filters(url, options))
            if keep and "noindex" not in directives:
                page = CrawledPage(
                    url=final,
                    html=fetched.body,
                    content_type=fetched.content_type,
                    depth=depth,
                    etag=fetched.etag,
                    last_modified=fetched.last_modified,
                )
                pages.append(page)
                if on_page is not None:
                    on_page(page, len(pages), min(max_pages, len(pages) + len(queue)))

            if depth >= max_depth or "nofollow" in directives:
                continue
            for link in extract_links(soup, fetched.final_url):
                candidate = canonicalise(link)
                if candidate is None or origin_of(candidate) != origin:
                    continue
                key = page_key(candidate)
                if key in seen:
                    continue
                seen.add(key)
                if looks_like_file(candidate) or not passes_filters(candidate, options):
                    continue
                queue.append((candidate, depth + 1))
    return pages, issues


def crawl_sitemap(
    sitemap_url: str, options: CrawlOptions, *, on_page: OnPage | None = None
) -> tuple[list[CrawledPage], list[CrawlIssue]]:
    """Fetch the pages a sitemap (or sitemap index) lists, at depth 0, following no links.

    Raises `ValidationFailed` if the sitemap itself can't be read; failures of child sitemaps and
    of pages become issues.
    """
    max_pages, _max_depth = _limits(options)
    pages: list[CrawledPage] = []
    issues: list[CrawlIssue] = []
    with build_client() as client:
        urls = sitemap_urls(
            sitemap_url,
            max_urls=min(10_000, max(100, 10 * max_pages)),
            issues=issues,
            client=client,
        )
        candidates = [url for url in urls if passes_filters(url, options)]
        robots = _Robots(client, options.respect_robots)
        done: set[str] = set()
        attempts = 0
        for index, url in enumerate(candidates):
            if len(pages) >= max_pages or attempts >= 2 * max_pages + 10:
                break
            if not robots.allowed(url):
                issues.append(CrawlIssue(url, ROBOTS_REFUSED))
                continue
            attempts += 1
            fetched = _fetch_page(url, client, issues)
            if fetched is None:
                continue
            final = canonicalise(fetched.final_url) or url
            if page_key(final) in done:
                continue
            done.add(page_key(final))
            if options.respect_robots and "noindex" in meta_robots(
                BeautifulSoup(fetched.body, "html.parser")
            ):
                continue
            page = CrawledPage(
                url=final,
                html=fetched.body,
                content_type=fetched.content_type,
                depth=0,
                etag=fetched.etag,
                last_modified=fetched.last_modified,
            )
            pages.append(page)
            if on_page is not None:
                remaining = len(candidates) - index - 1
                on_page(page, len(pages), min(max_pages, len(pages) + remaining))
    return pages, issues
