"""The YooKassa API v3 on a local port, as YooKassa's public documentation describes it, for
the tests of the YooKassa adapter over real HTTP (https://yookassa.ru/developers/api).

What it holds to, as the real one does:

- HTTP Basic auth with a shop's id and secret key, else 401 ``invalid_credentials``; a shop
  sees only its own payments and refunds (another shop's id is a 404).
- Every POST needs an ``Idempotence-Key`` (at most 64 characters), else 400. A repeat with
  the same key and the same body gets the answer of the first request again, whatever has
  happened to the payment since ("the result of the original request"); the same key with
  another body is refused: 400 ``invalid_request`` "Idempotence key duplicated". Only
  successful answers are kept: after a 5xx the same request is processed anew.
- A payment: the amount a decimal string of rubles, the currency RUB, a redirect
  confirmation with a return address, a description of at most 128 characters, metadata of
  at most 16 string keys, the method when given, and the receipt (the shop sends receipts
  through YooKassa, so a payment without one is refused): the payer's e-mail or phone (digits,
  ITU-T E.164), items whose sum is the payment's amount, each with a VAT code 1…12.
- A refund: of a succeeded payment, at most what is left of it; the receipt is required when
  the refund is partial; items summing to the refund.

What the tests drive: the payer's decision (:meth:`pay`, :meth:`decline`), the outcome of a
refund (:meth:`refund_succeed`), the next requests failing (:meth:`fail_next`: a 5xx or 429),
hanging past the client's timeout before or after the request is processed
(:meth:`hang_next`), or answered with whatever bytes (:meth:`answer_next`). Every request is
recorded with its headers and body (:attr:`requests`), and :meth:`notification` gives the
body YooKassa would post to our endpoint about an object as it is now.
"""

from __future__ import annotations

import base64
import binascii
import copy
import datetime as dt
import hashlib
import json
import re
import sys
import threading
import uuid
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.conftest import free_port

