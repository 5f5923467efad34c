"""The one way to make a request to an address a user gave us (push endpoints; later the
webhook URLs of API users).

Such an address could point at our own network: the metadata service, a database port, an admin
page on localhost. So the guard allows `https` only, resolves the host name once and refuses it
unless every address it resolves to is public, then connects to the address it checked (a second
lookup, which an attacker's DNS could answer differently, never happens) while TLS still checks
the certificate against the name. It follows no redirect, uses no proxy from the environment,
gives up on a slow peer (per read and for the whole request) and reads a bounded response.

Hosts named in OUTBOUND_ALLOWED_PRIVATE_HOSTS (tests and local development only: `check
--deploy` refuses the setting) may resolve to private addresses and may use plain http.
"""

from __future__ import annotations

import contextlib
import io
import ipaddress
import socket
import threading
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

CONNECT_TIMEOUT_SECONDS = 3.0
READ_TIMEOUT_SECONDS = 5.0
# A whole request, however slowly the other side drips its answer (each read has its own
# timeout above, so without this a byte every few seconds would hold the request for good).
TOTAL_TIMEOUT_SECONDS = 10.0
MAX_RESPONSE_BYTES = 64 * 1024

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")


class RefusedURL(requests.exceptions.InvalidURL):
    """The address is not one we send requests to; the message says why, for the user.

    A RequestException (callers of a guarded session catch it with every other failure to
    reach the address) and a ValueError."""


@dataclass(frozen=True)
class Destination:
    """A checked URL and the address its host resolved to: the one the connection goes to."""

    url: str
    scheme: str
    host: str
    address: IPAddress


def allowed_private_hosts() -> frozenset[str]:
    return frozenset(host.lower().rstrip(".") for host in settings.OUTBOUND_ALLOWED_PRIVATE_HOSTS)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for (mapped, 6to4, NAT64 or IPv4-compatible)."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in NAT64 or address in IPV4_COMPATIBLE:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public(address: IPAddress) -> bool:
    """True for an address on the public internet: not loopback, private, link-local, shared
    (100.64/10), multicast, reserved, unspecified, unique-local or site-local, nor an IPv6 form
    of one of those. `is_global` alone lets multicast and some reserved ranges through."""
    if (
        not address.is_global
        or address.is_multicast
        or address.is_reserved
        or address.is_loopback
        or address.is_link_local
        or address.is_unspecified
    ):
        return False
    if isinstance(address, ipaddress.IPv6Address):
        if address.is_site_local:
            return False
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return is_public(embedded)
    return True


def resolve(url: str) -> Destination:
    """Checks the URL and resolves its host once; RefusedURL unless it may be requested."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise RefusedURL("This is not a valid address.") from None
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise RefusedURL("The address has no host name.")
    if parts.username is not None or parts.password is not None:
        raise RefusedURL("An address with a user name or password is not accepted.")
    allowed = host in allowed_private_hosts()
    scheme = parts.scheme.lower()
    if scheme != "https" and not (allowed and scheme == "http"):
        raise RefusedURL("Only https addresses are accepted.")
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, ValueError):  # unknown, unreachable DNS, or not a name (a NUL, bad IDNA)
        raise RefusedURL(f"The host name {host} could not be resolved.") from None
    # The scope of a link-local IPv6 address ("fe80::1%eth0") is not part of the address.
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in found]
    if not allowed and not all(is_public(address) for address in addresses):
        raise RefusedURL(
            f"{host} is not a public internet address; requests go only to public hosts."
        )
    return Destination(url=url, scheme=scheme, host=host, address=addresses[0])


class _DeadlineMixin:
    """A connection that is cut TOTAL_TIMEOUT_SECONDS after it starts connecting, whatever it
    is waiting for then (the TLS handshake, the headers, the body)."""

    sock: socket.socket | None
    timed_out = False

    def connect(self) -> None:
        self._deadline = threading.Timer(TOTAL_TIMEOUT_SECONDS, self._cut)
        self._deadline.daemon = True
        self._deadline.start()
        super().connect()  # type: ignore[misc]

    def _cut(self) -> None:
        self.timed_out = True  # the answer may look whole to http.client: checked after
        sock = self.sock
        if sock is not None:
            with contextlib.suppress(OSError):  # already closed
                sock.shutdown(socket.SHUT_RDWR)  # wakes the read blocked on it

    def close(self) -> None:
        deadline = getattr(self, "_deadline", None)
        if deadline is not None:
            deadline.cancel()
        super().close()  # type: ignore[misc]


class _HTTPConnection(_DeadlineMixin, HTTPConnection):
    pass


class _HTTPSConnection(_DeadlineMixin, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


# The destination of the request being sent, for the pool key (per thread and context).
_destination: ContextVar[Destination] = ContextVar("outbound_destination")


class _GuardedAdapter(HTTPAdapter):
    """Sends each request to the address `resolve` checked for it."""

    def __init__(self) -> None:
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}

    def build_connection_pool_key_attributes(
        self, request: requests.PreparedRequest, verify: Any, cert: Any = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(
            request, verify, cert
        )
        destination = _destination.get()
        host_params["host"] = str(destination.address)
        if destination.scheme == "https":
            # TLS: the name in SNI and the certificate checked against the name.
            pool_kwargs["server_hostname"] = destination.host
        return host_params, pool_kwargs

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        destination = resolve(request.url or "")
        # The name travels in the Host header (urllib3 would write the address there).
        request.headers["Host"] = urlsplit(destination.url).netloc
        token = _destination.set(destination)
        try:
            response = super().send(
                request,
                stream=True,
                timeout=(CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS),
                verify=kwargs.get("verify", True),
                cert=kwargs.get("cert"),
                proxies=None,
            )
        finally:
            _destination.reset(token)
        raw = response.raw
        connection = raw.connection  # released (None on the response) once the body is read
        try:
            body = _read_at_most(raw, MAX_RESPONSE_BYTES)
        finally:
            raw.close()  # one connection per request: nothing half-read goes back to a pool
        if getattr(connection, "timed_out", False):
            raise requests.exceptions.ConnectionError(
                f"No complete answer within {TOTAL_TIMEOUT_SECONDS:g} s.", request=request
            )
        response.raw = io.BytesIO(body)
        return response


def _read_at_most(raw: Any, limit: int) -> bytes:
    body = bytearray()
    for chunk in raw.stream(16 * 1024, decode_content=True):
        body += chunk
        if len(body) >= limit:
            break
    return bytes(body[:limit])


class GuardedSession(requests.Session):
    """A requests session whose every request goes through the guard (pywebpush takes one)."""

    def __init__(self) -> None:
        super().__init__()
        self.trust_env = False  # no proxy or CA bundle from the environment
        adapter = _GuardedAdapter()
        self.mount("https://", adapter)
        self.mount("http://", adapter)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        kwargs["allow_redirects"] = False  # a redirect is an answer, never followed
        return super().send(request, **kwargs)
