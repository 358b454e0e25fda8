"""Payments through the API: paying accounts online (card or СБП through the payment
gateway), the user's payments and one of them with its outcome, and the gateways'
notifications.

A user sees only their own payments: another's id is 404 ``payment_not_found``, whether
such a payment exists or not; a payment pays only accounts linked to the user. Each handler
parses its input, makes its call into ``abonent.payments`` and maps the result; errors become
problems in ``api/errors.py``.

Statuses of a payment that could not be made, as ``api/errors.py`` maps them:

- 503 ``payment_gateway_unavailable``: the gateway did not answer. The payment stays
  ``created``; if the gateway did get it, reconciliation settles it. Try again later.
- 409 ``payment_refused``: the gateway refused to create the payment (its limits, the
  shop's settings, the receipt). Not 402: RFC 9110 §15.5.3 reserves 402 for future use and
  gives it no meaning, clients and proxies treat it unevenly, and nothing was asked of the
  payer's card or bank yet (a card that is declined on the gateway's page ends as a
  ``canceled`` payment, not as an error of this call). The refusal conflicts with the state
  of the payee's shop at the gateway, which is what 409 says; the payment is kept as
  ``canceled`` with the gateway's reason.

The payments to one account, online and from bank registries (``GET /accounts/{id}/payments``),
are on ``account_router``.

Mounted by ``api/urls.py``: ``api.add_router("/payments", payments.router)`` and
``api.add_router("/accounts", payments.account_router)``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Annotated, Any

from django.core.exceptions import RequestDataTooBig
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext
from ninja import Path, Router, Status

from abonent.api.accounts import NOT_FOUND, AccountId
from abonent.api.auth import bearer, client_ip, principal
from abonent.api.errors import problem_response
from abonent.api.pagination import DEFAULT_LIMIT, Cursor, CursorInvalid, Limit, Page, cursor_decode, cursor_encode
from abonent.api.payments_schemas import (
    AccountFilter,
    AccountPaymentsPageOut,
    NotificationOut,
    PaymentIn,
    PaymentOut,
    PaymentsPageOut,
)
from abonent.api.schemas import INVALID, UNAUTHORIZED, Problem
from abonent.core import clock
from abonent.core.money import RUBLE, quantize
from abonent.core.periods import Period
from abonent.customers import selectors as customers_selectors
from abonent.ledger.enums import Service
from abonent.payments import selectors
from abonent.payments import services as payments
from abonent.payments.enums import FINAL_STATUSES, Channel, Gateway, Method, PaymentStatus
from abonent.payments.models import Payment, PaymentPart

router = Router(tags=["payments"], auth=bearer)
# the payments of an account: mounted under /accounts by ``api/urls.py``
account_router = Router(tags=["payments"], auth=bearer)

# Where the gateway sends the payer back when the app names no address: the portal's page
# of the payment, which shows its outcome.
RESULT_PATH = "/payments/{id}/"
# A gateway's notification is a few kilobytes; anything much larger is not one.
NOTIFICATION_MAX_BYTES = 64 * 1024

PaymentId = Annotated[uuid.UUID, Path(description="id платежа из /payments")]
GatewayName = Annotated[str, Path(max_length=20, description="Платёжный шлюз: sandbox или yookassa")]


# --- Mapping --------------------------------------------------------------------------


def _rub(value: Decimal) -> str:
    return str(quantize(value, RUBLE))


def _part(part: PaymentPart) -> dict[str, Any]:
    return {
        "account_id": part.account_id,
        "account_number": part.account.number,
        "service": part.service,
        "service_label": str(Service(part.service).label),
        "amount": _rub(part.amount),
        "period": None if part.period is None else str(part.period),
    }


def _payment(payment: Payment) -> dict[str, Any]:
    final = payment.status in FINAL_STATUSES
    return {
        "id": payment.public_id,
        "created_at": payment.created_at.astimezone(dt.UTC),
        "amount": _rub(payment.amount),
        "status": payment.status,
        "status_label": str(PaymentStatus(payment.status).label),
        "channel": payment.channel,
        "channel_label": str(Channel(payment.channel).label),
        "method": payment.method or None,
        "method_label": str(Method(payment.method).label) if payment.method else None,
        "confirmation_url": None if final else (payment.confirmation_url or None),
        "paid_at": None if payment.paid_at is None else payment.paid_at.astimezone(dt.UTC),
        "paid_on": payment.paid_on,
        "canceled_reason": payment.canceled_reason or None,
        "receipt_email": payment.receipt_email or None,
        "receipt_phone": payment.receipt_phone or None,
        "parts": [_part(part) for part in payment.parts.all()],
    }


def _history_item(item: selectors.HistoryItem) -> dict[str, Any]:
    online = item.kind == selectors.HistoryKind.ONLINE
    return {
        "kind": item.kind,
        "at": item.moment.astimezone(dt.UTC),
        "amount": _rub(item.amount),
        "status": item.status,
        "status_label": str(PaymentStatus(item.status).label) if online else gettext("зачислен"),
        "channel": item.channel,
        "channel_label": str(Channel(item.channel).label),
        "parts": [
            {
                "account_id": part.account_id,
                "account_number": part.account_number,
                "service": part.service,
                "service_label": str(Service(part.service).label),
                "amount": _rub(part.amount),
                "period": None if part.period is None else str(part.period),
            }
            for part in item.parts
        ],
        "payment_id": item.public_id,
        "method": item.method or None,
        "method_label": str(Method(item.method).label) if item.method else None,
        "receipt_email": item.receipt_email or None,
        "receipt_phone": item.receipt_phone or None,
        "bank": None if online else item.bank,
        "period": None if online or item.period is None else str(item.period),
    }


def _own(request: HttpRequest, public_id: uuid.UUID) -> Payment:
    """The user's payment with its parts. Raises PaymentNotFound."""
    user, _session = principal(request)
    payment = selectors.payment_get(user=user, public_id=str(public_id))
    if payment is None:
        raise payments.PaymentNotFound()
    return payment


