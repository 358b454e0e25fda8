"""The API as a mobile app sees it: JSON requests with a bearer token, a clock the test moves,
and the messages a person would receive (SMS in the outbox, e-mail in Django's mail outbox).

Messages are sent after the transaction commits; every request here runs its commit
callbacks, so a test sees exactly what would have been delivered.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from django.apps import apps as django_apps
from django.core import mail
from django.test import Client
from pytest_django import DjangoCaptureOnCommitCallbacks

from abonent.identity.enums import AuthChannel
from abonent.identity.models import User
from abonent.identity.services import registration_confirm, registration_start
from abonent.notifications.models import OutboxMessage

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

NOW = dt.datetime(2026, 11, 22, 10, 0, tzinfo=dt.UTC)
PASSWORD = "Зелёный-чайник-42"
IP = "203.0.113.7"
PROBLEM_KEYS = {"type", "title", "status", "detail", "instance", "code"}


@pytest.fixture(autouse=True)
def _consent_documents(db: None) -> None:
    """The consent texts the identity data migration publishes. A transactional test run
    earlier on the same worker flushes every table, migration data included."""
    migration = importlib.import_module("abonent.identity.migrations.0003_consent_documents")
    migration.forwards(django_apps, None)


class FakeClock:
    """``abonent.core.clock.now``, the only clock interfaces read, held still and moved by hand."""

    def __init__(self, now: dt.datetime) -> None:
        self.current = now

    def __call__(self) -> dt.datetime:
        return self.current

    def advance(self, **delta: float) -> dt.datetime:
        self.current += dt.timedelta(**delta)
        return self.current


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock(NOW)
    monkeypatch.setattr("abonent.core.clock.now", fake)
    return fake


class Api:
    """JSON calls to /api/v1 from one address, with commit callbacks run (messages sent)."""

    def __init__(self, client: Client, capture: DjangoCaptureOnCommitCallbacks) -> None:
        self.client = client
        self.capture = capture

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = None,
        raw: str | None = None,
        ip: str = IP,
        user_agent: str = "abonent-android/3.1 (Android 14)",
    ) -> Response:
        data = raw if raw is not None else (json.dumps(body) if body is not None else "")
        headers = {"User-Agent": user_agent}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        with self.capture(execute=True):
            response: Response = self.client.generic(
                method, "/api/v1" + path, data, content_type="application/json", headers=headers, REMOTE_ADDR=ip
            )
        return response

    def get(self, path: str, **kwargs: Any) -> Response:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Response:
        return self.call("POST", path, body, **kwargs)

    def put(self, path: str, body: Any = None, **kwargs: Any) -> Response:
        return self.call("PUT", path, body, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Response:
        return self.call("DELETE", path, **kwargs)


@pytest.fixture
def api(
    db: None, client: Client, clock: FakeClock, django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks
) -> Api:
    return Api(client, django_capture_on_commit_callbacks)


def problem(response: Response) -> dict[str, Any]:
    """The body of a problem+json answer, checked for the RFC 9457 shape."""
    assert response["Content-Type"] == "application/problem+json"
    body: dict[str, Any] = json.loads(response.content)
    assert set(body) >= PROBLEM_KEYS
    assert body["status"] == response.status_code
    assert body["type"] == "urn:abonent:problem:" + body["code"]
    return body


# --- Messages ---------------------------------------------------------------------------


def sms_to(phone: str) -> list[str]:
    return list(
        OutboxMessage.objects.filter(channel="sms", recipient=phone).order_by("id").values_list("body", flat=True)
    )


def mail_to(address: str) -> list[mail.EmailMessage]:
    return [m for m in mail.outbox if address in m.to]


def messages_sent() -> int:
    """SMS in the outbox and e-mail in Django's outbox, together."""
    return OutboxMessage.objects.count() + len(mail.outbox)


def code_in(text: str) -> str:
    match = re.search(r"\b(\d{6})\b", text)
    assert match is not None, text
    return match.group(1)


def last_code(recipient: str) -> str:
    """The code in the latest message to a phone (SMS) or an address (e-mail)."""
    if "@" in recipient:
        messages = mail_to(recipient)
        assert messages, f"no e-mail to {recipient}"
        return code_in(str(messages[-1].body))
    texts = sms_to(recipient)
    assert texts, f"no SMS to {recipient}"
    return code_in(texts[-1])


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


# --- People -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Subscriber:
    user: User
    login: str
    password: str = PASSWORD


@pytest.fixture
def register(db: None, clock: FakeClock, django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks) -> Any:
    """Register and confirm a profile through the services, two hours before the test's now
    (so its code no longer limits new codes to the same contact)."""

    def make(login: str) -> Subscriber:
        at = clock.current - dt.timedelta(hours=2)
        with django_capture_on_commit_callbacks(execute=True):
            sent = registration_start(
                login=login,
                password=PASSWORD,
                personal_data_consent=True,
                marketing_consent=False,
                channel=AuthChannel.WEB,
                ip=None,
                now=at,
            )
        user = registration_confirm(login=login, code=last_code(sent.recipient), ip=None, now=at)
        mail.outbox.clear()
        OutboxMessage.objects.all().delete()
        return Subscriber(user=user, login=login)

    return make


@pytest.fixture
def subscriber(register: Any) -> Subscriber:
    """Мария, registered by phone +7 912 345-67-89."""
    return register("+79123456789")


@pytest.fixture
def mail_subscriber(register: Any) -> Subscriber:
    """Registered by e-mail ivanova@mail.ru."""
    return register("ivanova@mail.ru")


def login(api: Api, who: Subscriber, *, device_name: str = "Pixel 8", ip: str = IP) -> dict[str, Any]:
    """Log in through the API; the token pair."""
    response = api.post(
        "/auth/login", {"login": who.login, "password": who.password, "device_name": device_name}, ip=ip
    )
    assert response.status_code == 200, response.content
    pair: dict[str, Any] = response.json()
    return pair


@pytest.fixture
def tokens(api: Api, subscriber: Subscriber) -> dict[str, Any]:
    """The subscriber logged in on one device."""
    return login(api, subscriber)
