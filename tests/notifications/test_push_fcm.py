"""Push through FCM HTTP v1, against a local server that speaks its protocol and Google's
OAuth 2.0 token endpoint: the service account's signed assertion exchanged for a token, the
token on each send, the answers FCM gives and what the delivery log makes of them."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import sys
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pytest_django.fixtures import Settings

from abonent.core import clock
from abonent.identity.models import User
from abonent.notifications.enums import Channel, DeliveryStatus, Kind, Provider, PushPlatform
from abonent.notifications.models import Delivery, OutboxMessage, PushDevice
from abonent.notifications.services import (
    FIRST_RETRY_DELAY,
    MAX_ATTEMPTS,
    Occasion,
    Recipient,
    SweepSummary,
    deliveries_retry_due,
    message_send,
    notify_many,
    push_device_register,
)
from tests.conftest import free_port
from tests.web.identity import user_make

pytestmark = pytest.mark.django_db

Capture = Callable[..., AbstractContextManager[Any]]
T0 = dt.datetime(2026, 11, 22, 9, 0, tzinfo=dt.UTC)  # 12:00 in Moscow
PROJECT = "abonent-test"
CLIENT_EMAIL = "push-sender@abonent-test.iam.gserviceaccount.com"
SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
TOKEN = "fQ3b9Zx0R0u-device:APA91bHk_7Xc.Qp2"
NAME = f"projects/{PROJECT}/messages/0:1763802000000000%31bd1c9631bd1c96"
PRIVATE_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PUBLIC_PEM = PRIVATE_KEY.public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
)


@dataclass
class Answer:
    """What the fake answers one send: an HTTP status and a JSON body (or raw bytes)."""

    status: int
    body: Any = None
    raw: bytes | None = None
    delay: float = 0.0


def fcm_error(status: int, grpc: str, message: str, code: str | None = None) -> Answer:
    details = [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": code}] if code else []
    return Answer(status, {"error": {"code": status, "message": message, "status": grpc, "details": details}})


@dataclass
class FcmRequest:
    path: str
    authorization: str
    content_type: str
    body: Any


@dataclass
class TokenRequest:
    content_type: str
    form: dict[str, list[str]]
    header: dict[str, Any] = field(default_factory=dict)
    claims: dict[str, Any] = field(default_factory=dict)
    error: str = ""


class FakeFcm:
    """The FCM HTTP v1 send method and Google's token endpoint on one local port.

    The token endpoint checks the assertion (RS256 with the service account's key, its iss,
    scope and aud) and issues ``ya29.token-<n>``; a send needs the bearer of a token issued
    and not revoked (``revoke``: the next sends with it get 401). Knobs: ``answers`` (a queue
    of answers to the next sends, then success), ``unregistered`` (device tokens FCM no
    longer knows), ``token_answer`` (the token endpoint's answer instead of a token)."""

    def __init__(self) -> None:
        self.sends: list[FcmRequest] = []
        self.token_requests: list[TokenRequest] = []
        self.answers: list[Answer] = []
        self.unregistered: set[str] = set()
        self.token_answer: Answer | None = None
        self.issued: list[str] = []
        self.revoked: set[str] = set()
        self.token_path = f"/token/{secrets.token_hex(4)}"
        self.closing = threading.Event()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.handle_error = self._handle_error  # type: ignore[method-assign]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    @property
    def token_uri(self) -> str:
        # a path of its own: the sender keeps tokens per token_uri for the process, and a
        # later test's server may get this one's port
        return f"{self.url}{self.token_path}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.closing.set()
        self._server.shutdown()
        self._server.server_close()

    def revoke(self) -> None:
        self.revoked.update(self.issued)

    def _handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            ThreadingHTTPServer.handle_error(self._server, request, client_address)

    def token(self, content_type: str, raw: bytes) -> Answer:
        form = urllib.parse.parse_qs(raw.decode("ascii"))
        request = TokenRequest(content_type=content_type, form=form)
        with self._lock:
            self.token_requests.append(request)
        if self.token_answer is not None:
            return self.token_answer
        try:
            assertion = form["assertion"][0]
            request.header = jwt.get_unverified_header(assertion)
            request.claims = jwt.decode(
                assertion, PUBLIC_PEM, algorithms=["RS256"], audience=self.token_uri, issuer=CLIENT_EMAIL
            )
        except (KeyError, jwt.PyJWTError) as exc:
            request.error = repr(exc)
            return Answer(400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."})
        with self._lock:
            token = f"ya29.token-{len(self.issued) + 1}"
            self.issued.append(token)
        return Answer(200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"})

    def send(self, path: str, authorization: str, content_type: str, raw: bytes) -> Answer:
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw
        with self._lock:
            self.sends.append(FcmRequest(path, authorization, content_type, body))
            answer = self.answers.pop(0) if self.answers else None
        bearer = authorization.removeprefix("Bearer ")
        if bearer not in self.issued or bearer in self.revoked:
            return fcm_error(
                401,
                "UNAUTHENTICATED",
                "Request had invalid authentication credentials. Expected OAuth 2 access token.",
            )
        if path != f"/v1/projects/{PROJECT}/messages:send":
            return fcm_error(404, "NOT_FOUND", "Requested entity was not found.")
        if isinstance(body, dict) and body.get("message", {}).get("token") in self.unregistered:
            return fcm_error(404, "NOT_FOUND", "Requested entity was not found.", "UNREGISTERED")
        if answer is not None:
            return answer
        return Answer(200, {"name": NAME})

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                content_type = self.headers.get("Content-Type", "")
                if self.path == fake.token_path:
                    answer = fake.token(content_type, raw)
                else:
                    answer = fake.send(self.path, self.headers.get("Authorization", ""), content_type, raw)
                if answer.delay:
                    fake.closing.wait(answer.delay)
                body = answer.raw if answer.raw is not None else json.dumps(answer.body).encode("utf-8")
                self.send_response(answer.status)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


def key_file(path: Path, token_uri: str) -> Path:
    """A service account key as the Firebase console gives it."""
    pem = PRIVATE_KEY.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": PROJECT,
                "private_key_id": "3f1d9e0c2b7a",
                "private_key": pem,
                "client_email": CLIENT_EMAIL,
                "client_id": "104729384756102938475",
                "auth_uri": "https://accounts.google.com/o/oauth2/auth",
                "token_uri": token_uri,
            }
        ),
        encoding="utf-8",
    )
    return path


