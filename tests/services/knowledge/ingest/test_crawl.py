"""Site crawls and sitemaps against a real HTTP server on loopback (see site_server.py)."""

from __future__ import annotations

import pytest

from chatapp.core.config import reset_settings
from chatapp.core.errors import ValidationFailed
from chatapp.services.knowledge.ingest import sitemap as sitemap_module
from chatapp.services.knowledge.ingest import urlguard
from chatapp.services.knowledge.ingest.crawl import ROBOTS_REFUSED, crawl_site, crawl_sitemap
from chatapp.services.knowledge.ingest.links import (
    CrawlOptions,
    canonicalise,
    page_key,
    passes_filters,
)
from chatapp.services.knowledge.ingest.sitemap import parse_sitemap_xml, urls_from_sitemap
from chatapp.services.knowledge.ingest.urlguard import PRIVATE_NETWORK
from tests.services.knowledge.ingest.site_server import BILLION_LAUGHS, running_site


@pytest.fixture
def site(monkeypatch):
    monkeypatch.setenv("ALLOW_PRIVATE_URLS", "true")
    reset_settings()
    with running_site() as running:
        yield running


@pytest.fixture
def lookups(monkeypatch):
    """Every host name the guard resolves (to prove other hosts are never contacted)."""
    seen: list[str] = []
    real = urlguard.resolve

    def resolve(host, port):
        seen.append(host)
        return real(host, port)

    monkeypatch.setattr(urlguard, "resolve", resolve)
    return seen


def options(**overrides) -> CrawlOptions:
    values = {"max_pages": 50, "max_depth": 2, "include": [], "exclude": []}
    values.update(overrides)
    return CrawlOptions(**values)


def paths(site, pages) -> list[str]:
    return [page.url.removeprefix(site.base_url) for page in pages]


def issue_map(site, issues) -> dict[str, str]:
    return {issue.url.removeprefix(site.base_url): issue.message for issue in issues}


# --- crawl_site --------------------------------------------------------------------------------


def test_depth_zero_is_the_start_page_only(site):
    pages, issues = crawl_site(site.url("/"), options(max_depth=0))
    assert paths(site, pages) == ["/"]
    assert pages[0].depth == 0 and b"Home" in pages[0].html
    assert pages[0].content_type == "text/html; charset=utf-8"
    assert issues == []
    assert site.paths == ["/robots.txt", "/"]


def test_depth_one_follows_links_once(site, lookups):
    pages, issues = crawl_site(site.url("/"), options(max_depth=1))
    # Relative, absolute and fragment links collapse to one page each, in BFS order.
    assert paths(site, pages) == ["/", "/about", "/docs/", "/contact"]
    assert [page.depth for page in pages] == [0, 1, 1, 1]
    assert issue_map(site, issues) == {
        "/private/secret": ROBOTS_REFUSED,
        "/missing": "The page answered with an error (HTTP 404).",
        "/broken": "The page answered with an error (HTTP 500).",
    }
    requested = site.paths
    assert "/private/secret" not in requested  # robots.txt honoured: never fetched
    assert "/logo" in requested  # fetched, found to be an image, skipped quietly
    assert "/image.png" not in requested  # obviously a file: not even fetched
    assert "/deep/1" not in requested  # depth 2
    assert requested.count("/about") == 1
    assert "other.example" not in lookups  # other host never contacted
    assert all(not p.startswith(("mailto", "javascript", "tel")) for p in requested)


def test_depth_two(site):
    pages, _issues = crawl_site(site.url("/"), options(max_depth=2))
    assert paths(site, pages) == ["/", "/about", "/docs/", "/contact", "/deep/1", "/docs/page-a"]
    assert [page.depth for page in pages] == [0, 1, 1, 1, 2, 2]
    assert "/deep/2" not in site.paths and "/docs/page-b" not in site.paths
    assert "/docs" not in site.paths  # "/docs" is the same page as "/docs/"


def test_depth_capped_by_settings(site, monkeypatch):
    pages, _ = crawl_site(site.url("/"), options(max_depth=9))
    assert max(page.depth for page in pages) == 2  # CRAWL_MAX_DEPTH defaults to 2
    monkeypatch.setenv("CRAWL_MAX_DEPTH", "4")
    reset_settings()
    pages, _ = crawl_site(site.url("/"), options(max_depth=9))
    assert "/deep/3" in paths(site, pages)


