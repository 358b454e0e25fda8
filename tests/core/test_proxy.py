"""The client's address behind the reverse proxy (abonent.core.proxy)."""

from __future__ import annotations

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory
from pytest_django.fixtures import Settings as SettingsWrapper

from abonent.core.proxy import ForwardedForMiddleware, client_address

TRUSTED = ["127.0.0.1/32", "10.0.0.0/24"]


@pytest.mark.parametrize(
    ("remote", "forwarded", "client"),
    [
        ("10.0.0.5", "203.0.113.7", "203.0.113.7"),  # one proxy
        ("10.0.0.5", "198.51.100.1, 203.0.113.7, 10.0.0.9", "203.0.113.7"),  # two proxies, a forged left part
        ("10.0.0.5", "2001:db8::1", "2001:db8::1"),
        ("10.0.0.5", "", "10.0.0.5"),  # nothing forwarded
        ("10.0.0.5", "127.0.0.1", "127.0.0.1"),  # only trusted hops: the leftmost of them
        ("10.0.0.5", "203.0.113.7, not-an-address", "10.0.0.5"),  # garbage at the right: believe nothing
        ("10.0.0.5", "evil, 203.0.113.7", "203.0.113.7"),  # garbage left of the client does not matter
        ("10.0.0.5", " , ,203.0.113.7 ", "203.0.113.7"),
        ("192.0.2.50", "203.0.113.7", "192.0.2.50"),  # not from a trusted proxy: the header is the client's own
    ],
)
def test_the_client_is_the_nearest_untrusted_hop(remote: str, forwarded: str, client: str) -> None:
    assert client_address(remote, forwarded, TRUSTED) == client


def _seen(settings: SettingsWrapper, trusted: list[str], **meta: str) -> HttpRequest:
    settings.TRUSTED_PROXIES = trusted
    seen: list[HttpRequest] = []

    def view(request: HttpRequest) -> HttpResponse:
        seen.append(request)
        return HttpResponse()

    ForwardedForMiddleware(view)(RequestFactory().get("/", **meta))
    return seen[0]


def test_the_middleware_replaces_the_address_and_keeps_the_proxys(settings: SettingsWrapper) -> None:
    request = _seen(settings, TRUSTED, REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert (request.META["REMOTE_ADDR"], request.META["PROXY_ADDR"]) == ("203.0.113.7", "10.0.0.5")


def test_without_trusted_proxies_the_header_is_ignored(settings: SettingsWrapper) -> None:
    request = _seen(settings, [], REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert request.META["REMOTE_ADDR"] == "10.0.0.5"
    assert "PROXY_ADDR" not in request.META


def test_a_bad_trusted_proxies_setting_says_what_to_write() -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={"DJANGO_SETTINGS_MODULE": "abonent.config.settings", "TRUSTED_PROXIES": "10.0.0.300/32",
             "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )  # fmt: skip
    assert done.returncode != 0
    assert "TRUSTED_PROXIES" in done.stderr
    assert "expected networks such as 10.0.0.5/32" in done.stderr
