"""A real OpenID provider for the tests: panva's oidc-provider (OpenID Certified), run by
node from ``provider/`` (see provider.js), and a small HTTP browser to log in at it.

:func:`provider_running` installs the provider's packages on first use (``npm ci``, once,
under a lock: xdist workers start together), starts ``node provider.js`` on a free port
with the clients and accounts given, waits for its discovery document and stops it after.
Node and npm are needed: without them the tests skip (fail in CI, see tests/conftest.py).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import free_port, need_binary

PROVIDER_DIR = Path(__file__).resolve().parent / "provider"

CLIENT_ID = "abonent-portal"
CLIENT_SECRET = "test-only-secret-of-the-portal-0123456789"
BASIC_CLIENT_ID = "abonent-basic"
BASIC_CLIENT_SECRET = "test-only-secret-of-basic-auth-0123456789"
SCOPES = ("openid", "profile", "email", "phone")

#: The people who can log in at the provider, by account id (the provider's ``sub``).
ACCOUNTS: dict[str, dict[str, Any]] = {
    # nobody in the portal has these contacts
    "new-person": {
        "family_name": "Соколова",
        "given_name": "Анна",
        "middle_name": "Сергеевна",
        "phone_number": "+7 916 111-22-33",
        "phone_number_verified": True,
        "email": "sokolova@example.ru",
        "email_verified": True,
    },
    # the phone of a profile that exists (the tests make it)
    "phone-match": {
        "family_name": "Петров",
        "given_name": "Иван",
        "middle_name": "Ильич",
        "phone_number": "+79165550101",
        "phone_number_verified": True,
        "email": "petrov-esia@example.ru",
        "email_verified": False,
    },
    # the e-mail of a profile that exists
    "email-match": {
        "family_name": "Орлова",
        "given_name": "Ольга",
        "email": "Orlova@Example.ru",
        "email_verified": True,
    },
    # contacts the provider did not verify
    "unverified": {
        "family_name": "Кузнецов",
        "given_name": "Пётр",
        "phone_number": "+79165550101",
        "phone_number_verified": False,
    },
}


@dataclass(frozen=True)
class Provider:
    issuer: str
    port: int

    @property
    def discovery_url(self) -> str:
        return self.issuer + "/.well-known/openid-configuration"


def clients_for(redirect_uris: list[str]) -> list[dict[str, Any]]:
    """The portal's registrations: one with client_secret_post and RS256 ID tokens, one
    with client_secret_basic and ES256."""
    common = {"redirect_uris": redirect_uris, "grant_types": ["authorization_code"], "response_types": ["code"]}
    return [
        {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "token_endpoint_auth_method": "client_secret_post",
            "id_token_signed_response_alg": "RS256",
            **common,
        },
        {
            "client_id": BASIC_CLIENT_ID,
            "client_secret": BASIC_CLIENT_SECRET,
            "token_endpoint_auth_method": "client_secret_basic",
            "id_token_signed_response_alg": "ES256",
            **common,
        },
    ]


def npm_ci() -> None:
    """``npm ci`` in provider/ unless its packages are there; one process at a time."""
    npm = need_binary("npm")
    marker = PROVIDER_DIR / "node_modules" / "oidc-provider" / "package.json"
    if marker.exists():
        return
    lock = Path(tempfile.gettempdir()) / "abonent-oidc-provider-npm-ci.lock"
    with lock.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            if marker.exists():
                return
            done = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                cwd=PROVIDER_DIR,
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
            )
            if done.returncode != 0:
                pytest.fail(f"npm ci in {PROVIDER_DIR} failed:\n{done.stdout}\n{done.stderr}")
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _discovery_answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as answer:
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@contextlib.contextmanager
def provider_running(
    *, redirect_uris: list[str], accounts: dict[str, dict[str, Any]] | None = None
) -> Iterator[Provider]:
    """The provider on a free port for as long as the block runs."""
    node = need_binary("node")
    npm_ci()
    port = free_port()
    provider = Provider(issuer=f"http://127.0.0.1:{port}", port=port)
    env = {
        **os.environ,
        "PORT": str(port),
        "CLIENTS_JSON": json.dumps(clients_for(redirect_uris)),
        "ACCOUNTS_JSON": json.dumps(accounts if accounts is not None else ACCOUNTS, ensure_ascii=False),
        "NODE_ENV": "test",
    }
    with tempfile.TemporaryFile(mode="w+") as log:
        process = subprocess.Popen([node, "provider.js"], cwd=PROVIDER_DIR, env=env, stdout=log, stderr=log)
        try:
            deadline = time.monotonic() + 30
            while not _discovery_answers(provider.discovery_url):
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    pytest.fail(f"the OpenID provider did not start:\n{log.read()}")
                time.sleep(0.1)
            yield provider
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


# --- A browser made of urllib ------------------------------------------------------------


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@dataclass
class Page:
    status: int
    url: str
    headers: dict[str, str]
    body: str

    @property
    def location(self) -> str:
        return urllib.parse.urljoin(self.url, self.headers.get("location", ""))


@dataclass
class Browser:
    """Cookies kept, redirects not followed by themselves (:meth:`follow` does, hop by hop)."""

    jar: CookieJar = field(default_factory=CookieJar)
    visited: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirects())

    def open(self, url: str, data: dict[str, str] | None = None) -> Page:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(url, data=body, headers={"User-Agent": "test-browser/1 (Linux)"})
        self.visited.append(url)
        try:
            with self._opener.open(request, timeout=15) as answer:
                return Page(
                    answer.status, url, {k.lower(): v for k, v in answer.headers.items()}, answer.read().decode()
                )
        except urllib.error.HTTPError as exc:
            headers = {k.lower(): v for k, v in exc.headers.items()} if exc.headers else {}
            return Page(exc.code, url, headers, exc.read().decode(errors="replace"))

    def follow(self, page: Page, *, until: str | None = None) -> Page:
        """Follow redirects from ``page``; stop before opening an address that starts with
        ``until`` (then the returned page's ``location`` is that address)."""
        for _hop in range(20):
            if page.status not in (301, 302, 303, 307, 308):
                return page
            if until is not None and page.location.startswith(until):
                return page
            page = self.open(page.location)
        raise AssertionError(f"too many redirects: {self.visited[-20:]}")


def provider_login(browser: Browser, authorization_url: str, *, account: str, until: str) -> str:
    """Log ``account`` in at the provider from its authorization address; the address it
    sends the browser back to (``until…?code=…&state=…``)."""
    page = browser.follow(browser.open(authorization_url))
    assert (page.status, "/interaction/" in page.url) == (200, True), (page.url, page.body[:500])
    page = browser.open(page.url + "/login", {"account": account})
    page = browser.follow(page, until=until)
    assert page.location.startswith(until), (page.status, page.location, page.body[:500])
    return page.location


def provider_refuse(browser: Browser, authorization_url: str, *, until: str) -> str:
    """Press «Отказаться» at the provider's login page; where it sends the browser back."""
    page = browser.follow(browser.open(authorization_url))
    assert (page.status, "/interaction/" in page.url) == (200, True), page.url
    page = browser.follow(browser.open(page.url + "/abort", {}), until=until)
    assert page.location.startswith(until), (page.status, page.location)
    return page.location


def query_of(url: str) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
