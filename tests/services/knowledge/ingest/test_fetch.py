"""The SSRF guard and the single safe fetch, against a real HTTP server on loopback."""

from __future__ import annotations

import ipaddress
import socket
import time

import httpcore
import pytest

from chatapp.core.config import get_settings, reset_settings
from chatapp.core.errors import ValidationFailed
from chatapp.services.knowledge.ingest import urlguard
from chatapp.services.knowledge.ingest.fetch import USER_AGENT, NotAWebPage, build_client, fetch
from chatapp.services.knowledge.ingest.urlguard import PRIVATE_NETWORK, check_url
from tests.services.knowledge.ingest.site_server import running_site

PUBLIC_IP = ipaddress.ip_address("93.184.216.34")


@pytest.fixture
def site():
    with running_site() as running:
        yield running


@pytest.fixture
def allow_private(monkeypatch):
    monkeypatch.setenv("ALLOW_PRIVATE_URLS", "true")
    reset_settings()


def set_env(monkeypatch, **values):
    for name, value in values.items():
        monkeypatch.setenv(name, str(value))
    reset_settings()


@pytest.fixture
def fake_dns(monkeypatch):
    """Map host names to addresses without a network; records every lookup."""
    table: dict[str, list] = {}
    lookups: list[str] = []

    def resolve(host, port):
        lookups.append(host)
        answer = table.get(host)
        if answer is None:
            raise ValidationFailed(f"We couldn't find a website at this address ({host}).")
        if callable(answer):
            return answer()
        return [ipaddress.ip_address(str(a)) for a in answer]

    monkeypatch.setattr(urlguard, "resolve", resolve)
    table["lookups"] = lookups  # type: ignore[assignment]
    return table


class LoopbackBackend(httpcore.SyncBackend):
    """Connects every host name to the test server: plays the part of public DNS."""

    def __init__(self, port: int):
        self.port = port
        self.hosts: list[str] = []

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        self.hosts.append(host)
        return super().connect_tcp("127.0.0.1", self.port, timeout, local_address, socket_options)


def refused(url: str) -> str:
    with pytest.raises(ValidationFailed) as info:
        check_url(url)
    return info.value.message


# --- check_url --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.com/file",
        "gopher://example.com:70/_",
        "javascript:alert(1)",
        "data:text/html,hi",
        "mailto:someone@example.com",
        "example.com/no-scheme",
    ],
)
def test_only_http_and_https(url):
    assert refused(url) == "Only http and https addresses can be added."


@pytest.mark.parametrize(
    "url", ["http://user:secret@example.com/", "https://user@example.com/", "http://:pw@x.com/"]
)
def test_credentials_refused(url):
    assert "user name or password" in refused(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost/",
        "http://LOCALHOST.:8000/",
        "http://127.0.0.1/",
        "http://127.8.9.10/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://10.0.0.1/",
        "http://172.16.5.4/",
        "http://192.168.1.1/",
        "http://100.64.0.1/",
        "http://[fd12:3456::1]/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/",
        "http://[fe80::1]/",
        "http://0.0.0.0/",
        "http://224.0.0.1/",
        "http://255.255.255.255/",
        "http://[::ffff:169.254.169.254]/",
        "http://metadata.google.internal/computeMetadata/v1/",
    ],
)
def test_private_and_local_addresses_refused(url):
    assert refused(url) == PRIVATE_NETWORK


@pytest.mark.parametrize(
    "url",
    [
        "http://2130706433/",
        "http://0177.0.0.1/",
        "http://0x7f000001/",
        "http://0x7f.0.0.1/",
        "http://127.1/",
        "http://017700000001/",
        "http://\uff10\uff11\uff17\uff17.0.0.1/",  # full-width digits: 0177.0.0.1
    ],
)
def test_numeric_ip_tricks_refused(url):
    assert refused(url) == "This doesn't look like a valid web address."


def test_full_width_dotted_quad_is_judged_as_the_ip_it_means():
    assert refused("http://\uff11\uff12\uff17.\uff10.\uff10.\uff11/") == PRIVATE_NETWORK
    assert refused("http://%31%32%37.0.0.1/") == "This doesn't look like a valid web address."
    assert "user name or password" in refused("http://example.com\\@127.0.0.1/")


def test_listed_private_networks_are_reachable_and_nothing_else(monkeypatch):
    monkeypatch.setenv("PRIVATE_URL_NETWORKS", "10.20.0.0/16, 127.0.0.2/32, 169.254.0.0/16")
    reset_settings()
    assert check_url("http://10.20.3.4/wiki") == "http://10.20.3.4/wiki"
    assert check_url("http://127.0.0.2:8080/") == "http://127.0.0.2:8080/"
    assert refused("http://10.21.0.1/") == PRIVATE_NETWORK
    assert refused("http://127.0.0.1/") == PRIVATE_NETWORK
    # Listed or not, the metadata endpoint and link-local stay refused.
    assert refused("http://169.254.169.254/latest/meta-data/") == PRIVATE_NETWORK
    assert refused("http://169.254.1.1/") == PRIVATE_NETWORK


