"""Sitemaps: the page URLs of a sitemap, a gzipped sitemap or a sitemap index.

XML is parsed with expat and any DOCTYPE is refused (no entities, no billion laughs); gzip is
unpacked under a size cap; child sitemaps must be on the same host.
"""

from __future__ import annotations

import zlib
from collections import deque
from urllib.parse import urljoin, urlsplit
from xml.parsers import expat

import httpx

from chatapp.core.errors import ValidationFailed
from chatapp.services.knowledge.ingest.fetch import NotAWebPage, build_client, fetch
from chatapp.services.knowledge.ingest.links import CrawlIssue, canonicalise, page_key
from chatapp.services.knowledge.ingest.urlguard import check_url

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


# --- sitemaps ----------------------------------------------------------------------------------


def urls_from_sitemap(sitemap_url: str, *, max_urls: int) -> list[str]:
    """Page URLs listed by a sitemap, a gzipped sitemap or a sitemap index (children followed).

    Only URLs on the sitemap's own host are returned (canonicalised, without duplicates, in
    order, at most `max_urls`). Raises `ValidationFailed` if the sitemap itself can't be read;
    unreadable child sitemaps are skipped.
    """
    with build_client() as client:
        return sitemap_urls(sitemap_url, max_urls=max_urls, issues=[], client=client)


def sitemap_urls(
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
