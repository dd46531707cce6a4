"""Fetch one web page safely: SSRF-guarded, time- and size-limited, bytes out.

* Every redirect hop goes through `check_url` (we follow redirects ourselves, at most 5).
* The connection itself is guarded too: `GuardedBackend` resolves the host at connect time,
  checks every address with the same rules and connects to the checked IP, so a DNS answer that
  changes between `check_url` and the connection (DNS rebinding) can't reach a private address.
  TLS still verifies the certificate against the host name.
* Timeouts: `FETCH_TIMEOUT_SECONDS` for connect and each read, and an overall deadline of the same
  length for the whole fetch (redirects and body included), checked between reads.
* The body is streamed and refused (not truncated) once it passes `FETCH_MAX_MB`; gzip/deflate
  content encodings are unpacked here with the same limit, so a compression bomb is refused too.
* Only 2xx answers and the accepted content types are returned; nothing is decoded to text.

Every failure is a `ValidationFailed` whose message a non-technical person understands.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import urljoin

import httpcore
import httpx

from chatapp.core.config import get_settings
from chatapp.core.errors import ValidationFailed
from chatapp.services.knowledge.ingest.urlguard import check_host, check_url, normalise_host

USER_AGENT = "ChatappBot/0.1 (+https://github.com/chatapp)"
ROBOTS_USER_AGENT = "ChatappBot"  # the token robots.txt rules are matched against
MAX_REDIRECTS = 5
MAX_ADDRESSES_TRIED = 3
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
DEFAULT_ACCEPT_TYPES = (
    "text/html",
    "application/xhtml+xml",
    "text/plain",
    "text/markdown",
    "application/xml",
    "text/xml",
)

GENERIC_FAILURE = "We couldn't download this page."


class NotAWebPage(ValidationFailed):
    """The answer's content type is not one the caller accepts (the crawler skips these)."""

    def __init__(self, message: str, content_type: str):
        super().__init__(message)
        self.content_type = content_type


@dataclass
class FetchedPage:
    url: str  # the requested address, normalised by check_url
    final_url: str  # after redirects
    status: int
    content_type: str  # the Content-Type header as sent (may carry "; charset=...")
    body: bytes
    etag: str = ""
    last_modified: str = ""


