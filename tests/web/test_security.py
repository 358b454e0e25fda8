from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from pytest_django.fixtures import Settings

from abonent.core.models import Supplier
from abonent.notifications.enums import Channel
from abonent.notifications.models import OutboxMessage
from tests.web.html import inline_code

pytestmark = pytest.mark.django_db


@pytest.fixture
def content(supplier: Supplier, supplier_kaliningrad: Supplier, settings: Settings) -> None:
    settings.DEMO_OUTBOX_PAGE = True
    OutboxMessage.objects.create(
        channel=Channel.SMS,
        recipient="+79161234567",
        body="Код: 1234",
        created_at=dt.datetime(2026, 11, 22, tzinfo=dt.UTC),
    )


PAGES = ["/", "/demo/outbox/", "/demo/outbox/?to=%2B79161234567", "/no-such-page/"]


@pytest.mark.parametrize("path", PAGES)
def test_pages_carry_a_strict_content_security_policy(client: Client, content: None, path: str) -> None:
    response = client.get(path)

    policy = dict(
        directive.strip().split(" ", 1) for directive in response["Content-Security-Policy"].split(";") if directive
    )
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("path", PAGES)
def test_pages_have_no_inline_styles_or_scripts(client: Client, content: None, path: str) -> None:
    html = client.get(path).content.decode()

    assert inline_code(html) == []


def test_the_finder_finds_inline_code() -> None:
    html = (
        '<p style="color:red">x</p><style>p{}</style><script>1</script><script src="/s.js"></script>'
        '<button onclick="go()">b</button><a href="javascript:go()">a</a>'
    )

    assert inline_code(html) == [
        "<p style=…>",
        "<style>",
        "<script> without src",
        "<button onclick=…>",
        "<a href=javascript:…>",
    ]


def test_assets_are_served_by_the_app_itself(client: Client, content: None) -> None:
    html = client.get("/").content.decode()

    stylesheets = re.findall(r'<link rel="(?:stylesheet|icon)" href="([^"]+)"', html)
    sources = re.findall(r'\ssrc="([^"]+)"', html)
    assert stylesheets == ["/static/web/site.css", "/static/web/favicon.svg"]
    assert sources
    assert all(src.startswith("/static/web/") for src in sources), sources
    for path in [*stylesheets, *set(sources)]:
        assert client.get(path).status_code == 200, path
