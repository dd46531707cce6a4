"""A small real website on loopback for the fetch and crawl tests.

`running_site()` starts a `ThreadingHTTPServer` on 127.0.0.1, port 0, in a thread and yields a
`Site` whose `log` records every request (path, Host and User-Agent headers). Pages:

    /                 links: relative, absolute, fragments, other host, mailto:, javascript:,
                      tel:, a robots-disallowed path, an image, a 404, a 500
    /about            -> /deep/1, /
    /docs/            -> page-a (relative), /docs (slash variant), ../about
    /docs             301 -> /docs/
    /docs/page-a      -> /docs/page-b
    /deep/1 -> /deep/2 -> /deep/3
    /contact, /private/secret, /docs/page-b, /deep/3      leaves
    /noindex          <meta name="robots" content="noindex, nofollow">, links to /hidden
    /logo             image/png without an extension;  /image.png  image/png
    /text             text/plain
    /missing 404, /broken 500
    /robots.txt       Disallow: /private/
    /sitemap.xml, /sitemap_index.xml (-> /sitemap-child.xml, /sitemap-child.xml.gz, other host),
    /sitemap-child.xml, /sitemap-child.xml.gz, /bomb.xml (billion laughs),
    /gzbomb.xml.gz (5 MB of zeros, gzipped)
    /redirect/private -> http://10.0.0.1/ ; /redirect/metadata -> 169.254.169.254
    /redirect/chain/N -> /redirect/chain/N-1 ... /redirect/chain/0 (a page)
    /redirect/away    -> http://other.example/
    /slow             blocks until `site.release` is set (never answers within a test timeout)
    /trickle          sends a byte at a time, pausing on `site.release.wait(0.2)` between bytes
    /huge             3 MB, streamed without Content-Length; /huge-declared claims 1 GB
    /gzip-page        a small page with Content-Encoding: gzip
    /gzip-bomb        Content-Encoding: gzip, 20 MB of zeros once unpacked
"""

from __future__ import annotations

