"""The SSRF guard: decide whether an address given by a user may be fetched by the server.

Rules (the same for every hop of a redirect and again at connect time, see `fetch.py`):

* only `http` and `https`; no user name or password in the address; at most 2048 characters;
* the host must resolve, and EVERY address it resolves to must be allowed;
* always refused, whatever the settings: cloud metadata endpoints (169.254.169.254,
  fd00:ec2::254, 100.100.100.200, metadata.google.internal), link-local (169.254/16, fe80::/10),
  "this network" 0.0.0.0/8 and `::`, multicast, broadcast and reserved ranges;
* refused unless `ALLOW_PRIVATE_URLS=true` (tests and local development) or the address is in
  one of the `PRIVATE_URL_NETWORKS` (an intranet wiki, an internal order API): loopback (127/8,
  ::1), private networks (RFC 1918, fc00::/7, deprecated site-local fec0::/10), carrier-grade
  NAT 100.64/10 and the other non-global special ranges (documentation, benchmarking);
* an IPv6 address that embeds an IPv4 one (IPv4-mapped, IPv4-compatible, NAT64, 6to4, Teredo)
  is judged by the IPv4 address inside it;
* hosts written as numbers in a non-standard way (`2130706433`, `0177.0.0.1`, `0x7f.1`) are
  refused outright: they mean different things to different parsers.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from urllib.parse import quote, urlsplit, urlunsplit

from chatapp.core.config import get_settings
from chatapp.core.errors import ValidationFailed
from chatapp.services.accounts import security_events

MAX_URL_LENGTH = 2048
URL_TOO_LONG = "This address is too long (more than {limit} characters)."

ONLY_HTTP = "Only http and https addresses can be added."
# The refusal names the settings that lift it: the owner of a self-hosted install may mean an
# intranet address (metadata and link-local addresses stay refused whatever the settings say).
PRIVATE_NETWORK = (
    "This address points to a private or local network, which is not allowed. A self-hosted "
    "install can allow private addresses with ALLOW_PRIVATE_URLS=true, or only some networks "
    "with PRIVATE_URL_NETWORKS (cloud metadata addresses stay refused)."
)
INVALID_ADDRESS = "This doesn't look like a valid web address."

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

METADATA_HOSTNAMES = frozenset({"metadata.google.internal", "metadata.goog", "metadata"})
METADATA_ADDRESSES = frozenset(
    {
        ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack, ...
        ipaddress.ip_address("169.254.170.2"),  # AWS ECS task metadata
        ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
        ipaddress.ip_address("fd00:ec2::254"),  # AWS over IPv6
    }
)

_ALWAYS_REFUSED_NETWORKS = tuple(
    ipaddress.ip_network(net)
    for net in (
        "0.0.0.0/8",
        "169.254.0.0/16",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "255.255.255.255/32",
        "::/128",
        "fe80::/10",
        "ff00::/8",
    )
)
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")

# Labels that are numbers in some base: a host made only of these is an IP address in disguise.
_NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$", re.IGNORECASE)


def check_url(url: str) -> str:
    """Return the normalised `url`, or raise `ValidationFailed` saying why it can't be fetched."""
    if not isinstance(url, str) or not url.strip():
        raise ValidationFailed("Please enter a web address.")
    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        raise ValidationFailed(URL_TOO_LONG.format(limit=MAX_URL_LENGTH))
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in url):
        raise ValidationFailed(INVALID_ADDRESS)
    try:
        parts = urlsplit(url)
        port = parts.port
        hostname = parts.hostname
    except ValueError as exc:
        scheme = url.split(":", 1)[0].lower()
        if scheme not in ("http", "https"):
            raise ValidationFailed(ONLY_HTTP) from exc
        raise ValidationFailed(INVALID_ADDRESS) from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ValidationFailed(ONLY_HTTP)
    if "@" in parts.netloc or parts.username is not None or parts.password is not None:
        raise ValidationFailed("Addresses that contain a user name or password can't be added.")
    if not hostname:
        raise ValidationFailed(INVALID_ADDRESS)
    host = normalise_host(hostname)
    if port == 0:
        raise ValidationFailed(INVALID_ADDRESS)
    effective_port = port or (443 if scheme == "https" else 80)
    check_host(host, effective_port)

    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != {"http": 80, "https": 443}[scheme]:
        netloc = f"{netloc}:{port}"
    path = quote(parts.path or "/", safe="/%:@!$&'()*+,;=-._~")
    query = quote(parts.query, safe="/?%:@!$&'()*+,;=-._~")
    normalised = urlunsplit((scheme, netloc, path, query, ""))
    if len(normalised) > MAX_URL_LENGTH:
        raise ValidationFailed(URL_TOO_LONG.format(limit=MAX_URL_LENGTH))
    return normalised