PREFIX = "/v3"
METHODS = ("bank_card", "sbp", "yoo_money", "sberbank", "tinkoff_bank")
SUBJECTS = ("commodity", "service", "job", "payment", "another")
MODES = ("full_prepayment", "partial_prepayment", "advance", "full_payment", "partial_payment", "credit")
_AMOUNT = re.compile(r"\d{1,12}(\.\d{1,2})?")
_PHONE = re.compile(r"\d{11,15}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@dataclass
class Recorded:
    """One request as it came, and the status it was answered with."""

    method: str
    path: str
    headers: dict[str, str]  # the names title-cased (HTTP's are case-insensitive): "Idempotence-Key"
    body: Any  # the decoded JSON, or None
    status: int = 0

    @property
    def idempotence_key(self) -> str | None:
        return self.headers.get("Idempotence-Key")


@dataclass
class Trouble:
    """What the next request gets instead of a proper answer."""

    status: int = 500
    raw: bytes | None = None  # the body to answer with; None: YooKassa's error object
    headers: dict[str, str] = field(default_factory=dict)
    hang: float = 0.0  # seconds to hold the answer (past the client's timeout)
    processed: bool = False  # when hanging: the request is processed, only its answer is late


class Invalid(Exception):
    """A request YooKassa refuses with 400 invalid_request."""

    def __init__(self, parameter: str, description: str) -> None:
        super().__init__(description)
        self.parameter = parameter
        self.description = description


def _now(at: dt.datetime | None = None) -> str:
    """A moment as YooKassa writes it: 2026-11-20T09:05:00.000Z."""
    moment = (at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _error(status: int, code: str, description: str, parameter: str = "") -> tuple[int, dict[str, Any]]:
    body = {"type": "error", "id": str(uuid.uuid4()), "code": code, "description": description}
    if parameter:
        body["parameter"] = parameter
    return status, body


class YooKassaServer:
    def __init__(self, shops: dict[str, str], *, port: int | None = None) -> None:
        self.shops = dict(shops)  # shop id: secret key
        self.payments: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.receipts: dict[str, dict[str, Any]] = {}  # the receipt sent with a payment or refund, by its id
        self.refund_status = "succeeded"  # what a new refund is: bank cards are refunded at once
        self.requests: list[Recorded] = []
        self._owner: dict[str, str] = {}  # payment or refund id: shop id
        self._capture: dict[str, bool] = {}  # payment id: captured when the payer confirms
        self._answers: dict[tuple[str, str], tuple[str, int, dict[str, Any]]] = {}  # (shop, key): (body hash, answer)
        self._troubles: list[Trouble] = []
        self._lock = threading.Lock()
        self.closing = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", port or free_port()), self._handler_class())
        self._server.handle_error = self._handle_error  # type: ignore[method-assign]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def api_url(self) -> str:
        """What YOOKASSA_API_URL is set to (https://api.yookassa.ru/v3 for the real one)."""
        return f"http://127.0.0.1:{self._server.server_port}{PREFIX}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.closing.set()
        self._server.shutdown()
        self._server.server_close()

    def _handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up on a late answer (the timeout tests) is expected; anything else is a bug.
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            ThreadingHTTPServer.handle_error(self._server, request, client_address)

    # --- what a test does -------------------------------------------------------------------

    def fail_next(self, count: int = 1, *, status: int = 500) -> None:
        """The next ``count`` requests are answered with ``status`` and YooKassa's error
        object, before anything is done."""
        with self._lock:
            self._troubles.extend(Trouble(status=status) for _ in range(count))

    def hang_next(self, count: int = 1, *, seconds: float = 5.0, processed: bool = False) -> None:
        """The next ``count`` requests are answered only after ``seconds``; ``processed``: the
        request is carried out at once (the payment exists), only its answer is late."""
        with self._lock:
            self._troubles.extend(Trouble(hang=seconds, processed=processed) for _ in range(count))

    def answer_next(self, raw: bytes, *, status: int = 200, headers: dict[str, str] | None = None) -> None:
        """The next request is answered with these bytes, whatever it asked."""
        with self._lock:
            self._troubles.append(Trouble(status=status, raw=raw, headers=dict(headers or {})))

    def pay(self, payment_id: str, *, method: str = "bank_card", at: dt.datetime | None = None) -> dict[str, Any]:
        """The payer confirmed on YooKassa's page (``at`` that moment, now when not given):
        the payment is captured at once (capture: true)."""
        with self._lock:
            payment = self.payments[payment_id]
            assert payment["status"] == "pending", payment["status"]
            payment_method = payment.get("payment_method") or {"type": method, "id": payment_id, "saved": False}
            if payment_method["type"] == "bank_card":
                payment_method["card"] = {"first6": "555555", "last4": "4444", "card_type": "MasterCard"}
                payment_method["title"] = "Bank card *4444"
            payment["payment_method"] = payment_method
            if self._capture[payment_id]:
                payment.update(status="succeeded", captured_at=_now(at), refundable=True)
                payment["refunded_amount"] = {"value": "0.00", "currency": payment["amount"]["currency"]}
            else:
                payment["status"] = "waiting_for_capture"
            payment.update(paid=True, receipt_registration="succeeded")
            return json.loads(json.dumps(payment))

    def decline(self, payment_id: str, *, reason: str = "card_expired", party: str = "payment_network") -> None:
        """The payer's bank refused, or the payer gave up (reason ``expired_on_confirmation``)."""
        with self._lock:
            payment = self.payments[payment_id]
            assert payment["status"] == "pending", payment["status"]
            payment.update(status="canceled", cancellation_details={"party": party, "reason": reason})

    def refund_succeed(self, refund_id: str) -> None:
        with self._lock:
            refund = self.refunds[refund_id]
            assert refund["status"] == "pending", refund["status"]
            refund["status"] = "succeeded"

    def notification(self, event: str, object_id: str) -> bytes:
        """The body YooKassa posts to the shop's notification address about the object now."""
        with self._lock:
            obj = self.payments.get(object_id) or self.refunds[object_id]
            return json.dumps({"type": "notification", "event": event, "object": obj}).encode("utf-8")

    def posts(self, path: str) -> list[Recorded]:
        """The POSTs to ``path`` (e.g. "/payments") as they came."""
        return [r for r in self.requests if r.method == "POST" and r.path == PREFIX + path]

    # --- the API ----------------------------------------------------------------------------

    def _take_trouble(self) -> Trouble | None:
        with self._lock:
            return self._troubles.pop(0) if self._troubles else None

    def handle(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, dict[str, str], bytes]:
        """One request: (status, extra headers, body)."""
        try:
            body = json.loads(raw.decode("utf-8")) if raw else None
        except (UnicodeDecodeError, ValueError):
            body = None
        record = Recorded(method, path, headers, body)
        with self._lock:
            self.requests.append(record)
        trouble = self._take_trouble()
        if trouble is not None and not trouble.hang:
            record.status = trouble.status
            if trouble.raw is not None:
                return trouble.status, trouble.headers, trouble.raw
            code = "too_many_requests" if trouble.status == 429 else "internal_server_error"
            status, error = _error(trouble.status, code, "Internal server error" if trouble.status >= 500 else code)
            return status, trouble.headers, _json(error)
        if trouble is not None and not trouble.processed:
            self.closing.wait(trouble.hang)  # nothing done; the client gave up long ago
            record.status = 500
            return 500, {}, _json(_error(500, "internal_server_error", "Internal server error")[1])
        status, answer = self._answer(method, path, headers, copy.deepcopy(body))  # the record stays as sent
        if trouble is not None:
            self.closing.wait(trouble.hang)
        record.status = status
        return status, {}, _json(answer)

    def _answer(self, method: str, path: str, headers: dict[str, str], body: Any) -> tuple[int, dict[str, Any]]:
        shop = self._shop(headers.get("Authorization", ""))
        if shop is None:
            return _error(401, "invalid_credentials", "Authentication error: the shop id or the secret key is wrong")
        if not path.startswith(PREFIX + "/"):
            return _error(404, "not_found", "Not found")
        route = path[len(PREFIX) :]
        if method == "GET":
            kind, _slash, object_id = route.strip("/").partition("/")
            store = {"payments": self.payments, "refunds": self.refunds}.get(kind)
            if store is None or not object_id or "/" in object_id:
                return _error(404, "not_found", "Not found")
            with self._lock:
                if object_id not in store or self._owner.get(object_id) != shop:
                    return _error(404, "not_found", f"Object with id {object_id} not found")
                return 200, json.loads(json.dumps(store[object_id]))
        if method != "POST" or route not in ("/payments", "/refunds"):
            return _error(405 if route in ("/payments", "/refunds") else 404, "", "Method or resource not supported")
        if not headers.get("Content-Type", "").startswith("application/json"):
            return _error(415, "", "Unsupported content type")
        key = headers.get("Idempotence-Key", "")
        if not key:
            return _error(400, "invalid_request", "Idempotence key is required", "Idempotence-Key")
        if len(key) > 64:
            return _error(400, "invalid_request", "Idempotence key is too long", "Idempotence-Key")
        if not isinstance(body, dict):
            return _error(400, "invalid_request", "The request body is not a JSON object")
        fingerprint = hashlib.sha256(f"{route}\n".encode() + json.dumps(body, sort_keys=True).encode()).hexdigest()
        with self._lock:  # one request per key at a time, as the first one decides
            kept = self._answers.get((shop, key))
            if kept is not None:
                if kept[0] != fingerprint:
                    return _error(400, "invalid_request", "Idempotence key duplicated", "Idempotence-Key")
                return kept[1], json.loads(json.dumps(kept[2]))
            try:
                created = self._payment_create(shop, body) if route == "/payments" else self._refund_create(shop, body)
            except Invalid as exc:
                return _error(400, "invalid_request", exc.description, exc.parameter)
            self._answers[(shop, key)] = (fingerprint, 200, json.loads(json.dumps(created)))
            return 200, json.loads(json.dumps(created))

    def _shop(self, authorization: str) -> str | None:
        scheme, _space, token = authorization.partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            shop_id, _colon, secret = base64.b64decode(token, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return shop_id if self.shops.get(shop_id) == secret and secret else None

    def _payment_create(self, shop: str, body: dict[str, Any]) -> dict[str, Any]:
        amount = _amount(body.get("amount"), "amount")
        confirmation = body.get("confirmation")
        if not isinstance(confirmation, dict) or confirmation.get("type") != "redirect":
            raise Invalid("confirmation", "A redirect confirmation is expected")
        return_url = confirmation.get("return_url")
        if not isinstance(return_url, str) or not return_url or len(return_url) > 2048:
            raise Invalid("confirmation.return_url", "return_url is required for the redirect confirmation")
        capture = body.get("capture", False)
        if not isinstance(capture, bool):
            raise Invalid("capture", "capture is a boolean")
        description = body.get("description", "")
        if not isinstance(description, str) or len(description) > 128:
            raise Invalid("description", "The description is a string of at most 128 characters")
        metadata = body.get("metadata", {})
        if (
            not isinstance(metadata, dict)
            or len(metadata) > 16
            or any(not isinstance(k, str) or len(k) > 32 for k in metadata)
            or any(not isinstance(v, str) or len(v) > 512 for v in metadata.values())
        ):
            raise Invalid("metadata", "metadata: at most 16 keys of 32 characters, string values of 512")
        method_data = body.get("payment_method_data")
        if method_data is not None and (not isinstance(method_data, dict) or method_data.get("type") not in METHODS):
            raise Invalid("payment_method_data.type", "Unknown payment method")
        receipt = body.get("receipt")
        if receipt is None:
            raise Invalid("receipt", "Receipt is missing or illegal")
        _receipt_check(receipt, amount)
        payment_id = str(uuid.uuid4())
        payment: dict[str, Any] = {
            "id": payment_id,
            "status": "pending",
            "paid": False,
            "amount": body["amount"],
            "confirmation": {
                "type": "redirect",
                "return_url": return_url,
                "confirmation_url": f"https://yoomoney.ru/checkout/payments/v2/contract?orderId={payment_id}",
            },
            "created_at": _now(),
            "description": description,
            "metadata": metadata,
            "recipient": {"account_id": shop, "gateway_id": "2000001"},
            "refundable": False,
            "test": True,
        }
        if method_data is not None:
            payment["payment_method"] = {"type": method_data["type"], "id": payment_id, "saved": False}
        self.payments[payment_id] = payment
        self._capture[payment_id] = capture
        self.receipts[payment_id] = receipt
        self._owner[payment_id] = shop
        return payment

    def _refund_create(self, shop: str, body: dict[str, Any]) -> dict[str, Any]:
        payment_id = body.get("payment_id")
        payment = self.payments.get(payment_id) if isinstance(payment_id, str) else None
        if payment is None or self._owner.get(payment_id or "") != shop:
            raise Invalid("payment_id", "Payment not found")
        amount = _amount(body.get("amount"), "amount")
        if payment["status"] != "succeeded":
            raise Invalid("payment_id", "Only a succeeded payment can be refunded")
        refunded = Decimal(payment.get("refunded_amount", {}).get("value", "0"))
        left = Decimal(payment["amount"]["value"]) - refunded
        if amount > left:
            raise Invalid("amount", f"The refund amount is more than what is left of the payment ({left})")
        description = body.get("description", "")
        if not isinstance(description, str) or len(description) > 250:
            raise Invalid("description", "The description is a string of at most 250 characters")
        receipt = body.get("receipt")
        if receipt is None and amount != left:
            raise Invalid("receipt", "Receipt is missing or illegal: a partial refund needs one")
        if receipt is not None:
            _receipt_check(receipt, amount)
        refund_id = str(uuid.uuid4())
        refund = {
            "id": refund_id,
            "payment_id": payment_id,
            "status": self.refund_status,
            "created_at": _now(),
            "amount": body["amount"],
            "description": description,
            "receipt_registration": "pending",
        }
        payment["refunded_amount"] = {"value": f"{refunded + amount:.2f}", "currency": "RUB"}
        payment["refundable"] = refunded + amount < Decimal(payment["amount"]["value"])
        self.refunds[refund_id] = refund
        if receipt is not None:
            self.receipts[refund_id] = receipt
        self._owner[refund_id] = shop
        return refund

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                status, extra, body = fake.handle(
                    self.command, self.path, {k.title(): v for k, v in self.headers.items()}, raw
                )
                self.send_response(status)
                self.send_header("Content-Type", "application/json;charset=UTF-8")
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = _serve
            do_POST = _serve
            do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


def _amount(value: Any, parameter: str) -> Decimal:
    """``{"value": "1250.50", "currency": "RUB"}``: positive, kopecks at most, RUB."""
    if not isinstance(value, dict):
        raise Invalid(parameter, "The amount is an object with value and currency")
    raw = value.get("value")
    if not isinstance(raw, str) or not _AMOUNT.fullmatch(raw) or Decimal(raw) <= 0:
        raise Invalid(f"{parameter}.value", "The amount is a positive decimal string with at most 2 decimals")
    if value.get("currency") != "RUB":
        raise Invalid(f"{parameter}.currency", "The shop accepts RUB only")
    return Decimal(raw)


def _receipt_check(receipt: Any, total: Decimal) -> None:
    if not isinstance(receipt, dict):
        raise Invalid("receipt", "Receipt is missing or illegal")
    customer = receipt.get("customer")
    if not isinstance(customer, dict) or not (customer.get("email") or customer.get("phone")):
        raise Invalid("receipt.customer", "The receipt needs the customer's e-mail or phone")
    email, phone = customer.get("email"), customer.get("phone")
    if email is not None and (not isinstance(email, str) or not _EMAIL.fullmatch(email)):
        raise Invalid("receipt.customer.email", "Invalid e-mail")
    if phone is not None and (not isinstance(phone, str) or not _PHONE.fullmatch(phone)):
        raise Invalid("receipt.customer.phone", "The phone is in the ITU-T E.164 format: 79000000000")
    items = receipt.get("items")
    if not isinstance(items, list) or not 1 <= len(items) <= 100:
        raise Invalid("receipt.items", "The receipt has 1 to 100 items")
    sum_ = Decimal(0)
    for index, item in enumerate(items):
        where = f"receipt.items[{index}]"
        if not isinstance(item, dict):
            raise Invalid(where, "An item is an object")
        description = item.get("description")
        if not isinstance(description, str) or not 1 <= len(description) <= 128:
            raise Invalid(f"{where}.description", "The description is 1 to 128 characters")
        try:
            quantity = Decimal(str(item.get("quantity")))
        except InvalidOperation:
            raise Invalid(f"{where}.quantity", "The quantity is a number") from None
        if not quantity.is_finite() or quantity <= 0:
            raise Invalid(f"{where}.quantity", "The quantity is positive")
        price = _amount(item.get("amount"), f"{where}.amount")
        vat_code = item.get("vat_code")
        if not isinstance(vat_code, int) or isinstance(vat_code, bool) or not 1 <= vat_code <= 12:
            raise Invalid(f"{where}.vat_code", "The VAT code is a whole number 1 to 12")
        if item.get("payment_subject", "commodity") not in SUBJECTS:
            raise Invalid(f"{where}.payment_subject", "Unknown payment subject")
        if item.get("payment_mode", "full_prepayment") not in MODES:
            raise Invalid(f"{where}.payment_mode", "Unknown payment mode")
        sum_ += price * quantity
    if sum_ != total:
        raise Invalid("receipt.items", f"The sum of the items ({sum_}) is not the amount ({total})")
