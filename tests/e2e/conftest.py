"""A real Chromium driven by Playwright against pytest-django's live server.

The browser is started once for this package and stopped after its last test: while the
sync Playwright API is running it keeps an asyncio loop running in the main thread, and
Django then refuses database access from that thread (SynchronousOnlyOperation). So the
loop must not outlive the e2e tests, and while they run DJANGO_ALLOW_ASYNC_UNSAFE is set
(the test's own database work and the live server's are plain synchronous code).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Request, ViewportSize, sync_playwright

from abonent.core.models import Supplier
from abonent.core.services import supplier_create
from tests.conftest import need_binary
from tests.web.suppliers import SUPPLIER_KALININGRAD

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = ViewportSize(width=360, height=740)
DESKTOP = ViewportSize(width=1280, height=800)


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    executable = need_binary("chromium", "/usr/bin/chromium")
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            try:
                yield browser
            finally:
                browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(
        locale="ru-RU", timezone_id="Europe/Moscow", viewport=PHONE, java_script_enabled=False
    )
    context.set_default_timeout(10_000)
    try:
        yield context
    finally:
        context.close()


def icon_left(request: Request) -> bool:
    """The browser asks for the page's icon on its own, after the page, and drops the
    request when the page goes on: not a problem of the pages under test."""
    return "favicon" in request.url and request.failure == "net::ERR_ABORTED"


@pytest.fixture
def problems() -> list[str]:
    """What the browser complained about on ``page``: console errors (CSP violations among
    them), failed requests and answers with an error status."""
    return []


@pytest.fixture
def page(context: BrowserContext, problems: list[str]) -> Page:
    page = context.new_page()
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("requestfailed", lambda request: None if icon_left(request) else problems.append(f"failed: {request.url}"))
    page.on(
        "response",
        lambda response: problems.append(f"{response.status}: {response.url}") if response.status >= 400 else None,
    )
    return page


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def supplier_kaliningrad(db: None) -> Supplier:
    return supplier_create(**SUPPLIER_KALININGRAD)
