"""The client's address behind the reverse proxy.

Behind nginx every request comes from the proxy, so ``REMOTE_ADDR`` would be the proxy's
address: the payment gateways' notifications would fail their source check and the limits
per address would count every visitor together. When the request comes from one of
``TRUSTED_PROXIES`` (CIDR networks), the client is the nearest address in X-Forwarded-For
that is not a trusted proxy itself, read from the right: the addresses on its left were
written by the client and may be anything. ``REMOTE_ADDR`` is replaced with it; the proxy's
own address stays in ``META["PROXY_ADDR"]``. Without TRUSTED_PROXIES nothing changes.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from functools import cache

from django.conf import settings
from django.http import HttpRequest, HttpResponse

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@cache
def _networks(cidrs: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in cidrs)


def _trusted(address: str, networks: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(remote_addr: str, forwarded_for: str, trusted: Sequence[str]) -> str:
    """The client's address of a request from ``remote_addr`` carrying ``forwarded_for``."""
    networks = _networks(tuple(trusted))
    if not networks or not _trusted(remote_addr, networks):
        return remote_addr
    client = remote_addr
    for hop in reversed([part.strip() for part in forwarded_for.split(",") if part.strip()]):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            break  # not an address: what is left of it cannot be believed
        client = hop
        if not _trusted(hop, networks):
            break
    return client


class ForwardedForMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        trusted = settings.TRUSTED_PROXIES
        remote = request.META.get("REMOTE_ADDR", "")
        if trusted and remote:
            client = client_address(remote, request.META.get("HTTP_X_FORWARDED_FOR", ""), trusted)
            if client != remote:
                request.META["PROXY_ADDR"] = remote
                request.META["REMOTE_ADDR"] = client
        return self.get_response(request)