class GuardedBackend(httpcore.SyncBackend):
    """Resolve and check the host at connect time, then connect to a checked address."""

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = check_host(normalise_host(host), port)  # raises ValidationFailed
        last_error: Exception | None = None
        for address in addresses[:MAX_ADDRESSES_TRIED]:
            try:
                return super().connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except httpcore.ConnectError as exc:  # try the next address; timeouts are final
                last_error = exc
        assert last_error is not None
        raise last_error


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport with our network backend and no proxies."""

    def __init__(self, network_backend: httpcore.NetworkBackend | None = None):
        super().__init__(trust_env=False)
        self._pool.close()
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=10,
            max_keepalive_connections=5,
            keepalive_expiry=5.0,
            http1=True,
            http2=False,
            network_backend=network_backend or GuardedBackend(),
        )


def build_client(*, network_backend: httpcore.NetworkBackend | None = None) -> httpx.Client:
    """A client for `fetch`: guarded connections, no redirects, no proxies, our User-Agent.

    `network_backend` replaces the guarded backend (tests use it to fake DNS); `check_url`
    still runs on every hop.
    """
    return httpx.Client(
        transport=GuardedTransport(network_backend),
        follow_redirects=False,
        trust_env=False,
        headers={"User-Agent": USER_AGENT},
        timeout=httpx.Timeout(get_settings().fetch_timeout_seconds),
    )


def fetch(
    url: str,
    *,
    accept_types: Iterable[str] = DEFAULT_ACCEPT_TYPES,
    client: httpx.Client | None = None,
) -> FetchedPage:
    """Download one page; raise `ValidationFailed` with a readable message on any problem."""
    requested = check_url(url)
    accepted = {kind.strip().lower() for kind in accept_types}
    settings = get_settings()
    if client is None:
        with build_client() as own_client:
            return _fetch(requested, accepted, own_client, settings)
    return _fetch(requested, accepted, client, settings)


def _fetch(requested: str, accepted: set[str], client: httpx.Client, settings) -> FetchedPage:
    timeout_s = settings.fetch_timeout_seconds
    max_bytes = int(settings.fetch_max_mb * 1024 * 1024)
    deadline = time.monotonic() + timeout_s
    current = requested
    try:
        for _hop in range(MAX_REDIRECTS + 1):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ValidationFailed(_timeout_message(timeout_s))
            with client.stream(
                "GET",
                current,
                headers={
                    "User-Agent": USER_AGENT,
                    "Accept": ", ".join([*sorted(accepted), "*/*;q=0.1"]),
                    "Accept-Encoding": "gzip, deflate",
                },
                follow_redirects=False,
                timeout=httpx.Timeout(min(timeout_s, remaining)),
            ) as response:
                status = response.status_code
                if status in REDIRECT_STATUSES and response.headers.get("location"):
                    location = response.headers["location"].strip()
                    current = check_url(urljoin(current, location))
                    continue
                if not 200 <= status < 300:
                    raise ValidationFailed(f"The page answered with an error (HTTP {status}).")
                content_type = response.headers.get("content-type", "").strip()
                mime = content_type.split(";", 1)[0].strip().lower()
                if mime not in accepted:
                    shown = mime or "unknown type"
                    raise NotAWebPage(f"This address is not a web page ({shown}).", mime)
                declared = response.headers.get("content-length", "")
                if declared.strip().isdigit() and int(declared) > max_bytes:
                    raise ValidationFailed(_too_large_message(settings.fetch_max_mb))
                body = _read_body(response, max_bytes, deadline, settings)
                return FetchedPage(
                    url=requested,
                    final_url=current,
                    status=status,
                    content_type=content_type,
                    body=body,
                    etag=response.headers.get("etag", ""),
                    last_modified=response.headers.get("last-modified", ""),
                )
        raise ValidationFailed(
            f"The page redirected more than {MAX_REDIRECTS} times, so we stopped following it."
        )
    except ValidationFailed:
        raise
    except httpx.TimeoutException as exc:
        raise ValidationFailed(_timeout_message(timeout_s)) from exc
    except httpx.ConnectError as exc:
        if "CERTIFICATE" in str(exc).upper() or "SSL" in str(exc).upper():
            raise ValidationFailed(
                "The website's security certificate could not be verified."
            ) from exc
        raise ValidationFailed("We couldn't connect to the website at this address.") from exc
    except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
        raise ValidationFailed(
            "The website closed the connection before the page was fully received."
        ) from exc
    except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError) as exc:
        raise ValidationFailed(GENERIC_FAILURE) from exc
    except (OSError, ValueError, zlib.error) as exc:  # UnicodeError is a ValueError
        raise ValidationFailed(GENERIC_FAILURE) from exc


def _read_body(response: httpx.Response, max_bytes: int, deadline: float, settings) -> bytes:
    encoding = response.headers.get("content-encoding", "").strip().lower()
    chunks = _raw_chunks(response, deadline, settings.fetch_timeout_seconds)
    if encoding in ("", "identity"):
        pieces = chunks
    elif encoding in ("gzip", "x-gzip", "deflate"):
        pieces = _inflate(chunks, max_bytes)
    else:
        raise ValidationFailed(
            f"The website sent the page compressed in a way we can't read ({encoding})."
        )
    parts: list[bytes] = []
    total = 0
    for piece in pieces:
        total += len(piece)
        if total > max_bytes:
            raise ValidationFailed(_too_large_message(settings.fetch_max_mb))
        parts.append(piece)
    return b"".join(parts)


def _raw_chunks(response: httpx.Response, deadline: float, timeout_s: float) -> Iterator[bytes]:
    for chunk in response.iter_raw():
        if time.monotonic() > deadline:
            raise ValidationFailed(_timeout_message(timeout_s))
        yield chunk


def _inflate(chunks: Iterator[bytes], max_bytes: int) -> Iterator[bytes]:
    """Unpack gzip or zlib data, never producing more than max_bytes + 1 bytes in memory."""
    decompressor = zlib.decompressobj(32 + zlib.MAX_WBITS)  # auto-detect gzip or zlib header
    produced = 0
    for chunk in chunks:
        data = chunk
        while data:
            piece = decompressor.decompress(data, max_bytes - produced + 1)
            produced += len(piece)
            yield piece
            if produced > max_bytes:
                return
            data = decompressor.unconsumed_tail
            if decompressor.eof:
                return
    yield decompressor.flush()


def _timeout_message(seconds: float) -> str:
    unit = "second" if seconds == 1 else "seconds"
    return f"The page took longer than {seconds:g} {unit} to answer."


def _too_large_message(megabytes: float) -> str:
    return f"The page is larger than the {megabytes:g} MB limit."
