"""Real outside servers for the delivery tests: an SMTP server (aiosmtpd) and an HTTP server
that speaks the SMS.ru API, both on local ports, plus the settings that point abonent at them."""

from __future__ import annotations

import email
import email.policy
import json
import re
import sys
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from pytest_django.fixtures import Settings

from tests.conftest import free_port

SMSRU_API_ID = "0A1B2C3D-TEST-API-ID"


# --- SMTP -----------------------------------------------------------------------------------


class SmtpRecorder:
    """An aiosmtpd handler that keeps every message; ``refuse_recipient`` answers RCPT TO with
    that reply instead of accepting."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []
        self.refuse_recipient: str | None = None

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if self.refuse_recipient:
            return self.refuse_recipient
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 2.0.0 Ok: queued"


class SmtpServer:
    """A real SMTP server on 127.0.0.1:``port``, started and stopped by the test."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.handler = SmtpRecorder()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=port)
        self.running = False

    def start(self) -> None:
        self.controller.start()
        self.running = True

    def stop(self) -> None:
        if self.running:
            self.controller.stop()
            self.running = False

    @property
    def envelopes(self) -> list[Envelope]:
        return self.handler.envelopes

    @property
    def messages(self) -> list[EmailMessage]:
        """The messages as received, lines ending in \\n (SMTP carries them with \\r\\n)."""
        return [
            email.message_from_bytes(
                bytes(e.original_content or b"").replace(b"\r\n", b"\n"), policy=email.policy.default
            )
            for e in self.envelopes
        ]


def use_smtp(settings: Settings, port: int) -> None:
    """Point Django's SMTP backend at 127.0.0.1:``port`` (the test runner swaps in locmem)."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    settings.DEFAULT_FROM_EMAIL = "abonent <noreply@localhost>"


@pytest.fixture
def smtp_server(settings: Settings) -> Iterator[SmtpServer]:
    """A running SMTP server that abonent sends its e-mail to."""
    server = SmtpServer(free_port())
    server.start()
    use_smtp(settings, server.port)
    try:
        yield server
    finally:
        server.stop()


# --- SMS.ru ---------------------------------------------------------------------------------


@dataclass
class SmsRuRequest:
    method: str
    path: str
    content_type: str
    form: dict[str, list[str]]


_NUMBER = re.compile(r"7\d{10}")
_STATUS_TEXT = {
    200: "Неправильный api_id",
    202: "Неправильно указан номер телефона получателя, либо на него нет маршрута",
    203: "Нет текста сообщения",
    210: "Используется GET, где необходимо использовать POST",
    211: "Метод не найден",
    212: "Текст сообщения необходимо передать в кодировке UTF-8 (вы передали в другой кодировке)",
}


class FakeSmsRu:
    """The ``/sms/send`` method of SMS.ru as its documentation describes it, over real HTTP.

    Every request is recorded (also the ones answered with a failure). Knobs for the failure
    paths: ``http_status`` answers that status, ``raw_answer`` answers those bytes with 200,
    ``delay`` waits that many seconds first, ``hold`` waits until the event is set, ``error``
    answers the (code, text) as an error of the request (``error_level="request"``) or of
    each number (``"number"``), ``hold_first_only`` holds only the first request.
    """

    def __init__(self, api_id: str = SMSRU_API_ID) -> None:
        self.api_id = api_id
        self.requests: list[SmsRuRequest] = []
        self.http_status: int | None = None
        self.raw_answer: bytes | None = None
        self.delay = 0.0
        self.hold: threading.Event | None = None
        self.hold_first_only = False
        self.holding = threading.Event()
        self.error: tuple[int, str] | None = None
        self.error_level = "number"
        self.balance = 4122.56
        self.sms_ids = 10_000_000
        self.closing = threading.Event()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.handle_error = self._handle_error  # type: ignore[method-assign]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.closing.set()
        if self.hold is not None:
            self.hold.set()
        self._server.shutdown()
        self._server.server_close()

    def _handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up on a slow answer (the timeout test) is expected; anything else is a bug.
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            ThreadingHTTPServer.handle_error(self._server, request, client_address)

    def answer(self, method: str, path: str, content_type: str, raw: bytes) -> tuple[int, bytes]:
        """What SMS.ru answers to one request: (HTTP status, body)."""
        try:
            form = urllib.parse.parse_qs(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(raw))
        except (UnicodeDecodeError, ValueError):
            form = {}
            bad_encoding = True
        else:
            bad_encoding = False
        with self._lock:
            self.requests.append(SmsRuRequest(method, path, content_type, form))
            hold = self.hold
            first = len(self.requests) == 1
        if hold is not None and (first or not self.hold_first_only):
            self.holding.set()
            hold.wait(timeout=30)
        if self.delay:
            self.closing.wait(self.delay)
        if self.http_status is not None:
            return self.http_status, b"<html><body>Service Unavailable</body></html>"
        if self.raw_answer is not None:
            return 200, self.raw_answer
        if path != "/sms/send":
            return 200, self._error(211)
        if method != "POST":
            return 200, self._error(210)
        if bad_encoding:
            return 200, self._error(212)
        if form.get("api_id") != [self.api_id]:
            return 200, self._error(200)
        if self.error is not None and self.error_level == "request":
            return 200, self._json({"status": "ERROR", "status_code": self.error[0], "status_text": self.error[1]})
        if not form.get("msg", [""])[0]:
            return 200, self._error(203)
        sms: dict[str, Any] = {}
        for number in form.get("to", [""])[0].split(","):
            if self.error is not None:
                sms[number] = {"status": "ERROR", "status_code": self.error[0], "status_text": self.error[1]}
            elif not _NUMBER.fullmatch(number):
                sms[number] = {"status": "ERROR", "status_code": 202, "status_text": _STATUS_TEXT[202]}
            else:
                with self._lock:
                    self.sms_ids += 1
                    self.balance = round(self.balance - 1.75, 2)
                    sms_id = f"000000-{self.sms_ids}"
                sms[number] = {"status": "OK", "status_code": 100, "sms_id": sms_id}
        return 200, self._json({"status": "OK", "status_code": 100, "sms": sms, "balance": self.balance})

    def _error(self, code: int) -> bytes:
        return self._json({"status": "ERROR", "status_code": code, "status_text": _STATUS_TEXT[code]})

    @staticmethod
    def _json(value: Any) -> bytes:
        return json.dumps(value, ensure_ascii=False).encode("utf-8")

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                path = urllib.parse.urlsplit(self.path).path
                status, body = fake.answer(self.command, path, self.headers.get("Content-Type", ""), raw)
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8" if status == 200 else "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = _serve
            do_POST = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


@pytest.fixture
def smsru(settings: Settings) -> Iterator[FakeSmsRu]:
    """A running SMS.ru endpoint that abonent sends its SMS to."""
    fake = FakeSmsRu()
    fake.start()
    settings.SMS_PROVIDER = "smsru"
    settings.SMSRU_URL = fake.url
    settings.SMSRU_API_ID = SMSRU_API_ID
    settings.SMSRU_FROM = ""
    settings.SMS_TIMEOUT = 5
    try:
        yield fake
    finally:
        fake.stop()


# --- Files ----------------------------------------------------------------------------------


@pytest.fixture
def media(settings: Settings, tmp_path: Any) -> Any:
    """The default storage in a directory of the test's own."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"