import contextlib
import gzip
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc>http://127.0.0.1/&lol9;</loc></url>
</urlset>
"""


def html_page(title: str, *links: str, head: str = "") -> bytes:
    anchors = "\n".join(f'<p><a href="{href}">link</a></p>' for href in links)
    return (
        f"<!DOCTYPE html><html><head><title>{title}</title>{head}</head>"
        f"<body><h1>{title}</h1>{anchors}</body></html>"
    ).encode()


def urlset(*locations: str) -> bytes:
    entries = "".join(f"<url><loc>{loc}</loc></url>" for loc in locations)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>'
    ).encode()


def sitemap_index(*locations: str) -> bytes:
    entries = "".join(f"<sitemap><loc>{loc}</loc></sitemap>" for loc in locations)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}'
        "</sitemapindex>"
    ).encode()


@dataclass
class Request:
    path: str
    host: str
    user_agent: str


@dataclass
class Site:
    base_url: str
    port: int
    release: threading.Event = field(default_factory=threading.Event)
    log: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    @property
    def paths(self) -> list[str]:
        with self.lock:
            return [request.path for request in self.log]

    def record(self, request: Request) -> None:
        with self.lock:
            self.log.append(request)


def _routes(site: Site) -> dict[str, tuple[int, str, bytes, dict[str, str]]]:
    base = site.base_url
    html = "text/html; charset=utf-8"
    xml = "application/xml"
    child = urlset(f"{base}/deep/1", f"{base}/deep/2")
    routes = {
        "/": html_page(
            "Home",
            "/about",
            "docs/",
            f"{base}/contact",
            "#top",
            "/about#team",
            "http://other.example/page",
            "mailto:hello@example.com",
            "javascript:alert(1)",
            "tel:+15550100",
            "/private/secret",
            "/logo",
            "/image.png",
            "/missing",
            "/broken",
        ),
        "/about": html_page("About", "/deep/1", "/"),
        "/docs/": html_page("Docs", "page-a", "/docs", "../about"),
        "/docs/page-a": html_page("Page A", "/docs/page-b"),
        "/docs/page-b": html_page("Page B"),
        "/deep/1": html_page("Deep 1", "/deep/2"),
        "/deep/2": html_page("Deep 2", "/deep/3"),
        "/deep/3": html_page("Deep 3"),
        "/contact": html_page("Contact"),
        "/private/secret": html_page("Secret"),
        "/hidden": html_page("Hidden"),
        "/noindex": html_page(
            "No index", "/hidden", head='<meta name="robots" content="noindex, nofollow">'
        ),
        "/redirect/chain/0": html_page("End of chain"),
    }
    table = {path: (200, html, body, {}) for path, body in routes.items()}
    table.update(
        {
            "/docs": (301, html, b"", {"Location": "/docs/"}),
            "/logo": (200, "image/png", PNG, {}),
            "/image.png": (200, "image/png", PNG, {}),
            "/text": (200, "text/plain; charset=utf-8", b"plain text", {"ETag": '"t1"'}),
            "/missing": (404, html, html_page("Not found"), {}),
            "/broken": (500, html, html_page("Server error"), {}),
            "/robots.txt": (200, "text/plain", b"User-agent: *\nDisallow: /private/\n", {}),
            "/sitemap.xml": (
                200,
                xml,
                urlset(
                    f"{base}/about",
                    f"{base}/contact",
                    f"{base}/docs/",
                    f"{base}/about",
                    "http://other.example/elsewhere",
                    f"{base}/private/secret",
                    f"{base}/missing",
                ),
                {},
            ),
            "/sitemap_index.xml": (
                200,
                "text/xml",
                sitemap_index(
                    f"{base}/sitemap-child.xml",
                    f"{base}/sitemap-child.xml.gz",
                    "http://other.example/sitemap.xml",
                ),
                {},
            ),
            "/sitemap-child.xml": (200, xml, child, {}),
            "/sitemap-child.xml.gz": (
                200,
                "application/gzip",
                gzip.compress(urlset(f"{base}/docs/page-a", f"{base}/deep/1")),
                {},
            ),
            "/bomb.xml": (200, xml, BILLION_LAUGHS, {}),
            "/gzbomb.xml.gz": (200, "application/gzip", gzip.compress(b"\0" * 5_000_000), {}),
            "/redirect/private": (302, html, b"", {"Location": "http://10.0.0.1/"}),
            "/redirect/metadata": (
                302,
                html,
                b"",
                {"Location": "http://169.254.169.254/latest/meta-data/"},
            ),
            "/redirect/away": (302, html, b"", {"Location": "http://other.example/"}),
            "/gzip-page": (
                200,
                html,
                gzip.compress(html_page("Compressed")),
                {"Content-Encoding": "gzip"},
            ),
            "/gzip-bomb": (
                200,
                html,
                gzip.compress(b" " * 20_000_000),
                {"Content-Encoding": "gzip"},
            ),
        }
    )
    return table


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # keep pytest output clean
        pass

    def do_GET(self) -> None:
        site = self.server.site
        site.record(
            Request(self.path, self.headers.get("Host", ""), self.headers.get("User-Agent", ""))
        )
        path = self.path.split("?", 1)[0]
        try:
            if path.startswith("/redirect/chain/"):
                self._chain(int(path.rsplit("/", 1)[1]))
            elif path == "/slow":
                site.release.wait(30)
                self._send(200, "text/html", html_page("Slow"))
            elif path == "/trickle":
                self._trickle()
            elif path == "/huge":
                self._huge()
            elif path == "/huge-declared":
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(1024**3))
                self.end_headers()
                self.wfile.write(b"<html>")
                self.close_connection = True
            elif path in self.server.routes:
                status, content_type, body, headers = self.server.routes[path]
                self._send(status, content_type, body, headers)
            else:
                self._send(404, "text/html", html_page("Not found"))
        except (BrokenPipeError, ConnectionResetError):  # the client gave up: expected
            self.close_connection = True

    def _send(self, status, content_type, body, headers=None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _chain(self, remaining: int) -> None:
        if remaining == 0:
            self._send(200, "text/html", html_page("End of chain"))
            return
        target = f"/redirect/chain/{remaining - 1}"
        if remaining % 2:  # alternate absolute and relative Location headers
            target = self.server.site.url(target)
        self._send(302, "text/html", b"", {"Location": target})

    def _huge(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        chunk = b"x" * 65536
        for _ in range(48):  # 3 MB, no Content-Length: the client must count
            self.wfile.write(chunk)

    def _trickle(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        for _ in range(200):  # 0.2 s per byte: each read is quick, the whole page is not
            self.wfile.write(b"x")
            self.wfile.flush()
            if self.server.site.release.wait(0.2):
                return


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    site: Site
    routes: dict


@contextlib.contextmanager
def running_site() -> Iterator[Site]:
    server = _Server(("127.0.0.1", 0), _Handler)
    port = server.server_address[1]
    site = Site(base_url=f"http://127.0.0.1:{port}", port=port)
    server.site = site
    server.routes = _routes(site)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield site
    finally:
        site.release.set()  # let /slow and /trickle finish
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
