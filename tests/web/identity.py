"""What the identity tests of the portal share: a clock the test moves, a browser (the test
client) whose messages are sent as on a real commit, people with profiles, the codes they get."""

from __future__ import annotations

import datetime as dt
import importlib
import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from django.core import mail
from django.http import HttpResponse
from django.test import Client

from abonent.identity.models import ConsentDocument, User
from abonent.notifications.enums import Channel
from abonent.notifications.models import OutboxMessage

NOW = dt.datetime(2026, 11, 22, 9, 0, tzinfo=dt.UTC)  # 12:00 in Moscow, at the start of a 15-minute window
PASSWORD = "Зелёный-чайник-42"
NEW_PASSWORD = "Синий-самовар-1948"
PHONE = "+79123456789"
EMAIL = "maria@example.org"
IP = "203.0.113.5"


class Clock:
    """The clock the portal reads (``abonent.core.clock.now``), standing still until moved."""

    def __init__(self, at: dt.datetime = NOW) -> None:
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at

    def advance(self, **delta: float) -> dt.datetime:
        self.at += dt.timedelta(**delta)
        return self.at


CaptureCallbacks = Callable[..., AbstractContextManager[Any]]


class Browser:
    """A test client that runs what a request leaves for its commit (the SMS and e-mail
    deliveries) as the real server would: the test's transaction never commits."""

    def __init__(self, capture: CaptureCallbacks, *, ip: str = IP, user_agent: str = "") -> None:
        self.client = Client(REMOTE_ADDR=ip, HTTP_USER_AGENT=user_agent)
        self.capture = capture

    def get(self, path: str, **extra: Any) -> HttpResponse:
        with self.capture(execute=True):
            return self.client.get(path, **extra)  # type: ignore[return-value]

    def post(self, path: str, data: dict[str, Any] | None = None, **extra: Any) -> HttpResponse:
        with self.capture(execute=True):
            return self.client.post(path, data or {}, **extra)  # type: ignore[return-value]

    @property
    def session(self) -> Any:
        return self.client.session

    @property
    def cookies(self) -> Any:
        return self.client.cookies


def consent_documents_publish() -> None:
    """The consent texts the migration publishes. A transactional test (the browser tests)
    empties every table when it ends, and a test run after it on the same worker would find
    none: the tests that need them make sure they are there."""
    migration = importlib.import_module("abonent.identity.migrations.0003_consent_documents")
    for kind, text, purpose in (
        (
            "personal_data",
            migration.PERSONAL_DATA,
            "Регистрация и работа личного кабинета, исполнение договора газоснабжения",
        ),
        ("marketing", migration.MARKETING, "Информационные и рекламные сообщения поставщика газа"),
    ):
        ConsentDocument.objects.get_or_create(
            kind=kind,
            version="2026-11-01",
            defaults={"purpose": purpose, "text": text, "effective_from": migration.EFFECTIVE},
        )


def user_make(*, phone: str | None = PHONE, email: str | None = None, password: str = PASSWORD, **fields: Any) -> User:
    """An active profile, its contacts confirmed."""
    user = User(
        username=f"u-{phone or email}",
        phone=phone,
        email=email,
        is_active=True,
        phone_confirmed_at=NOW - dt.timedelta(days=30) if phone else None,
        email_confirmed_at=NOW - dt.timedelta(days=30) if email else None,
        **fields,
    )
    user.set_password(password)
    user.save()
    return user


def sms_bodies(phone: str) -> list[str]:
    """The texts of the SMS "sent" to ``phone``, oldest first."""
    return list(
        OutboxMessage.objects.filter(channel=Channel.SMS, recipient=phone).order_by("id").values_list("body", flat=True)
    )


def emails_to(address: str) -> list[mail.EmailMessage]:
    return [m for m in mail.outbox if address in m.to]


def code_in(text: str) -> str:
    match = re.search(r"\b(\d{6})\b", text)
    assert match is not None, text
    return match.group(1)


def last_sms_code(phone: str) -> str:
    bodies = sms_bodies(phone)
    assert bodies, f"no SMS to {phone}"
    return code_in(bodies[-1])


def wrong_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"
