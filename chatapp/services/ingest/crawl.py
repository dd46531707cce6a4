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

import fnmatch
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib import robotparser
from urllib.parse import quote, urljoin, urlsplit, urlunsplit
from xml.parsers import expat

import httpx
from bs4 import BeautifulSoup

from chatapp.services.config import get_settings
from chatapp.services.errors import ValidationFailed
from chatapp.services.ingest.fetch import (
    ROBOTS_USER_AGENT,
    FetchedPage,
    NotAWebPage,
    build_client,
    fetch,
)
from chatapp.services.ingest.urlguard import check_url, normalise_host

HTML_TYPES = ("text/html", "application/xhtml+xml")
ROBOTS_TYPES = ("text/plain", "text/html", "application/octet-stream", "")
SITEMAP_TYPES = (
    "application/xml",
    "text/xml",
    "application/gzip",
    "application/x-gzip",
    "application/octet-stream",
    "text/plain",
    "",
)
SITEMAP_MAX_BYTES = 50 * 1024 * 1024  # the sitemap protocol's limit, once unpacked
SITEMAP_MAX_FILES = 50  # sitemaps read per call (index + children)
SITEMAP_MAX_NESTING = 3
SITEMAP_MAX_LOCS = 50_000  # per sitemap file, as in the protocol

_FILE_EXTENSIONS = (
    ".png .jpg .jpeg .gif .webp .svg .ico .bmp .tif .tiff .avif .pdf .zip .gz .tgz .tar .rar "
    ".7z .mp3 .mp4 .m4a .wav .ogg .avi .mov .mkv .webm .css .js .mjs .json .woff .woff2 .ttf "
    ".otf .eot .exe .dmg .msi .apk .doc .docx .xls .xlsx .ppt .pptx .csv .rss .atom"
)
SKIPPED_EXTENSIONS = frozenset(_FILE_EXTENSIONS.split())
NO_HREF_SCHEMES = ("mailto:", "javascript:", "tel:", "data:", "ftp:", "file:", "sms:")

OnPage = Callable[["CrawledPage", int, int], object]


@dataclass
class CrawlOptions:
    max_pages: int
    max_depth: int
    include: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    respect_robots: bool = True


@dataclass
class CrawledPage:
    url: str  # canonical final address (after redirects)
    html: bytes
    content_type: str
    depth: int
    etag: str = ""
    last_modified: str = ""


@dataclass
class CrawlIssue:
    url: str
    message: str


# --- URLs -------------------------------------------------------------------------------------


def canonicalise(url: str) -> str | None:
    """The canonical form of an http(s) URL, or None if it is not one we would follow."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
        hostname = parts.hostname
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https") or not hostname:
            return None
        if parts.username is not None or parts.password is not None:
            return None
        host = normalise_host(hostname)
    except (ValueError, ValidationFailed):
        return None
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != {"http": 80, "https": 443}[scheme]:
        netloc = f"{netloc}:{port}"
    path = quote(parts.path or "/", safe="/%:@!$&'()*+,;=-._~")
    query = quote(parts.query, safe="/?%:@!$&'()*+,;=-._~")
    return urlunsplit((scheme, netloc, path, query, ""))


def page_key(canonical_url: str) -> str:
    """Identity of a page for de-duplication: a trailing slash makes no difference."""
    parts = urlsplit(canonical_url)
    path = parts.path.rstrip("/") or "/"
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def origin_of(canonical_url: str) -> str:
    parts = urlsplit(canonical_url)
    return f"{parts.scheme}://{parts.netloc}"


def _path_and_query(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def _matches(pattern: str, target: str) -> bool:
    pattern = pattern.strip()
    if not pattern:
        return False
    if any(char in pattern for char in "*?["):
        return fnmatch.fnmatchcase(target, pattern)
    return pattern in target


def passes_filters(url: str, options: CrawlOptions) -> bool:
    target = _path_and_query(url)
    if any(_matches(pattern, target) for pattern in options.exclude):
        return False
    includes = [pattern for pattern in options.include if pattern.strip()]
    return not includes or any(_matches(pattern, target) for pattern in includes)


def _looks_like_file(url: str) -> bool:
    path = urlsplit(url).path.lower()
    dot = path.rfind(".")
    return dot > path.rfind("/") and path[dot:] in SKIPPED_EXTENSIONS


# --- HTML ---------------------------------------------------------------------------------------


def extract_links(soup: BeautifulSoup, page_url: str) -> list[str]:
    """Absolute URLs of the page's <a>/<area> links, in document order (may hold duplicates)."""
    base = page_url
    base_tag = soup.find("base", href=True)
    if base_tag is not None:
        candidate = urljoin(page_url, str(base_tag["href"]).strip())
        if candidate.lower().startswith(("http://", "https://")):
            base = candidate
    links = []
    for tag in soup.find_all(["a", "area"], href=True):
        href = str(tag["href"]).strip()
        if not href or href.startswith("#") or href.lower().startswith(NO_HREF_SCHEMES):
            continue
        try:
            links.append(urljoin(base, href))
        except ValueError:
            continue
    return links


