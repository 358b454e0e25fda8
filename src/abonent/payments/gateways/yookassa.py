"""The YooKassa API v3 (https://yookassa.ru/developers/api), with the standard library only.

Each supplier is its own payee, so each has its own shop: HTTP Basic auth with the shop's id
and secret key (``YOOKASSA_SHOPS``: ``supplier_code=shop_id:secret_key``). What we use:

- ``POST /payments`` with an ``Idempotence-Key`` header: a repeat with the same key and the
  same body gives back the payment created the first time (YooKassa keeps a key for 24
  hours), the same key with another body is refused ("Idempotence key duplicated"). The
  body: the amount as a decimal string in rubles, ``capture: true`` (one stage: the money is
  ours when the payer confirms), a redirect confirmation with the address to come back to,
  the method when the payer chose one (``payment_method_data``; without it the payer chooses
  on YooKassa's page), our payment's id in ``metadata`` and the fiscal receipt (54-ФЗ):
  the payer's e-mail or phone and one item per account and service.
- ``GET /payments/{id}``: the payment's state, the only thing we trust.
- ``POST /refunds`` (``Idempotence-Key`` again) and ``GET /refunds/{id}``.

Errors as YooKassa documents them: a 200 carries the object; any other status carries
``{"type": "error", "id", "code", "description", "parameter"}``. No answer, a timeout, a 5xx,
a 429 (too many requests) or a 202 (accepted, still processing: ask again later) mean that
nothing is known to have happened: GatewayUnavailable, and the caller repeats with the same
idempotence key. A 404 is GatewayNotFound; any other 4xx is GatewayRefused with YooKassa's
description and code. An answer that is not the JSON object we expect is treated as no
answer (GatewayUnavailable): it says nothing about the payment.

Like the other outside HTTP of abonent: a timeout always, answers over 1 MB refused, only
http(s) addresses (urllib would also open file:// and ftp://), no redirects followed.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from abonent.payments.gateways.base import (
    GatewayNotFound,
    GatewayPayment,
    GatewayRefund,
    GatewayRefused,
    GatewayUnavailable,
    PaymentRequest,
    Receipt,
)

MAX_BODY = 1024 * 1024
USER_AGENT = "abonent-payments/1"
CURRENCY = "RUB"
DESCRIPTION_MAX = 128  # a payment's description
REFUND_DESCRIPTION_MAX = 250
_NON_DIGITS = re.compile(r"\D")
_AMOUNT = re.compile(r"\d{1,12}(\.\d{1,2})?")


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """The API answers itself; a redirect would send the shop's credentials elsewhere."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def shops_parse(entries: Sequence[str]) -> dict[str, tuple[str, str]]:
    """``supplier_code=shop_id:secret_key`` entries as {supplier code: (shop id, secret key)}.
    A malformed entry raises ImproperlyConfigured naming the entry's supplier, never its key."""
    shops: dict[str, tuple[str, str]] = {}
    for entry in entries:
        code, _eq, credentials = entry.partition("=")
        shop_id, _colon, secret = credentials.partition(":")
        code, shop_id, secret = code.strip(), shop_id.strip(), secret.strip()
        if not code or not shop_id or not secret:
            raise ImproperlyConfigured(
                f"YOOKASSA_SHOPS: the entry for {code or '?'!r} is not supplier_code=shop_id:secret_key"
            )
        shops[code] = (shop_id, secret)
    return shops