def test_page_limit_is_exact(site):
    pages, _issues = crawl_site(site.url("/"), options(max_pages=2))
    assert paths(site, pages) == ["/", "/about"]
    assert "/contact" not in site.paths and "/docs/" not in site.paths


def test_page_limit_capped_by_settings(site, monkeypatch):
    monkeypatch.setenv("CRAWL_MAX_PAGES", "3")
    reset_settings()
    pages, _issues = crawl_site(site.url("/"), options(max_pages=50))
    assert len(pages) == 3


def test_progress_callback(site):
    calls = []
    pages, _ = crawl_site(
        site.url("/"),
        options(max_depth=1),
        on_page=lambda page, done, total: calls.append((page.url, done, total)),
    )
    assert [url for url, _, _ in calls] == [page.url for page in pages]
    assert [done for _, done, _ in calls] == [1, 2, 3, 4]
    assert all(done <= total <= 50 for _, done, total in calls)


def test_include_patterns(site):
    pages, _ = crawl_site(site.url("/"), options(include=["/docs*"]))
    # The start page is read for its links but not kept; only /docs pages are fetched.
    assert paths(site, pages) == ["/docs/", "/docs/page-a"]
    assert "/about" not in site.paths and "/contact" not in site.paths


def test_exclude_patterns(site):
    pages, _ = crawl_site(site.url("/"), options(exclude=["page-a", "/deep/*"]))
    assert paths(site, pages) == ["/", "/about", "/docs/", "/contact"]
    assert "/docs/page-a" not in site.paths and "/deep/1" not in site.paths


def test_robots_can_be_ignored(site):
    pages, issues = crawl_site(site.url("/"), options(max_depth=1, respect_robots=False))
    assert "/private/secret" in paths(site, pages)
    assert "/robots.txt" not in site.paths
    assert ROBOTS_REFUSED not in [issue.message for issue in issues]


def test_disallowed_start_page(site):
    pages, issues = crawl_site(site.url("/private/secret"), options())
    assert pages == []
    assert issue_map(site, issues) == {"/private/secret": ROBOTS_REFUSED}
    assert site.paths == ["/robots.txt"]


def test_meta_robots_noindex_nofollow(site):
    pages, _ = crawl_site(site.url("/noindex"), options())
    assert pages == []
    assert "/hidden" not in site.paths


def test_failing_start_page_is_an_issue(site):
    pages, issues = crawl_site(site.url("/missing"), options())
    assert pages == []
    assert issue_map(site, issues) == {"/missing": "The page answered with an error (HTTP 404)."}


def test_redirect_to_private_address_is_an_issue(site, monkeypatch):
    pages, issues = crawl_site(site.url("/redirect/metadata"), options())
    assert pages == []
    assert issue_map(site, issues) == {"/redirect/metadata": PRIVATE_NETWORK}


def test_start_url_is_checked(site, monkeypatch):
    with pytest.raises(ValidationFailed) as info:
        crawl_site("ftp://127.0.0.1/", options())
    assert info.value.message == "Only http and https addresses can be added."
    monkeypatch.setenv("ALLOW_PRIVATE_URLS", "false")
    reset_settings()
    with pytest.raises(ValidationFailed) as info:
        crawl_site(site.url("/"), options())
    assert info.value.message == PRIVATE_NETWORK
    assert site.paths == []


# --- URLs and filters ---------------------------------------------------------------------------


def test_canonicalise():
    assert canonicalise("HTTP://Example.COM:80/a#frag") == "http://example.com/a"
    assert canonicalise("https://example.com") == "https://example.com/"
    assert canonicalise("https://example.com:443/x?b=2&a=1") == "https://example.com/x?b=2&a=1"
    assert canonicalise("http://example.com:8080/docs/") == "http://example.com:8080/docs/"
    assert canonicalise("mailto:someone@example.com") is None
    assert canonicalise("javascript:alert(1)") is None
    assert canonicalise("http://user:pw@example.com/") is None
    assert page_key("http://example.com/docs/") == page_key("http://example.com/docs")
    assert page_key("http://example.com/") == "http://example.com/"


