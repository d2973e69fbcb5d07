"""Where outbound webhooks may go: a tenant names the URL, so without a guard it could make
the server call its own network (databases, admin ports, the cloud metadata service).

Every delivery resolves the host and refuses any non-public address unless the operator's
allow-list names it, then connects to the address it checked (no second lookup a DNS
rebinding could answer differently). Redirects are never followed.
"""

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class TargetRefused(Exception):
    """The URL may not be delivered to; the message says why without the resolved address."""


def url_problem(url: str) -> str | None:
    """What is wrong with a webhook URL before any lookup, or None."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port out of range
    except ValueError:
        return "must be a valid URL"
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return "must be an http(s) URL with a host"
    if parts.username or parts.password:
        return "must not carry credentials (sign requests with the endpoint secret instead)"
    if parts.fragment:
        return "must not carry a fragment"
    return None


def _public(address: IpAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


@dataclass(frozen=True)
class TargetPolicy:
    networks: tuple[IpNetwork, ...] = ()
    hosts: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def parse(cls, allowed: str | Iterable[str]) -> "TargetPolicy":
        """``allowed``: CIDRs or host names, comma-separated (the operator's setting)."""
        items = allowed.split(",") if isinstance(allowed, str) else list(allowed)
        networks: list[IpNetwork] = []
        hosts: set[str] = set()
        for item in (i.strip() for i in items):
            if not item:
                continue
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                hosts.add(item.lower().rstrip("."))
        return cls(tuple(networks), frozenset(hosts))

    def permits(self, host: str, address: IpAddress) -> bool:
        if host.lower().rstrip(".") in self.hosts or _public(address):
            return True
        return any(address in network for network in self.networks)

    async def resolve(self, url: str) -> IpAddress:
        """The address to connect to; TargetRefused when any address of the host is refused
        (a host answering both a public and a private address is refused)."""
        problem = url_problem(url)
        if problem:
            raise TargetRefused(f"the webhook URL {problem}")
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            addresses = [ipaddress.ip_address(host)]
        except ValueError:
            try:
                infos = await asyncio.get_running_loop().getaddrinfo(
                    host, port, type=socket.SOCK_STREAM
                )
            except (OSError, UnicodeError):
                raise TargetRefused("the webhook host does not resolve") from None
            addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
        if not addresses:
            raise TargetRefused("the webhook host does not resolve")
        for address in addresses:
            if not self.permits(host, address):
                raise TargetRefused(
                    "the webhook host resolves to a private, loopback, link-local or reserved "
                    "address (an operator can allow it: UNIFIED_ATS_WEBHOOK_ALLOWED_TARGETS)"
                )
        return addresses[0]


class GuardedTransport(httpx.AsyncBaseTransport):
    """Connects to the address the policy checked, keeping the URL's host for ``Host`` and
    TLS (SNI and certificate checks use the name, not the address)."""

    def __init__(self, policy: TargetPolicy, inner: httpx.AsyncBaseTransport | None = None):
        self.policy = policy
        self.inner = inner or httpx.AsyncHTTPTransport(retries=0)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        address = await self.policy.resolve(str(request.url))
        if request.url.scheme == "https":
            request.extensions = {**request.extensions, "sni_hostname": request.url.host}
        request.url = request.url.copy_with(host=str(address))
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()