class YooKassaGateway:
    name = "yookassa"

    def __init__(self, *, shop_id: str, secret_key: str, api_url: str, timeout: float) -> None:
        scheme = urllib.parse.urlsplit(api_url).scheme
        if scheme not in ("https", "http"):
            raise ImproperlyConfigured(f"YOOKASSA_API_URL={api_url!r}: expected an https:// address")
        self.shop_id = shop_id
        self.api_url = api_url.rstrip("/")
        self.timeout = timeout
        token = base64.b64encode(f"{shop_id}:{secret_key}".encode()).decode("ascii")
        self._authorization = f"Basic {token}"
        self._opener = urllib.request.build_opener(_NoRedirects())

    @classmethod
    def for_supplier(cls, supplier_code: str) -> YooKassaGateway:
        """The gateway of the supplier's shop. Raises ImproperlyConfigured when
        YOOKASSA_SHOPS has no shop for the supplier: its payments cannot be taken."""
        shops = shops_parse(settings.YOOKASSA_SHOPS)
        if supplier_code not in shops:
            raise ImproperlyConfigured(
                f"YOOKASSA_SHOPS has no shop for the supplier {supplier_code!r}: "
                f"add {supplier_code}=<shop id>:<secret key>"
            )
        shop_id, secret_key = shops[supplier_code]
        return cls(
            shop_id=shop_id,
            secret_key=secret_key,
            api_url=settings.YOOKASSA_API_URL,
            timeout=settings.PAYMENT_HTTP_TIMEOUT,
        )

    # --- the Gateway protocol -----------------------------------------------------------------

    def payment_create(self, request: PaymentRequest) -> GatewayPayment:
        body: dict[str, Any] = {
            "amount": _money(request.amount),
            "capture": True,
            "confirmation": {"type": "redirect", "return_url": request.return_url},
            "description": request.description[:DESCRIPTION_MAX],
            "metadata": dict(request.metadata),
            "receipt": _receipt(request.receipt),
        }
        if request.method:
            body["payment_method_data"] = {"type": request.method}
        return _payment(self._call("POST", "/payments", body=body, idempotence_key=request.idempotence_key))

    def payment_get(self, payment_id: str) -> GatewayPayment:
        return _payment(self._call("GET", f"/payments/{_segment(payment_id)}"))

    def refund_create(
        self, *, idempotence_key: str, payment_id: str, amount: Decimal, description: str, receipt: Receipt
    ) -> GatewayRefund:
        body = {
            "payment_id": payment_id,
            "amount": _money(amount),
            "description": description[:REFUND_DESCRIPTION_MAX],
            "receipt": _receipt(receipt),
        }
        return _refund(self._call("POST", "/refunds", body=body, idempotence_key=idempotence_key))

    def refund_get(self, refund_id: str) -> GatewayRefund:
        return _refund(self._call("GET", f"/refunds/{_segment(refund_id)}"))

    # --- HTTP ---------------------------------------------------------------------------------

    def _call(
        self, method: str, path: str, *, body: dict[str, Any] | None = None, idempotence_key: str = ""
    ) -> dict[str, Any]:
        """Send one request and return the object of a 200 answer; map the rest to the
        gateway errors (see the module's docstring)."""
        url = self.api_url + path
        headers = {"Authorization": self._authorization, "Accept": "application/json", "User-Agent": USER_AGENT}
        data: bytes | None = None
        if body is not None:
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            headers["Content-Type"] = "application/json"
        if idempotence_key:
            headers["Idempotence-Key"] = idempotence_key
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        where = f"YooKassa {method} {path}"
        try:
            try:
                with self._opener.open(request, timeout=self.timeout) as answer:
                    status, raw = answer.status, answer.read(MAX_BODY + 1)
            except urllib.error.HTTPError as exc:
                status = exc.code
                raw = exc.read(MAX_BODY + 1) if exc.fp is not None else b""
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                raise GatewayUnavailable(f"{where}: no answer in {self.timeout} s") from None
            raise GatewayUnavailable(f"{where}: no connection ({exc.reason})") from None
        except TimeoutError:
            raise GatewayUnavailable(f"{where}: no answer in {self.timeout} s") from None
        except OSError as exc:  # the connection dropped while the answer was being read
            raise GatewayUnavailable(f"{where}: the connection broke ({exc})") from None
        if len(raw) > MAX_BODY:
            raise GatewayUnavailable(f"{where}: an answer larger than {MAX_BODY} bytes")
        try:
            decoded = json.loads(raw.decode("utf-8")) if raw else None
        except (UnicodeDecodeError, ValueError):
            decoded = None
        if status == 200:
            if not isinstance(decoded, dict):
                raise GatewayUnavailable(f"{where}: HTTP 200 without a JSON object: {raw[:200]!r}")
            return decoded
        error = decoded if isinstance(decoded, dict) else {}
        code = str(error.get("code") or "")
        text = str(error.get("description") or f"HTTP {status}")
        if error.get("parameter"):
            text = f"{text} ({error['parameter']})"
        if status == 202:  # accepted and still being processed: the same request, later
            raise GatewayUnavailable(f"{where}: accepted and still processing, ask again later")
        if status == 429 or status >= 500:
            raise GatewayUnavailable(f"{where}: HTTP {status} {code}".rstrip())
        if status == 404:
            raise GatewayNotFound(text, code=code or "not_found")
        if 400 <= status < 500:
            raise GatewayRefused(text, code=code)
        raise GatewayUnavailable(f"{where}: unexpected HTTP {status}")