@pytest.fixture
def fcm(settings: Settings, tmp_path: Path) -> Iterator[FakeFcm]:
    """A running FCM and token endpoint that abonent sends its push notifications to."""
    fake = FakeFcm()
    fake.start()
    settings.PUSH_PROVIDER = "fcm"
    settings.FCM_CREDENTIALS = str(key_file(tmp_path / "service-account.json", fake.token_uri))
    settings.FCM_API_URL = fake.url
    settings.PUSH_TIMEOUT = 5
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture(autouse=True)
def _held_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "now", lambda: T0)


@pytest.fixture
def user(db: None) -> User:
    user = user_make(email="maria@example.org")
    push_device_register(user=user, platform=PushPlatform.FCM, token=TOKEN, name="Pixel 8", now=T0)
    return user


def push(capture: Capture, user: User, period: str = "октябрь 2026") -> Delivery:
    """The bill's notification to the user's phones, sent as its transaction commits; its
    delivery to the phone of ``TOKEN``."""
    occasion = Occasion(
        recipient=Recipient(user_id=user.pk),
        key=f"bill:7:{period}",
        values={"period": period, "account": "770000000001", "amount": "1 234,56 ₽", "due_date": "15.11.2026"},
        account_id=7,
    )
    with capture(execute=True):
        notify_many(kind=Kind.BILL_READY, occasions=[occasion], supplier=None, now=T0)
    return Delivery.objects.get(recipient=TOKEN, notification__occasion=occasion.key)


def state(delivery: Delivery) -> tuple[str, int, dt.datetime | None, str, str]:
    delivery.refresh_from_db()
    return (delivery.status, delivery.attempts, delivery.next_attempt_at, delivery.provider, delivery.last_error)