def _page(rows: QuerySet[Payment], *, cursor: str | None, limit: int) -> Page[Payment]:
    """A page of payments newest first (by start, then id), read in the query: the cursor
    names the last payment served. Raises CursorInvalid."""
    if cursor is not None and cursor.strip():
        after = cursor_decode(cursor)
        started = rows.filter(pk=after).values_list("created_at", flat=True).first()
        if started is None:
            raise CursorInvalid()
        rows = rows.filter(Q(created_at__lt=started) | Q(created_at=started, pk__lt=after))
    items = list(rows[: limit + 1])
    more = len(items) > limit
    items = items[:limit]
    return Page(items=items, next_cursor=cursor_encode(items[-1].pk) if more else None)


def _too_large(request: HttpRequest) -> HttpResponse:
    return problem_response(
        request,
        status=413,
        code="payload_too_large",
        title="Запрос слишком большой",
        detail=f"Уведомление платёжного сервиса не больше {NOTIFICATION_MAX_BYTES // 1024} КБ",
    )


# --- Operations -----------------------------------------------------------------------


@router.post(
    "",
    response={201: PaymentOut, **UNAUTHORIZED, **INVALID, 409: Problem, 502: Problem, 503: Problem},
    summary="Оплатить счета онлайн",
)
def payment_create(request: HttpRequest, payload: PaymentIn) -> Status[dict[str, Any]]:
    """Start a payment of one or more of the user's accounts (one supplier's) by card or
    СБП, without commission. Answers the payment ``pending`` with ``confirmation_url``: the
    gateway's page where the payer pays; from there the gateway sends them to ``return_url``
    (by default the portal's page of this payment). The outcome comes asynchronously:
    ``GET /payments/{id}`` shows it, asking the gateway when the payment is still pending.
    The fiscal receipt goes to ``receipt_email`` / ``receipt_phone``, or to the profile's.

    Errors:
    - 422 ``validation_failed`` with ``errors`` naming each field: ``parts`` (none, more than
      20, accounts of different suppliers, the sum over the limit of one payment),
      ``parts.<index>.account`` (an account not linked to the user, or listed twice with the
      same service), ``parts.<index>.amount`` (not a number, zero or below, more than two
      places, over the limit; a JSON number instead of a string), ``parts.<index>.period``,
      ``parts.<index>.service``, ``method`` (unknown, or not taken by the supplier),
      ``receipt_email``, ``receipt_phone``, ``return_url``; nothing is created;
    - 503 ``payment_gateway_unavailable``: the gateway did not answer, try again later;
    - 409 ``payment_refused``: the gateway refused the payment (why 409 and not 402: the
      module's docstring);
    - 502 ``payment_mismatch``: the gateway answered with another payment's data;
    - 400 ``invalid_json``: the body is not JSON.
    """
    user, _session = principal(request)
    public_id = uuid.uuid4()
    return_url = payload.return_url or request.build_absolute_uri(RESULT_PATH.format(id=public_id))
    payment = payments.payment_start(
        user=user,
        parts=[
            payments.PartInput(
                account_id=part.account_id,
                amount=part.amount,
                service=part.service,
                period=None if part.period is None else Period.parse(part.period),
            )
            for part in payload.parts
        ],
        method=payload.method,
        return_url=return_url,
        now=clock.now(),
        receipt_email=payload.receipt_email or "",
        receipt_phone=payload.receipt_phone or "",
        public_id=public_id,
    )
    return Status(201, _payment(_own(request, payment.public_id)))


@router.get("", response={200: PaymentsPageOut, **UNAUTHORIZED, 404: Problem, 422: Problem}, summary="Мои платежи")
def payments_list(
    request: HttpRequest, account_id: AccountFilter = None, cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT
) -> dict[str, Any]:
    """The user's online payments, newest first, each with its parts by account and
    service; with ``account_id`` those that paid on that account. Pages of ``limit``; the
    next one with ``?cursor=<next_cursor>``, until ``next_cursor`` is null.

    Errors: 404 ``account_not_found`` (``account_id`` not linked to the user); 422
    ``cursor_invalid`` (a cursor not from this list), ``validation_failed`` (``limit`` not
    from 1 to 100, ``account_id`` not a positive whole number).
    """
    user, _session = principal(request)
    if account_id is not None:
        customers_selectors.account_link_get(user=user, account_id=account_id)
    page = _page(selectors.payments_list(user=user, account_id=account_id), cursor=cursor, limit=limit)
    return {"items": [_payment(payment) for payment in page.items], "next_cursor": page.next_cursor}