# --- what we send ---------------------------------------------------------------------------


def _money(amount: Decimal) -> dict[str, str]:
    return {"value": f"{amount.quantize(Decimal('0.01')):f}", "currency": CURRENCY}


def _receipt(receipt: Receipt) -> dict[str, Any]:
    """The fiscal receipt: the phone in the ITU-T E.164 digits YooKassa takes (79161234567)."""
    customer: dict[str, str] = {}
    if receipt.email:
        customer["email"] = receipt.email
    phone = _NON_DIGITS.sub("", receipt.phone)
    if phone:
        customer["phone"] = phone
    return {
        "customer": customer,
        "items": [
            {
                "description": item.description[:DESCRIPTION_MAX],
                "quantity": item.quantity,
                "amount": _money(item.amount),
                "vat_code": item.vat_code,
                "payment_subject": item.payment_subject,
                "payment_mode": item.payment_mode,
            }
            for item in receipt.items
        ],
    }


def _segment(object_id: str) -> str:
    """An id as one path segment: an id with a slash or dots cannot reach another endpoint."""
    if not object_id:
        raise GatewayNotFound("no id to ask about", code="not_found")
    return urllib.parse.quote(object_id, safe="")


# --- what we read ---------------------------------------------------------------------------


def _payment(data: dict[str, Any]) -> GatewayPayment:
    try:
        amount, currency = _amount(data["amount"])
        confirmation = data.get("confirmation") or {}
        method = data.get("payment_method") or {}
        cancellation = data.get("cancellation_details") or {}
        metadata = data.get("metadata") or {}
        if not isinstance(metadata, dict):
            raise TypeError("metadata is an object")
        return GatewayPayment(
            id=_text(data["id"]),
            status=_text(data["status"]),
            amount=amount,
            currency=currency,
            confirmation_url=str(confirmation.get("confirmation_url") or ""),
            metadata={str(k): str(v) for k, v in metadata.items()},
            captured_at=_time(data.get("captured_at")),
            cancellation_reason=str(cancellation.get("reason") or ""),
            method=str(method.get("type") or ""),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise GatewayUnavailable(f"YooKassa answered something that is not a payment: {exc}") from None


def _refund(data: dict[str, Any]) -> GatewayRefund:
    try:
        amount, currency = _amount(data["amount"])
        return GatewayRefund(
            id=_text(data["id"]),
            payment_id=_text(data["payment_id"]),
            status=_text(data["status"]),
            amount=amount,
            currency=currency,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise GatewayUnavailable(f"YooKassa answered something that is not a refund: {exc}") from None


def _text(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"expected a non-empty string, got {value!r}")
    return value


def _amount(value: Any) -> tuple[Decimal, str]:
    """``{"value": "1250.50", "currency": "RUB"}``: the value a decimal string, never a float."""
    raw, currency = value["value"], value["currency"]
    if not isinstance(raw, str) or not _AMOUNT.fullmatch(raw):
        raise ValueError(f"amount {raw!r} is not a decimal string")
    try:
        return Decimal(raw).quantize(Decimal("0.01")), _text(currency)
    except InvalidOperation:
        raise ValueError(f"amount {raw!r}") from None


def _time(value: Any) -> dt.datetime | None:
    """An ISO 8601 moment as YooKassa writes it (2026-11-20T09:00:00.123Z)."""
    if value in (None, ""):
        return None
    moment = dt.datetime.fromisoformat(_text(value))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)