def normalise_host(hostname: str) -> str:
    """Lower-case, IDNA-encode and strip the trailing dot; refuse disguised numeric hosts."""
    host = hostname.strip().lower().rstrip(".")
    if ":" in host:  # IPv6 literal (a zone id is dropped)
        try:
            return ipaddress.IPv6Address(host.split("%", 1)[0]).compressed
        except ValueError as exc:
            raise ValidationFailed(INVALID_ADDRESS) from exc
    if not host.isascii():
        try:  # after IDNA mapping, full-width digits become ASCII ones: check what results
            host = host.encode("idna").decode("ascii").lower()
        except UnicodeError as exc:
            raise ValidationFailed(INVALID_ADDRESS) from exc
    if not host:
        raise ValidationFailed(INVALID_ADDRESS)
    try:
        return ipaddress.IPv4Address(host).compressed
    except ValueError:
        pass
    if all(_NUMERIC_LABEL.match(label) for label in host.split(".")):
        # Not a canonical dotted quad, yet only numbers: 2130706433, 0177.0.0.1, 0x7f.1, 127.1.
        raise ValidationFailed(INVALID_ADDRESS)
    if not re.fullmatch(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*", host) or any(
        len(label) > 63 for label in host.split(".")
    ):
        raise ValidationFailed(INVALID_ADDRESS)
    return host


def check_host(host: str, port: int) -> list[IPAddress]:
    """Resolve an already normalised host; every address must be allowed. Returns them."""
    if host in METADATA_HOSTNAMES or host.endswith(".metadata.google.internal"):
        _refused(host, "cloud metadata host")
    try:
        addresses: list[IPAddress] = [ipaddress.ip_address(host)]  # a literal: nothing to resolve
    except ValueError:
        addresses = resolve(host, port)
    if not addresses:
        raise ValidationFailed(f"We couldn't find a website at this address ({host}).")
    settings = get_settings()
    networks = settings.private_networks  # parsed once for all the host's addresses
    for address in addresses:
        listed = any(address in network for network in networks)
        try:
            check_ip(address, allow_private=settings.allow_private_urls or listed)
        except ValidationFailed:
            _refused(host, f"resolves to a refused address ({address})")
    return addresses


def _refused(host: str, reason: str) -> None:
    security_events.emit(security_events.SSRF_REFUSED, reason, host=host[:253])
    raise ValidationFailed(PRIVATE_NETWORK)


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every IP address `host` resolves to (tests replace this to fake DNS)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise ValidationFailed(f"We couldn't find a website at this address ({host}).") from exc
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        try:
            address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        except ValueError:
            continue
        if address not in addresses:
            addresses.append(address)
    return addresses


def check_ip(address: IPAddress, *, allow_private: bool) -> None:
    """Raise `ValidationFailed` unless the server may connect to `address`."""
    if is_always_refused(address):
        raise ValidationFailed(PRIVATE_NETWORK)
    if not allow_private and not is_public(address):
        raise ValidationFailed(PRIVATE_NETWORK)


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64 or (address in _IPV4_COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_always_refused(address: IPAddress) -> bool:
    """Metadata, link-local, unspecified, multicast, reserved: never, whatever the settings."""
    if address.is_loopback:
        return False  # ::1 sits inside the reserved ::/8, yet is plain loopback
    inner = _embedded_ipv4(address)
    if inner is not None and is_always_refused(inner):
        return True
    if address in METADATA_ADDRESSES:
        return True
    if address.is_unspecified or address.is_multicast or address.is_link_local:
        return True
    if address.is_reserved and inner is None:
        return True
    return any(
        address.version == network.version and address in network
        for network in _ALWAYS_REFUSED_NETWORKS
    )


def is_public(address: IPAddress) -> bool:
    """A globally routable unicast address (loopback, private, CGNAT and the like are not)."""
    inner = _embedded_ipv4(address)
    if inner is not None:
        return is_public(inner)
    if address.is_loopback or address.is_private:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.is_site_local:
        return False
    if isinstance(address, ipaddress.IPv4Address) and address in _CGNAT:
        return False
    return address.is_global