def test_filters():
    assert passes_filters("http://x.com/blog/post", options(include=["/blog"]))
    assert not passes_filters("http://x.com/shop", options(include=["/blog"]))
    assert passes_filters("http://x.com/blog/a/b", options(include=["/blog/*"]))
    assert not passes_filters("http://x.com/blog/a", options(include=["/blog/*"], exclude=["a"]))
    assert passes_filters("http://x.com/anything", options())


# --- sitemaps -----------------------------------------------------------------------------------


def test_urls_from_sitemap(site, lookups):
    urls = urls_from_sitemap(site.url("/sitemap.xml"), max_urls=100)
    assert [url.removeprefix(site.base_url) for url in urls] == [
        "/about",
        "/contact",
        "/docs/",
        "/private/secret",
        "/missing",
    ]  # duplicates and the other host dropped
    assert "other.example" not in lookups


def test_urls_from_sitemap_max_urls(site):
    urls = urls_from_sitemap(site.url("/sitemap.xml"), max_urls=2)
    assert urls == [site.url("/about"), site.url("/contact")]


def test_sitemap_index_followed_including_gzip(site, lookups):
    urls = urls_from_sitemap(site.url("/sitemap_index.xml"), max_urls=100)
    assert [url.removeprefix(site.base_url) for url in urls] == [
        "/deep/1",
        "/deep/2",
        "/docs/page-a",
    ]
    assert "/sitemap-child.xml" in site.paths and "/sitemap-child.xml.gz" in site.paths
    assert "other.example" not in lookups  # child sitemaps on other hosts are not followed


def test_billion_laughs_refused(site):
    with pytest.raises(ValidationFailed) as info:
        urls_from_sitemap(site.url("/bomb.xml"), max_urls=10)
    assert "safety" in info.value.message
    with pytest.raises(ValidationFailed):
        parse_sitemap_xml(BILLION_LAUGHS)


def test_external_entity_refused():
    xxe = (
        b'<?xml version="1.0"?><!DOCTYPE u [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<url><loc>&x;</loc></url></urlset>"
    )
    with pytest.raises(ValidationFailed) as info:
        parse_sitemap_xml(xxe)
    assert "safety" in info.value.message


def test_gzip_bomb_sitemap_refused(site, monkeypatch):
    monkeypatch.setattr(sitemap_module, "SITEMAP_MAX_BYTES", 1024 * 1024)
    with pytest.raises(ValidationFailed) as info:
        urls_from_sitemap(site.url("/gzbomb.xml.gz"), max_urls=10)
    assert info.value.message == "The sitemap is larger than 1 MB once unpacked."


def test_not_a_sitemap(site):
    with pytest.raises(ValidationFailed) as info:
        urls_from_sitemap(site.url("/"), max_urls=10)
    assert info.value.message == "This address is not a sitemap (text/html)."
    with pytest.raises(ValidationFailed) as info:
        parse_sitemap_xml(b"<rss><channel/></rss>")
    assert info.value.message == "This address is not a sitemap."
    with pytest.raises(ValidationFailed) as info:
        parse_sitemap_xml(b"<urlset><url>")
    assert info.value.message == "This sitemap could not be read (it is not valid XML)."


def test_missing_sitemap(site):
    with pytest.raises(ValidationFailed) as info:
        urls_from_sitemap(site.url("/nothing.xml"), max_urls=10)
    assert info.value.message == "The page answered with an error (HTTP 404)."


def test_crawl_sitemap(site):
    calls = []
    pages, issues = crawl_sitemap(
        site.url("/sitemap.xml"),
        options(),
        on_page=lambda page, done, total: calls.append((done, total)),
    )
    assert paths(site, pages) == ["/about", "/contact", "/docs/"]
    assert all(page.depth == 0 for page in pages)
    assert issue_map(site, issues) == {
        "/private/secret": ROBOTS_REFUSED,
        "/missing": "The page answered with an error (HTTP 404).",
    }
    assert "/private/secret" not in site.paths
    assert "/deep/1" not in site.paths  # no link following
    assert [done for done, _ in calls] == [1, 2, 3]


def test_crawl_sitemap_limits_and_filters(site):
    pages, _ = crawl_sitemap(site.url("/sitemap.xml"), options(max_pages=2))
    assert paths(site, pages) == ["/about", "/contact"]
    pages, _ = crawl_sitemap(site.url("/sitemap_index.xml"), options(exclude=["/deep/2"]))
    assert paths(site, pages) == ["/deep/1", "/docs/page-a"]
    assert "/deep/2" not in site.paths
