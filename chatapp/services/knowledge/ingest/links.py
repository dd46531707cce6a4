"""Crawl URLs: canonical forms, same-site checks, include/exclude filters, links of a page.

Rules are described in crawl.py's docstring; this module holds the pure URL logic both crawl
modes and the sitemap reader share.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

from bs4 import BeautifulSoup

from chatapp.core.errors import ValidationFailed
from chatapp.services.knowledge.ingest.fetch import ROBOTS_USER_AGENT
from chatapp.services.knowledge.ingest.urlguard import normalise_host

_FILE_EXTENSIONS = (
    ".png .jpg .jpeg .gif .webp .svg .ico .bmp .tif .tiff .avif .pdf .zip .gz .tgz .tar .rar "
    ".7z .mp3 .mp4 .m4a .wav .ogg .avi .mov .mkv .webm .css .js .mjs .json .woff .woff2 .ttf "
    ".otf .eot .exe .dmg .msi .apk .doc .docx .xls .xlsx .ppt .pptx .csv .rss .atom"
)
SKIPPED_EXTENSIONS = frozenset(_FILE_EXTENSIONS.split())
NO_HREF_SCHEMES = ("mailto:", "javascript:", "tel:", "data:", "ftp:", "file:", "sms:")


@dataclass
class CrawlOptions:
    max_pages: int
    max_depth: int
    include: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    respect_robots: bool = True


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


def looks_like_file(url: str) -> bool:
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


def meta_robots(soup: BeautifulSoup) -> set[str]:
    directives: set[str] = set()
    for tag in soup.find_all("meta"):
        name = str(tag.get("name", "")).strip().lower()
        if name in ("robots", ROBOTS_USER_AGENT.lower()):
            content = str(tag.get("content", "")).lower()
            directives.update(part.strip() for part in content.split(","))
    if "none" in directives:
        directives.update({"noindex", "nofollow"})
    return directives
