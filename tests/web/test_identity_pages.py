"""Every identity page: a strict policy (no inline code), headings in order, never cached,
every form protected against cross-site requests."""

from __future__ import annotations

import re

import pytest

from abonent.identity.models import User
from tests.web.html import heading_levels, headings_in_order, inline_code
from tests.web.identity import PASSWORD, PHONE, Browser

pytestmark = pytest.mark.django_db

GUEST_PAGES = ["/register/", "/login/", "/password/forgot/", "/password/reset/MQ/expired-token/"]
PROFILE_PAGES = [
    "/profile/",
    "/profile/phone/",
    "/profile/email/",
    "/profile/password/",
    "/profile/sessions/",
    "/profile/delete/",
]


def _check(html: str) -> None:
    assert inline_code(html) == []
    assert headings_in_order(heading_levels(html)), heading_levels(html)
    forms = re.findall(r'<form[^>]*method="post"[^>]*>(.*?)</form>', html, re.S)
    assert forms
    assert all('name="csrfmiddlewaretoken"' in body for body in forms)


@pytest.mark.parametrize("path", GUEST_PAGES)
def test_guest_pages(browser: Browser, path: str) -> None:
    response = browser.get(path)

    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"]
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    _check(response.content.decode())


@pytest.mark.parametrize("path", PROFILE_PAGES)
def test_profile_pages(browser: Browser, maria: User, path: str) -> None:
    browser.post("/login/", {"login": PHONE, "password": PASSWORD})

    response = browser.get(path)

    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]
    _check(response.content.decode())


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/register/", {"login": "123"}),
        ("/login/", {"login": "123", "password": "x"}),
        ("/password/forgot/", {"login": "123"}),
    ],
)
def test_pages_with_errors(browser: Browser, path: str, data: dict[str, str]) -> None:
    response = browser.post(path, data)

    assert response.status_code == 200
    _check(response.content.decode())