def test_a_private_network_setting_that_is_not_a_network_is_refused_at_start(monkeypatch):
    monkeypatch.setenv("PRIVATE_URL_NETWORKS", "10.0.0.0/8,intranet")
    reset_settings()
    with pytest.raises(ValueError, match="'intranet' is not a network"):
        get_settings()


def test_allow_private_lifts_loopback_and_private_only(allow_private):
    assert check_url("http://localhost:8000/x") == "http://localhost:8000/x"
    assert check_url("http://[::1]/") == "http://[::1]/"
    assert check_url("http://10.0.0.1/") == "http://10.0.0.1/"
    assert check_url("http://192.168.0.10:3000") == "http://192.168.0.10:3000/"
    # Never: metadata, link-local, unspecified, multicast, other schemes, numeric tricks.
    for url in (
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/",
        "http://[::ffff:169.254.169.254]/",
        "http://metadata.google.internal/",
        "http://169.254.1.1/",
        "http://0.0.0.0/",
        "http://224.0.0.1/",
    ):
        assert refused(url) == PRIVATE_NETWORK, url
    assert refused("file:///etc/passwd") == "Only http and https addresses can be added."
    assert refused("http://2130706433/") == "This doesn't look like a valid web address."


def test_public_url_normalised(fake_dns):
    fake_dns["example.com"] = [PUBLIC_IP, "2606:2800:220:1:248:1893:25c8:1946"]
    assert (
        check_url("  HTTP://Example.COM:80/a b?q=1&r=2#section ")
        == "http://example.com/a%20b?q=1&r=2"
    )
    assert check_url("https://example.com") == "https://example.com/"
    assert check_url("https://example.com:8443/x") == "https://example.com:8443/x"


def test_every_resolved_address_must_be_public(fake_dns):
    fake_dns["mixed.example"] = [PUBLIC_IP, "10.1.2.3"]
    assert refused("http://mixed.example/") == PRIVATE_NETWORK


def test_unresolvable_host(monkeypatch):
    def fail(*args, **kwargs):
        raise socket.gaierror("no such host")

    monkeypatch.setattr(socket, "getaddrinfo", fail)
    assert refused("http://no-such-host.example/") == (
        "We couldn't find a website at this address (no-such-host.example)."
    )


def test_too_long_and_malformed():
    assert "too long" in refused("http://example.com/" + "a" * 2100)
    assert refused("http://exa mple.com/") == "This doesn't look like a valid web address."
    assert refused("http://example.com:99999/") == "This doesn't look like a valid web address."
    assert refused("") == "Please enter a web address."


# --- fetch ------------------------------------------------------------------------------------


def test_loopback_server_refused_by_default(site):
    with pytest.raises(ValidationFailed) as info:
        fetch(site.url("/"))
    assert info.value.message == PRIVATE_NETWORK
    assert site.paths == []


def test_fetch_page(site, allow_private):
    page = fetch(site.url("/about"))
    assert page.url == page.final_url == site.url("/about")
    assert page.status == 200
    assert page.content_type == "text/html; charset=utf-8"
    assert page.body.startswith(b"<!DOCTYPE html>") and b"About" in page.body
    assert site.log[-1].user_agent == USER_AGENT == "ChatappBot/0.1 (+https://github.com/chatapp)"


def test_fetch_keeps_etag_and_accepts_plain_text(site, allow_private):
    page = fetch(site.url("/text"))
    assert page.body == b"plain text"
    assert page.etag == '"t1"'
    assert page.last_modified == ""


def test_non_html_refused(site, allow_private):
    with pytest.raises(NotAWebPage) as info:
        fetch(site.url("/logo"))
    assert info.value.message == "This address is not a web page (image/png)."
    assert isinstance(info.value, ValidationFailed)


@pytest.mark.parametrize("path,status", [("/missing", 404), ("/broken", 500)])
def test_error_status_refused(site, allow_private, path, status):
    with pytest.raises(ValidationFailed) as info:
        fetch(site.url(path))
    assert info.value.message == f"The page answered with an error (HTTP {status})."


def test_redirect_chain_of_five_followed(site, allow_private):
    page = fetch(site.url("/redirect/chain/5"))
    assert page.url == site.url("/redirect/chain/5")
    assert page.final_url == site.url("/redirect/chain/0")
    assert b"End of chain" in page.body
    assert len(site.paths) == 6


def test_redirect_chain_of_six_refused(site, allow_private):
    with pytest.raises(ValidationFailed) as info:
        fetch(site.url("/redirect/chain/6"))
    assert "redirected more than 5 times" in info.value.message
    assert "/redirect/chain/0" not in site.paths