@account_router.get(
    "/{account_id}/payments",
    response={200: AccountPaymentsPageOut, **UNAUTHORIZED, **NOT_FOUND},
    summary="Платежи на лицевой счёт: онлайн и через банки",
)
def account_payments_list(
    request: HttpRequest, account_id: AccountId, cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT
) -> dict[str, Any]:
    """Every payment to the account, newest first (by the moment of payment; an online
    payment not paid yet, by its start): the user's own online payments that paid on it
    (``kind: online``, as in ``/payments``, with all their parts) and the payments that banks
    and payment agents sent in their registries (``kind: registry``): at a bank's office,
    through an agent, in a bank's app by the bill's QR code — whoever paid, since the money
    is the account's. A registry payment is ``succeeded`` («зачислен»), with the ``bank``
    that sent it and the ``period`` paid, when the payer named one. Pages of ``limit``; the
    next one with ``?cursor=<next_cursor>``, until ``next_cursor`` is null (a page goes on
    after the last item served, whatever came in meanwhile).

    Errors: 404 ``account_not_found`` (not linked to the user, or no such account); 422
    ``cursor_invalid`` (a cursor not from this list), ``validation_failed`` (``limit`` not
    from 1 to 100, ``account_id`` not a positive whole number).
    """
    user, _session = principal(request)
    customers_selectors.account_link_get(user=user, account_id=account_id)
    after = None
    if cursor is not None and cursor.strip():
        try:
            after = selectors.HistoryCursor.parse(cursor)
        except selectors.HistoryCursorInvalid:
            raise CursorInvalid() from None
    page = selectors.payment_history_list(user=user, account_id=account_id, after=after, limit=limit)
    return {
        "items": [_history_item(item) for item in page.items],
        "next_cursor": page.next.text() if page.next else None,
    }


@router.get("/{payment_id}", response={200: PaymentOut, **UNAUTHORIZED, 404: Problem, 422: Problem}, summary="Платёж")
def payment_get(request: HttpRequest, payment_id: PaymentId) -> dict[str, Any]:
    """One payment of the user's. A payment still pending is first asked from the gateway,
    so an app coming back from the gateway's page sees the outcome at once; when the gateway
    does not answer, the payment is shown as stored (reconciliation settles it later).

    Errors: 404 ``payment_not_found`` (not the user's, or no such payment); 422
    ``validation_failed`` (the id is not a UUID).
    """
    payment = _own(request, payment_id)
    if payment.status not in FINAL_STATUSES and payment.channel == Channel.ONLINE:
        try:
            payments.payment_settle(payment_id=payment.pk, now=clock.now())
        except (payments.PaymentGatewayUnavailable, payments.PaymentMismatch):
            return _payment(payment)  # as stored: the gateway is asked again by reconciliation
        payment = _own(request, payment_id)
    return _payment(payment)


@router.post(
    "/notifications/{gateway}",
    auth=None,
    response={200: NotificationOut, 400: Problem, 403: Problem, 404: Problem, 413: Problem, 503: Problem},
    summary="Уведомление платёжного сервиса",
)
def notification_receive(request: HttpRequest, gateway: GatewayName) -> HttpResponse | dict[str, Any]:
    """For the payment gateways, not for apps: a notification about a payment or a refund
    (``{"event": "payment.succeeded", "object": {"id": …}, …}``). Nothing in it is trusted:
    it is stored, and the payment's state is asked from the gateway. No authentication; the
    sender's address must be one of the gateway's. A repeat is answered as the first.

    Answers 200 with the notification's ``status``. Errors: 400 ``notification_malformed``
    (not a notification); 403 ``notification_forbidden`` (not from the gateway's
    addresses); 404 ``gateway_not_found``; 413 ``payload_too_large`` (over 64 KB); 503
    ``payment_gateway_unavailable`` (the gateway could not be asked: send again later).
    """
    if gateway not in Gateway.values:
        return problem_response(
            request,
            status=404,
            code="gateway_not_found",
            title="Платёжный шлюз не найден",
            detail="Уведомления принимаются по адресам /payments/notifications/sandbox и /payments/notifications/yookassa",
        )
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > NOTIFICATION_MAX_BYTES:
        return _too_large(request)
    try:
        body = request.body
    except RequestDataTooBig:
        return _too_large(request)
    if len(body) > NOTIFICATION_MAX_BYTES:
        return _too_large(request)
    event = payments.gateway_event_receive(gateway=gateway, body=body, remote_addr=client_ip(request), now=clock.now())
    return {"status": event.status}