def test_a_push_goes_to_fcm_with_a_token_from_the_service_account(
    fcm: FakeFcm, user: User, django_capture_on_commit_callbacks: Capture
) -> None:
    delivery = push(django_capture_on_commit_callbacks, user)

    [token_request] = fcm.token_requests
    assert token_request.error == ""
    assert token_request.content_type == "application/x-www-form-urlencoded"
    assert token_request.form["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
    assert token_request.header == {"alg": "RS256", "typ": "JWT"}
    claims = token_request.claims
    assert (claims["iss"], claims["scope"], claims["aud"], claims["exp"] - claims["iat"]) == (
        CLIENT_EMAIL,
        SCOPE,
        fcm.token_uri,
        3600,
    )
    [send] = fcm.sends
    assert (send.path, send.authorization, send.content_type) == (
        f"/v1/projects/{PROJECT}/messages:send",
        "Bearer ya29.token-1",
        "application/json; charset=utf-8",
    )
    assert send.body == {
        "message": {
            "token": TOKEN,
            "notification": {
                "title": "Квитанция за октябрь 2026",
                "body": "Квитанция за октябрь 2026 по л/с 770000000001: к оплате 1 234,56 ₽ до 15.11.2026.",
            },
            "data": {"kind": "bill_ready", "notification_id": str(delivery.notification_id), "account_id": "7"},
            "android": {"priority": "high"},
            "apns": {"payload": {"aps": {"sound": "default"}}},
        }
    }
    delivery.refresh_from_db()
    assert (
        delivery.status,
        delivery.attempts,
        delivery.provider,
        delivery.provider_message_id,
        delivery.sent_at,
        delivery.body,
        delivery.body_purged,
        delivery.last_error,
    ) == (DeliveryStatus.SENT, 1, Provider.FCM, NAME, T0, "", True, "")
    assert OutboxMessage.objects.count() == 0


def test_the_token_is_reused_until_it_expires(
    fcm: FakeFcm, user: User, django_capture_on_commit_callbacks: Capture
) -> None:
    push(django_capture_on_commit_callbacks, user, "октябрь 2026")
    push(django_capture_on_commit_callbacks, user, "ноябрь 2026")

    assert len(fcm.token_requests) == 1
    assert [s.authorization for s in fcm.sends] == ["Bearer ya29.token-1", "Bearer ya29.token-1"]
    assert [s.body["message"]["notification"]["title"] for s in fcm.sends] == [
        "Квитанция за октябрь 2026",
        "Квитанция за ноябрь 2026",
    ]


def test_an_unregistered_token_fails_the_delivery_and_the_device_is_forgotten(
    fcm: FakeFcm, user: User, django_capture_on_commit_callbacks: Capture
) -> None:
    fcm.unregistered = {TOKEN}
    other = push_device_register(user=user, platform=PushPlatform.FCM, token="another-phone", now=T0)

    delivery = push(django_capture_on_commit_callbacks, user)

    assert state(delivery) == (
        DeliveryStatus.FAILED,
        1,
        None,
        Provider.FCM,
        "FCM отклонил сообщение: HTTP 404 UNREGISTERED Requested entity was not found.",
    )
    assert list(PushDevice.objects.values_list("pk", flat=True)) == [other.pk]
    assert Delivery.objects.get(recipient="another-phone").status == DeliveryStatus.SENT
    assert deliveries_retry_due(now=T0 + dt.timedelta(days=1)) == SweepSummary()


def test_a_sender_id_mismatch_forgets_the_device_too(
    fcm: FakeFcm, user: User, django_capture_on_commit_callbacks: Capture
) -> None:
    fcm.answers = [fcm_error(403, "PERMISSION_DENIED", "SenderId mismatch", "SENDER_ID_MISMATCH")]

    delivery = push(django_capture_on_commit_callbacks, user)

    assert state(delivery)[:2] == (DeliveryStatus.FAILED, 1)
    assert PushDevice.objects.count() == 0


def test_a_refused_message_fails_at_once_and_the_device_stays(
    fcm: FakeFcm, user: User, django_capture_on_commit_callbacks: Capture
) -> None:
    fcm.answers = [
        fcm_error(400, "INVALID_ARGUMENT", "Invalid value at 'message.data'", "INVALID_ARGUMENT"),
    ]

    delivery = push(django_capture_on_commit_callbacks, user)

    assert state(delivery) == (
        DeliveryStatus.FAILED,
        1,
        None,
        Provider.FCM,
        "FCM отклонил сообщение: HTTP 400 INVALID_ARGUMENT Invalid value at 'message.data'",
    )
    assert PushDevice.objects.count() == 1
    assert deliveries_retry_due(now=T0 + dt.timedelta(days=1)) == SweepSummary()
    assert len(fcm.sends) == 1


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (
            fcm_error(429, "RESOURCE_EXHAUSTED", "Quota exceeded for the device", "QUOTA_EXCEEDED"),
            "FCM отклонил сообщение: HTTP 429 QUOTA_EXCEEDED Quota exceeded for the device",
        ),
        (
            fcm_error(503, "UNAVAILABLE", "The service is currently unavailable.", "UNAVAILABLE"),
            "FCM отклонил сообщение: HTTP 503 UNAVAILABLE The service is currently unavailable.",
        ),
        (
            fcm_error(500, "INTERNAL", "Internal error encountered.", "INTERNAL"),
            "FCM отклонил сообщение: HTTP 500 INTERNAL Internal error encountered.",
        ),
        (
            fcm_error(401, "UNAUTHENTICATED", "Auth error from APNS or Web Push Service", "THIRD_PARTY_AUTH_ERROR"),
            "FCM отклонил сообщение: HTTP 401 THIRD_PARTY_AUTH_ERROR Auth error from APNS or Web Push Service",
        ),
        (
            Answer(502, raw=b"<html><title>502 Bad Gateway</title></html>"),
            "FCM отклонил сообщение: HTTP 502",
        ),
    ],
)
def test_a_transient_refusal_is_retried_with_a_growing_pause_and_fails_after_the_last_attempt(
    fcm: FakeFcm, user: User, django_capture_on_commit_callbacks: Capture, answer: Answer, error: str
) -> None:
    fcm.answers = [answer] * MAX_ATTEMPTS

    delivery = push(django_capture_on_commit_callbacks, user)

    moment = T0
    for attempt in range(1, MAX_ATTEMPTS):
        pause = FIRST_RETRY_DELAY * 2 ** (attempt - 1)  # 1, 2, 4, 8, 16 minutes
        assert state(delivery) == (DeliveryStatus.RETRYING, attempt, moment + pause, Provider.FCM, error)
        assert delivery.body == "Квитанция за октябрь 2026 по л/с 770000000001: к оплате 1 234,56 ₽ до 15.11.2026."
        assert deliveries_retry_due(now=moment + pause - dt.timedelta(seconds=1)) == SweepSummary()
        moment += pause
        expected = SweepSummary(failed=1) if attempt == MAX_ATTEMPTS - 1 else SweepSummary(retrying=1)
        assert deliveries_retry_due(now=moment) == expected

    assert state(delivery) == (DeliveryStatus.FAILED, MAX_ATTEMPTS, None, Provider.FCM, error)
    assert (delivery.body, delivery.body_purged, delivery.last_attempt_at) == ("", True, moment)
    assert len(fcm.sends) == MAX_ATTEMPTS
    assert len(fcm.token_requests) == 1  # the token was good all along
    assert PushDevice.objects.count() == 1


