from __future__ import annotations

from collections.abc import Iterator
from unittest.mock import patch

import pytest

from abonent.core.models import Supplier
from abonent.core.services import supplier_create
from abonent.identity.models import User
from tests.web.identity import Browser, CaptureCallbacks, Clock, consent_documents_publish, user_make
from tests.web.suppliers import SUPPLIER_KALININGRAD

CHROME_ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36"
)
FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"


@pytest.fixture
def supplier_kaliningrad(db: None) -> Supplier:
    return supplier_create(**SUPPLIER_KALININGRAD)


@pytest.fixture
def clock() -> Iterator[Clock]:
    """The portal's clock, standing at NOW until the test moves it."""
    fake = Clock()
    with patch("abonent.core.clock.now", fake):
        yield fake


@pytest.fixture
def browser(db: None, clock: Clock, django_capture_on_commit_callbacks: CaptureCallbacks) -> Browser:
    consent_documents_publish()
    return Browser(django_capture_on_commit_callbacks, user_agent=CHROME_ANDROID)


@pytest.fixture
def other_browser(db: None, clock: Clock, django_capture_on_commit_callbacks: CaptureCallbacks) -> Browser:
    """The same person on another device."""
    return Browser(django_capture_on_commit_callbacks, ip="198.51.100.7", user_agent=FIREFOX_WINDOWS)


@pytest.fixture
def maria(db: None) -> User:
    return user_make()