def _meta_robots(soup: BeautifulSoup) -> set[str]:
    directives: set[str] = set()
    for tag in soup.find_all("meta"):
        name = str(tag.get("name", "")).strip().lower()
        if name in ("robots", ROBOTS_USER_AGENT.lower()):
            content = str(tag.get("content", "")).lower()
            directives.update(part.strip() for part in content.split(","))
    if "none" in directives:
        directives.update({"noindex", "nofollow"})
    return directives


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
            directives = _meta_robots(soup) if options.respect_robots else set()
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
                if _looks_like_file(candidate) or not passes_filters(candidate, options):
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
        urls = _sitemap_urls(
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
            if options.respect_robots and "noindex" in _meta_robots(
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


# --- sitemaps ----------------------------------------------------------------------------------


def urls_from_sitemap(sitemap_url: str, *, max_urls: int) -> list[str]:
    """Page URLs listed by a sitemap, a gzipped sitemap or a sitemap index (children followed).

    Only URLs on the sitemap's own host are returned (canonicalised, without duplicates, in
    order, at most `max_urls`). Raises `ValidationFailed` if the sitemap itself can't be read;
    unreadable child sitemaps are skipped.
    """
    with build_client() as client:
        return _sitemap_urls(sitemap_url, max_urls=max_urls, issues=[], client=client)


def _sitemap_urls(
    sitemap_url: str, *, max_urls: int, issues: list[CrawlIssue], client: httpx.Client
) -> list[str]:
    root = canonicalise(check_url(sitemap_url))
    if root is None:  # pragma: no cover - check_url already refused such addresses
        raise ValidationFailed("Only http and https addresses can be added.")
    host = urlsplit(root).hostname
    queue: deque[tuple[str, int]] = deque([(root, 0)])
    seen_sitemaps = {root}
    urls: list[str] = []
    seen_pages: set[str] = set()
    read = 0
    while queue and len(urls) < max_urls and read < SITEMAP_MAX_FILES:
        url, level = queue.popleft()
        read += 1
        try:
            kind, locations = _read_sitemap(url, client)
        except ValidationFailed as exc:
            if url == root:
                raise
            issues.append(CrawlIssue(url, exc.message))
            continue
        if kind == "sitemapindex":
            if level >= SITEMAP_MAX_NESTING:
                issues.append(CrawlIssue(url, "Skipped: sitemaps are nested too deeply."))
                continue
            for location in locations:
                child = canonicalise(urljoin(url, location))
                if child and urlsplit(child).hostname == host and child not in seen_sitemaps:
                    seen_sitemaps.add(child)
                    queue.append((child, level + 1))
            continue
        for location in locations:
            page = canonicalise(urljoin(url, location))
            if page is None or urlsplit(page).hostname != host:
                continue
            key = page_key(page)
            if key in seen_pages:
                continue
            seen_pages.add(key)
            urls.append(page)
            if len(urls) >= max_urls:
                break
    return urls


def _read_sitemap(url: str, client: httpx.Client) -> tuple[str, list[str]]:
    """("urlset" | "sitemapindex", the <loc> values) of one sitemap file."""
    try:
        fetched = fetch(url, accept_types=SITEMAP_TYPES, client=client)
    except NotAWebPage as exc:
        raise ValidationFailed(f"This address is not a sitemap ({exc.content_type}).") from exc
    data = fetched.body
    if data[:2] == b"\x1f\x8b":
        data = _gunzip(data, SITEMAP_MAX_BYTES)
    text_start = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not text_start.startswith(b"<"):
        # A plain-text sitemap: one absolute URL per line.
        lines = text_start.decode("utf-8", errors="replace").splitlines()
        locations = [line.strip() for line in lines if line.strip().lower().startswith("http")]
        if not locations:
            raise ValidationFailed("This address is not a sitemap.")
        return "urlset", locations[:SITEMAP_MAX_LOCS]
    return parse_sitemap_xml(data)


def _gunzip(data: bytes, max_bytes: int) -> bytes:
    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = decompressor.decompress(data, max_bytes + 1)
    except zlib.error as exc:
        raise ValidationFailed("This sitemap is compressed but could not be unpacked.") from exc
    if len(out) > max_bytes or decompressor.unconsumed_tail:
        raise ValidationFailed(
            f"The sitemap is larger than {max_bytes // (1024 * 1024)} MB once unpacked."
        )
    return out


class _UnsafeXml(Exception):
    pass


def parse_sitemap_xml(data: bytes) -> tuple[str, list[str]]:
    """Parse sitemap XML with expat, refusing any DOCTYPE (so no entities, no billion laughs)."""
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def refuse(*_args):
        raise _UnsafeXml

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.UnparsedEntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse

    stack: list[str] = []
    root: list[str] = []
    locations: list[str] = []
    text: list[str] = []

    def start(name: str, _attrs) -> None:
        local = name.rsplit(" ", 1)[-1]
        if not root:
            root.append(local)
        stack.append(local)
        if local == "loc":
            text.clear()

    def end(name: str) -> None:
        local = name.rsplit(" ", 1)[-1]
        if (
            local == "loc"
            and len(stack) >= 2
            and stack[-2] in ("url", "sitemap")
            and len(locations) < SITEMAP_MAX_LOCS
        ):
            value = "".join(text).strip()
            if value:
                locations.append(value)
        stack.pop()

    def characters(data: str) -> None:
        if stack and stack[-1] == "loc":
            text.append(data)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = characters
    try:
        parser.Parse(data, True)
    except _UnsafeXml as exc:
        raise ValidationFailed(
            "This sitemap uses XML features we don't accept for safety reasons "
            "(a document type declaration)."
        ) from exc
    except expat.ExpatError as exc:
        raise ValidationFailed("This sitemap could not be read (it is not valid XML).") from exc
    if not root or root[0] not in ("urlset", "sitemapindex"):
        raise ValidationFailed("This address is not a sitemap.")
    return root[0], locations