def test_a_refused_access_token_is_dropped_and_a_new_one_fetched_for_the_next_attempt(
    fcm: FakeFcm, user: User, django_capture_on_commit_callbacks: Capture
) -> None:
    push(django_capture_on_commit_callbacks, user, "октябрь 2026")
    fcm.revoke()  # the key was rotated, say

    delivery = push(django_capture_on_commit_callbacks, user, "ноябрь 2026")

    assert state(delivery) == (
        DeliveryStatus.RETRYING,
        1,
        T0 + FIRST_RETRY_DELAY,
        Provider.FCM,
        "FCM отклонил сообщение: HTTP 401 UNAUTHENTICATED Request had invalid authentication credentials. "
        "Expected OAuth 2 access token.",
    )
    assert len(fcm.token_requests) == 1

    assert deliveries_retry_due(now=T0 + FIRST_RETRY_DELAY) == SweepSummary(sent=1)

    assert len(fcm.token_requests) == 2
    assert [s.authorization for s in fcm.sends] == ["Bearer ya29.token-1"] * 2 + ["Bearer ya29.token-2"]
    assert state(delivery)[:2] == (DeliveryStatus.SENT, 2)


def test_a_token_endpoint_that_is_down_means_a_retry_and_nothing_sent_meanwhile(
    fcm: FakeFcm, user: User, django_capture_on_commit_callbacks: Capture
) -> None:
    fcm.token_answer = Answer(503, {"error": "temporarily_unavailable"})

    delivery = push(django_capture_on_commit_callbacks, user)

    assert state(delivery) == (
        DeliveryStatus.RETRYING,
        1,
        T0 + FIRST_RETRY_DELAY,
        Provider.FCM,
        'сервер токенов Google не выдал токен (HTTP 503): {"error": "temporarily_unavailable"}',
    )
    assert fcm.sends == []

    fcm.token_answer = None
    assert deliveries_retry_due(now=T0 + FIRST_RETRY_DELAY) == SweepSummary(sent=1)
    assert [s.authorization for s in fcm.sends] == ["Bearer ya29.token-1"]


