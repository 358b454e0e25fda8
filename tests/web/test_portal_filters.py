"""The filters of the profile pages: phones the Russian way, browsers by name."""

from __future__ import annotations

import pytest

from abonent.identity.enums import SessionKind
from abonent.identity.models import AuthSession
from abonent.web.templatetags.portal import browser_name, phone_ru


@pytest.mark.parametrize(
    ("stored", "shown"),
    [("+79123456789", "+7 912 345-67-89"), ("+4915112345678", "+4915112345678"), ("", ""), (None, "")],
)
def test_phone_ru(stored: str | None, shown: str) -> None:
    assert phone_ru(stored) == shown


@pytest.mark.parametrize(
    ("agent", "name"),
    [
        ("Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/131.0 Mobile Safari/537.36", "Chrome"),
        ("Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 Chrome/131.0 Safari/537.36 Edg/131.0", "Microsoft Edge"),
        ("Mozilla/5.0 (Linux; Android 13) Chrome/130.0 YaBrowser/24.10 Mobile Safari/537.36", "Яндекс Браузер"),
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) Version/18.1 Mobile/15E148 Safari/604.1", "Safari"),
        ("Mozilla/5.0 (Windows NT 10.0; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox"),
        ("curl/8.5.0", "браузер"),
    ],
)
def test_browser_name(agent: str, name: str) -> None:
    assert browser_name(AuthSession(kind=SessionKind.WEB, user_agent=agent)) == name


def test_an_app_session_is_the_mobile_app() -> None:
    assert browser_name(AuthSession(kind=SessionKind.APP, user_agent="abonent-android/1.0")) == "мобильное приложение"