def test_redirect_to_metadata_refused_even_when_private_allowed(site, allow_private):
    with pytest.raises(ValidationFailed) as info:
        fetch(site.url("/redirect/metadata"))
    assert info.value.message == PRIVATE_NETWORK


def test_redirect_to_private_address_refused_from_public_looking_url(site, fake_dns):
    """allow_private_urls is off: public.example looks public, its redirect to 10.0.0.1 is not."""
    fake_dns["public.example"] = [PUBLIC_IP]
    backend = LoopbackBackend(site.port)
    with build_client(network_backend=backend) as client:
        page = fetch(f"http://public.example:{site.port}/about", client=client)
        assert b"About" in page.body
        assert site.log[-1].host == f"public.example:{site.port}"
        with pytest.raises(ValidationFailed) as info:
            fetch(f"http://public.example:{site.port}/redirect/private", client=client)
    assert info.value.message == PRIVATE_NETWORK
    assert site.paths == ["/about", "/redirect/private"]
    assert backend.hosts == ["public.example"]  # never tried to reach 10.0.0.1
    assert "10.0.0.1" not in fake_dns["lookups"]


def test_dns_rebinding_refused_at_connect_time(site, fake_dns):
    """The name is checked public, then resolves to loopback when connecting: refused."""
    answers = iter([[PUBLIC_IP], [ipaddress.ip_address("127.0.0.1")]])
    fake_dns["rebind.example"] = lambda: next(answers)
    with pytest.raises(ValidationFailed) as info:
        fetch(f"http://rebind.example:{site.port}/about")
    assert info.value.message == PRIVATE_NETWORK
    assert fake_dns["lookups"] == ["rebind.example", "rebind.example"]
    assert site.paths == []


def test_connection_goes_to_the_checked_address(site, fake_dns, allow_private):
    fake_dns["docs.test"] = ["127.0.0.1"]
    page = fetch(f"http://docs.test:{site.port}/contact")
    assert b"Contact" in page.body
    assert site.log[-1].host == f"docs.test:{site.port}"


def test_slow_page_times_out(site, allow_private, monkeypatch):
    set_env(monkeypatch, FETCH_TIMEOUT_SECONDS=1)
    started = time.monotonic()
    with pytest.raises(ValidationFailed) as info:
        fetch(site.url("/slow"))
    assert info.value.message == "The page took longer than 1 second to answer."
    assert time.monotonic() - started < 5
    site.release.set()


def test_trickling_page_hits_overall_deadline(site, allow_private, monkeypatch):
    set_env(monkeypatch, FETCH_TIMEOUT_SECONDS=1)
    started = time.monotonic()
    with pytest.raises(ValidationFailed) as info:
        fetch(site.url("/trickle"))
    assert info.value.message == "The page took longer than 1 second to answer."
    assert time.monotonic() - started < 5


def test_timeout_message_uses_setting(site, allow_private, monkeypatch):
    set_env(monkeypatch, FETCH_TIMEOUT_SECONDS=1.5)
    with pytest.raises(ValidationFailed) as info:
        fetch(site.url("/slow"))
    assert info.value.message == "The page took longer than 1.5 seconds to answer."


def test_huge_streamed_page_refused(site, allow_private, monkeypatch):
    set_env(monkeypatch, FETCH_MAX_MB=1)
    with pytest.raises(ValidationFailed) as info:
        fetch(site.url("/huge"))
    assert info.value.message == "The page is larger than the 1 MB limit."


def test_huge_declared_length_refused(site, allow_private):
    with pytest.raises(ValidationFailed) as info:
        fetch(site.url("/huge-declared"))
    assert info.value.message == "The page is larger than the 5 MB limit."


def test_gzip_encoding_unpacked_and_bomb_refused(site, allow_private, monkeypatch):
    page = fetch(site.url("/gzip-page"))
    assert page.body.startswith(b"<!DOCTYPE html>") and b"Compressed" in page.body
    set_env(monkeypatch, FETCH_MAX_MB=1)
    with pytest.raises(ValidationFailed) as info:
        fetch(site.url("/gzip-bomb"))
    assert info.value.message == "The page is larger than the 1 MB limit."


def test_closed_port_is_a_readable_error(allow_private):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ValidationFailed) as info:
        fetch(f"http://127.0.0.1:{port}/")
    assert info.value.message == "We couldn't connect to the website at this address."


def test_accept_types_are_the_callers(site, allow_private):
    with pytest.raises(NotAWebPage) as info:
        fetch(site.url("/text"), accept_types=("text/html",))
    assert info.value.message == "This address is not a web page (text/plain)."
    assert fetch(site.url("/logo"), accept_types=("image/png",)).body.startswith(b"\x89PNG")