def test_a_token_endpoint_nobody_listens_at_means_a_retry(
    settings: Settings, tmp_path: Path, user: User, django_capture_on_commit_callbacks: Capture
) -> None:
    port = free_port()
    settings.PUSH_PROVIDER = "fcm"
    settings.FCM_CREDENTIALS = str(key_file(tmp_path / "key.json", f"http://127.0.0.1:{port}/token"))
    settings.FCM_API_URL = f"http://127.0.0.1:{port}"

    delivery = push(django_capture_on_commit_callbacks, user)

    assert state(delivery) == (
        DeliveryStatus.RETRYING,
        1,
        T0 + FIRST_RETRY_DELAY,
        Provider.FCM,
        f"нет связи с сервер токенов Google (http://127.0.0.1:{port}/token): [Errno 111] Connection refused",
    )


def test_fcm_that_does_not_answer_in_time_means_a_retry(
    fcm: FakeFcm, settings: Settings, user: User, django_capture_on_commit_callbacks: Capture
) -> None:
    settings.PUSH_TIMEOUT = 1
    fcm.answers = [Answer(200, {"name": NAME}, delay=3)]

    delivery = push(django_capture_on_commit_callbacks, user)

    assert state(delivery) == (
        DeliveryStatus.RETRYING,
        1,
        T0 + FIRST_RETRY_DELAY,
        Provider.FCM,
        "FCM не ответил за 1 с",
    )


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (Answer(200, raw=b"<html>OK</html>"), "FCM ответил не JSON: b'<html>OK</html>'"),
        (Answer(200, {"ok": True}), 'FCM не вернул имя сообщения: {"ok": true}'),
    ],
)
def test_an_answer_that_is_not_what_fcm_gives_means_a_retry(
    fcm: FakeFcm, user: User, django_capture_on_commit_callbacks: Capture, answer: Answer, error: str
) -> None:
    fcm.answers = [answer]

    delivery = push(django_capture_on_commit_callbacks, user)

    assert state(delivery) == (DeliveryStatus.RETRYING, 1, T0 + FIRST_RETRY_DELAY, Provider.FCM, error)
    assert deliveries_retry_due(now=T0 + FIRST_RETRY_DELAY) == SweepSummary(sent=1)


def test_a_push_through_the_outbox_files_it_as_the_phone_would_show_it(
    settings: Settings, user: User, django_capture_on_commit_callbacks: Capture
) -> None:
    settings.PUSH_PROVIDER = "outbox"

    delivery = push(django_capture_on_commit_callbacks, user)

    message = OutboxMessage.objects.get()
    assert (message.channel, message.recipient, message.subject, message.body, message.attachment_name) == (
        Channel.PUSH,
        TOKEN,
        "Квитанция за октябрь 2026",
        "Квитанция за октябрь 2026 по л/с 770000000001: к оплате 1 234,56 ₽ до 15.11.2026.",
        "",
    )
    delivery.refresh_from_db()
    assert (delivery.status, delivery.provider, delivery.provider_message_id) == (
        DeliveryStatus.SENT,
        Provider.OUTBOX,
        f"outbox-{message.pk}",
    )


def test_a_push_logged_directly_goes_out_the_same_way(
    fcm: FakeFcm, django_capture_on_commit_callbacks: Capture
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        delivery = message_send(
            channel=Channel.PUSH, recipient=TOKEN, subject="Проверка", body="Тестовое уведомление", now=T0
        )

    assert state(delivery)[:4] == (DeliveryStatus.SENT, 1, None, Provider.FCM)
    assert fcm.sends[0].body["message"] == {
        "token": TOKEN,
        "notification": {"title": "Проверка", "body": "Тестовое уведомление"},
        "android": {"priority": "high"},
        "apns": {"payload": {"aps": {"sound": "default"}}},
    }
