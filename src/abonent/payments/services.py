"""Online payments: start one, learn its outcome from the gateway, post it to the ledger once;
notifications stored first and never trusted; reconciliation of what stayed pending; refunds.

The gateway is the only source of a payment's state. A notification only says "ask": the
state is queried, matched against the payment (amount, currency, our id in its metadata)
and applied under the payment's row lock; the ledger entries carry the payment's id in their
source keys, so however many notifications come, in whatever order, the money is posted once.
A crash after the gateway answered and before our commit leaves the payment "created" with no
gateway id: reconciliation repeats the creation with the same idempotence key, which gives
back the same payment, and settles it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import partial

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from abonent.core import metrics
from abonent.core.audit import audit_record
from abonent.core.errors import DomainError, NotFound, ValidationFailed
from abonent.core.jobs import job_enqueue
from abonent.core.money import RUBLE, MoneyFormatError, format_rubles, round_rubles, to_decimal
from abonent.core.periods import Period
from abonent.core.selectors import supplier_local_date
from abonent.customers.models import AccountLink, PersonalAccount, address_short
from abonent.identity.contacts import InvalidEmail, InvalidPhone, email_normalize, phone_normalize
from abonent.identity.models import User
from abonent.identity.selectors import recipient_of
from abonent.ledger.enums import EntryKind, Service
from abonent.ledger.services import NewEntry, entries_post
from abonent.notifications.enums import Kind
from abonent.notifications.services import notify
from abonent.payments.enums import FINAL_STATUSES, Channel, EventStatus, Method, PaymentStatus, RefundStatus
from abonent.payments.gateways import gateway_for, notification_source_allowed
from abonent.payments.gateways.base import (
    GatewayNotFound,
    GatewayPayment,
    GatewayRefund,
    GatewayRefused,
    GatewayUnavailable,
    PaymentRequest,
    Receipt,
    ReceiptItem,
)
from abonent.payments.models import GatewayEvent, Payment, PaymentPart, Refund
from abonent.payments.selectors import methods_allowed, refunded_get

log = logging.getLogger(__name__)

PAYABLE_SERVICES = (Service.GAS, Service.PENALTY, Service.VDGO)
EVENTS = ("payment.succeeded", "payment.canceled", "payment.waiting_for_capture", "refund.succeeded")
# the payment's state, as the gateway tells it, that makes a payment event true (we capture at
# once, so a payment waiting for capture is still pending here)
CONFIRMS = {
    "payment.succeeded": PaymentStatus.SUCCEEDED,
    "payment.canceled": PaymentStatus.CANCELED,
    "payment.waiting_for_capture": PaymentStatus.PENDING,
}
MAX_PARTS = 20
IDEMPOTENCE_KEY_LIFETIME = dt.timedelta(hours=23)  # the gateway keeps a key 24 hours
AMOUNT_DIGITS = 12  # rubles before the point that a payment's amount holds (max_digits 14, 2 places)


class PaymentGatewayUnavailable(DomainError):
    code = "payment_gateway_unavailable"
    message = _("Платёжный сервис сейчас не отвечает. Попробуйте оплатить через несколько минут")


class PaymentRefusedByGateway(DomainError):
    code = "payment_refused"
    message = _("Платёжный сервис отклонил платёж: {reason}")


class PaymentNotFound(NotFound):
    code = "payment_not_found"
    message = _("Платёж не найден")


class PaymentMismatch(DomainError):
    """The gateway's payment is not ours: another amount, currency or payment id."""

    code = "payment_mismatch"
    message = _("Данные платёжного сервиса не совпадают с платежом: {what}")


class RefundNotAllowed(DomainError):
    code = "refund_not_allowed"
    message = _("Возврат невозможен: {reason}")


@dataclass(frozen=True)
class PartInput:
    """What the payer asks to pay on one account's service; the amount as typed."""

    account_id: int
    amount: str | Decimal
    service: str = Service.GAS
    period: Period | None = None


def amount_parse(value: str | Decimal | int | float | None, *, maximum: Decimal | None = None) -> Decimal:
    """A payment amount in rubles: positive, at most two decimals, at most ``maximum``.
    Raises ValueError with what to fix (the caller says which field)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValueError(str(_("Укажите сумму")))
    try:
        amount = to_decimal(value)  # type: ignore[arg-type]
    except MoneyFormatError:
        raise ValueError(str(_("Сумма — это число рублей, например 1250,50"))) from None
    if amount.adjusted() >= AMOUNT_DIGITS:  # «1e30»: more than a payment holds, and than quantize takes
        if amount <= 0:
            raise ValueError(str(_("Сумма должна быть больше нуля")))
        cap = maximum if maximum is not None else Decimal(10) ** AMOUNT_DIGITS - RUBLE
        raise ValueError(_over_limit(cap))
    if amount != amount.quantize(Decimal("0.01")):
        raise ValueError(str(_("Не больше двух знаков после запятой: рубли и копейки")))
    if amount <= 0:
        raise ValueError(str(_("Сумма должна быть больше нуля")))
    if maximum is not None and amount > maximum:
        raise ValueError(_over_limit(maximum))
    return round_rubles(amount)


def _over_limit(maximum: Decimal) -> str:
    return str(_("Не больше {maximum} ₽ одним платежом")).format(maximum=format_rubles(maximum, sign=False))


def max_amount() -> Decimal:
    return to_decimal(settings.PAYMENT_MAX_AMOUNT)


def _receipt_items(parts: Sequence[tuple[PersonalAccount, str, Decimal]]) -> list[ReceiptItem]:
    labels = {Service.GAS: _("Газоснабжение"), Service.PENALTY: _("Пени за газ"), Service.VDGO: _("ТО ВДГО")}
    return [
        ReceiptItem(
            description=f"{labels.get(service, service)}, л/с {account.number}"[:128],  # type: ignore[call-overload]
            amount=amount,
            vat_code=settings.PAYMENT_RECEIPT_VAT_CODE,
        )
        for account, service, amount in parts
    ]


def _request(payment: Payment) -> PaymentRequest:
    """The creation request, the same every time it is sent (a repeat with the same
    idempotence key must be the same request): in Russian whatever the payer's language,
    as the fiscal receipt is."""
    with translation.override("ru"):
        return _request_ru(payment)


def _request_ru(payment: Payment) -> PaymentRequest:
    parts = [(p.account, p.service, p.amount) for p in payment.parts.select_related("account").order_by("pk")]
    numbers = ", ".join(sorted({p[0].number for p in parts}))
    return PaymentRequest(
        idempotence_key=payment.idempotence_key,
        amount=payment.amount,
        description=str(_("Оплата по л/с {numbers}")).format(numbers=numbers)[:128],
        return_url=payment.return_url,
        method=payment.method,
        receipt=Receipt(email=payment.receipt_email, phone=payment.receipt_phone, items=_receipt_items(parts)),
        metadata={"payment": str(payment.public_id)},
    )


def payment_start(
    *,
    user: User,
    parts: Sequence[PartInput],
    method: str,
    return_url: str,
    now: dt.datetime,
    receipt_email: str = "",
    receipt_phone: str = "",
    public_id: uuid.UUID | None = None,
) -> Payment:
    """Create a payment of the user's accounts (one supplier's: one payee) and send it to the
    gateway; returns it pending, with the address of the gateway's payment page. ``public_id``
    may be chosen by the caller, so that ``return_url`` can name the payment it returns to.

    Raises ValidationFailed with what to fix per field (``method``, ``parts``,
    ``parts.N.account`` — an account the user has not linked, ``parts.N.amount``,
    ``receipt_email``, ``receipt_phone``; ``method`` also when the supplier does not take
    it), PaymentGatewayUnavailable (the payment stays "created": if the
    gateway did get it, reconciliation settles it) and PaymentRefusedByGateway.
    """
    errors: dict[str, list[str]] = {}
    if method not in Method.values:
        errors["method"] = [str(_("Выберите способ оплаты: банковская карта или СБП"))]
    if not parts:
        errors["parts"] = [str(_("Выберите хотя бы один лицевой счёт"))]
    if len(parts) > MAX_PARTS:
        errors["parts"] = [str(_("Не больше {count} счетов и услуг в одном платеже")).format(count=MAX_PARTS)]
    links = {
        link.account_id: link.account
        for link in AccountLink.objects.filter(user=user).select_related("account", "account__supplier")
    }
    resolved: list[tuple[PersonalAccount, str, Decimal, Period | None]] = []
    seen: set[tuple[int, str]] = set()
    limit = max_amount()
    for index, part in enumerate(parts):
        account = links.get(part.account_id)
        if account is None:
            errors[f"parts.{index}.account"] = [str(_("Этот лицевой счёт не привязан к вашему профилю"))]
            continue
        if part.service not in PAYABLE_SERVICES:
            errors[f"parts.{index}.service"] = [str(_("Неизвестная услуга"))]
            continue
        if (account.pk, part.service) in seen:
            errors[f"parts.{index}.account"] = [str(_("Этот счёт и услуга уже есть в платеже"))]
            continue
        seen.add((account.pk, part.service))
        try:
            amount = amount_parse(part.amount, maximum=limit)
        except ValueError as exc:
            errors[f"parts.{index}.amount"] = [str(exc)]
            continue
        resolved.append((account, part.service, amount, part.period))
    suppliers = {account.supplier_id for account, *_rest in resolved}
    if len(suppliers) > 1:
        errors["parts"] = [str(_("Счета разных поставщиков оплачиваются отдельными платежами"))]
    elif (
        suppliers
        and "method" not in errors
        and method not in methods_allowed(supplier=resolved[0][0].supplier, now=now)
    ):  # the supplier's switches (DESIGN.md §5)
        errors["method"] = [str(_("Поставщик не принимает оплату этим способом: выберите другой"))]
    total = sum((amount for _a, _s, amount, _p in resolved), Decimal("0.00"))
    if not errors and total > limit:
        errors["parts"] = [_over_limit(limit)]
    email, phone = user.email or "", user.phone or ""  # the profile's, unless others are given
    try:
        email = email_normalize(receipt_email, field="receipt_email") if receipt_email.strip() else email
    except InvalidEmail as exc:
        errors["receipt_email"] = [exc.text]
    try:
        phone = phone_normalize(receipt_phone, field="receipt_phone") if receipt_phone.strip() else phone
    except InvalidPhone as exc:
        errors["receipt_phone"] = [exc.text]
    if not email and not phone:
        errors.setdefault("receipt_email", [str(_("Укажите e-mail или телефон для кассового чека"))])
    if errors:
        raise ValidationFailed(errors)

    supplier = resolved[0][0].supplier
    gateway_for(name=settings.PAYMENT_GATEWAY, supplier_code=supplier.code)  # misconfigured: nothing is stored
    with transaction.atomic():
        payment = Payment.objects.create(
            public_id=public_id or uuid.uuid4(),
            supplier=supplier,
            user=user,
            channel=Channel.ONLINE,
            gateway=settings.PAYMENT_GATEWAY,
            method=method,
            amount=total,
            idempotence_key=str(uuid.uuid4()),
            receipt_email=email,
            receipt_phone=phone,
            return_url=return_url,
            created_at=now,
        )
        PaymentPart.objects.bulk_create(
            PaymentPart(payment=payment, account=account, service=service, amount=amount, period=period)
            for account, service, amount, period in resolved
        )
    return _send(payment)


def _send(payment: Payment) -> Payment:
    gateway = gateway_for(name=payment.gateway, supplier_code=payment.supplier.code)
    try:
        answer = gateway.payment_create(_request(payment))
    except GatewayUnavailable as exc:
        log.warning("payment %s: the gateway did not answer: %s", payment.public_id, exc)
        raise PaymentGatewayUnavailable() from None
    except GatewayRefused as exc:
        if Payment.objects.filter(pk=payment.pk, status=PaymentStatus.CREATED).update(
            status=PaymentStatus.CANCELED, canceled_reason=(exc.code or "refused")[:100]
        ):
            metrics.payment_settled(gateway=payment.gateway, outcome="refused", amount=payment.amount)
        raise PaymentRefusedByGateway(reason=str(exc)) from None
    return _apply(payment.pk, answer, now=payment.created_at)


def _check(payment: Payment, answer: GatewayPayment) -> None:
    problems = []
    if answer.amount != payment.amount:
        problems.append(f"amount {answer.amount} ≠ {payment.amount}")
    if answer.currency != "RUB":
        problems.append(f"currency {answer.currency}")
    if answer.metadata.get("payment") != str(payment.public_id):
        problems.append("another payment's id in the metadata")
    if payment.gateway_payment_id and answer.id != payment.gateway_payment_id:
        problems.append(f"gateway id {answer.id} ≠ {payment.gateway_payment_id}")
    if problems:
        raise PaymentMismatch(what="; ".join(problems))


def _apply(payment_id: int, answer: GatewayPayment, *, now: dt.datetime) -> Payment:
    """Bring the payment to the gateway's state, under its row lock; post it when it
    succeeded. A payment already succeeded or canceled stays as it is."""
    with transaction.atomic():
        payment = Payment.objects.select_for_update().select_related("supplier").get(pk=payment_id)
        _check(payment, answer)
        if payment.status in FINAL_STATUSES:
            return payment
        payment.gateway_payment_id = answer.id
        payment.confirmation_url = answer.confirmation_url or payment.confirmation_url
        if answer.method in Method.values:
            payment.method = answer.method
        if answer.status == "succeeded":
            payment.status = PaymentStatus.SUCCEEDED
            payment.paid_at = answer.captured_at or now
            payment.paid_on = supplier_local_date(supplier=payment.supplier, now=payment.paid_at)
            _post(payment, now=now)
            _payer_notify(payment, now=now)
        elif answer.status == "canceled":
            payment.status = PaymentStatus.CANCELED
            payment.canceled_reason = answer.cancellation_reason[:100]
        else:
            payment.status = PaymentStatus.PENDING
        payment.save()
        if payment.status in FINAL_STATUSES:  # counted once the outcome is committed
            transaction.on_commit(
                partial(metrics.payment_settled, gateway=payment.gateway, outcome=payment.status, amount=payment.amount)
            )
    return payment


def _payer_notify(payment: Payment, *, now: dt.datetime) -> None:
    """Tell the payer the payment is credited (their preferences: e-mail, push, the portal)."""
    user = payment.user
    part = payment.parts.select_related("account").order_by("pk").first()
    if user is None or not user.is_active or part is None:
        return
    account = part.account
    notify(
        kind=Kind.PAYMENT_CONFIRMED,
        recipient=recipient_of(user),
        key=f"payment:{payment.public_id}",
        values={
            "account": account.number,
            "address": address_short(account.locality, account.street, account.house, account.apartment),
            "amount": format_rubles(payment.amount),
            "paid_on": f"{payment.paid_on:%d.%m.%Y}",
        },
        supplier=payment.supplier,
        account_id=account.pk,
        now=now,
    )


def _post(payment: Payment, *, now: dt.datetime) -> None:
    assert payment.paid_on is not None
    day = payment.paid_on
    entries_post(
        entries=[
            NewEntry(
                account_id=part.account_id,
                service=part.service,
                kind=EntryKind.PAYMENT,
                period=part.period or Period.of(day),
                billed_in=Period.of(day),
                amount=-part.amount,
                posted_on=day,
                source_key=f"payment:{payment.public_id}:{part.account_id}:{part.service}",
                pays_period=part.period,
                note=str(_("Оплата онлайн")),
            )
            for part in payment.parts.order_by("pk")
        ],
        now=now,
    )


def payment_settle(*, payment_id: int, now: dt.datetime) -> Payment:
    """Ask the gateway how the payment stands and apply it. A payment created here whose
    gateway answer was never stored is created again with the same idempotence key: the
    gateway gives back the payment it has. Raises PaymentGatewayUnavailable, PaymentMismatch."""
    payment = Payment.objects.select_related("supplier").filter(pk=payment_id).first()
    if payment is None:
        raise PaymentNotFound()
    if payment.status in FINAL_STATUSES or payment.channel != Channel.ONLINE:
        return payment
    gateway = gateway_for(name=payment.gateway, supplier_code=payment.supplier.code)
    try:
        if payment.gateway_payment_id:
            answer = gateway.payment_get(payment.gateway_payment_id)
        else:
            answer = gateway.payment_create(_request(payment))
    except GatewayUnavailable:
        raise PaymentGatewayUnavailable() from None
    except GatewayNotFound:
        raise PaymentMismatch(what="the gateway does not know this payment") from None
    except GatewayRefused as exc:  # our credentials or rights (401, 403): an operator's matter, ask later
        log.error("payment %s: the gateway refused to tell its state: %s (%s)", payment.public_id, exc, exc.code)
        raise PaymentGatewayUnavailable() from None
    return _apply(payment.pk, answer, now=now)


# --- notifications ---------------------------------------------------------------------------


class NotificationRejected(DomainError):
    code = "notification_rejected"
    message = _("Уведомление отклонено: {reason}")


class NotificationForbidden(NotificationRejected):
    code = "notification_forbidden"


class NotificationMalformed(NotificationRejected):
    code = "notification_malformed"


def gateway_event_receive(*, gateway: str, body: bytes, remote_addr: str | None, now: dt.datetime) -> GatewayEvent:
    """Store a gateway's notification, then check and process it once.

    Returns the stored event (a repeat is the same row, its count of deliveries up). Raises
    NotificationMalformed (not the JSON of a notification), NotificationForbidden (not from
    the gateway's addresses); both are stored as rejected. A notification about a payment we
    do not have, or whose state the gateway does not confirm, is stored as rejected and
    returned: the gateway has nothing to send again."""
    try:
        data = json.loads(body.decode("utf-8"))
        event = data["event"]
        object_id = data["object"]["id"]
        if not isinstance(event, str) or not isinstance(object_id, str) or not object_id or len(object_id) > 64:
            raise TypeError("event and object.id are strings")
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        digest = hashlib.sha256(body).hexdigest()
        _store(gateway, f"malformed:{digest}", "", "", body, remote_addr, now, EventStatus.REJECTED, str(exc))
        raise NotificationMalformed(reason=str(_("это не уведомление платёжного сервиса"))) from None
    row = _store(gateway, f"{event}:{object_id}", event, object_id, body, remote_addr, now, EventStatus.RECEIVED, "")
    if not notification_source_allowed(gateway=gateway, remote_addr=remote_addr):
        _mark(row, EventStatus.REJECTED, f"source {remote_addr} is not the gateway's", now)
        raise NotificationForbidden(reason=str(_("адрес отправителя не принадлежит платёжному сервису")))
    if row.status == EventStatus.PROCESSED:
        return row
    if event not in EVENTS:
        return _mark(row, EventStatus.REJECTED, f"event {event!r} is not handled", now)
    try:
        if event.startswith("payment."):
            payment = Payment.objects.filter(gateway=gateway, gateway_payment_id=object_id).first()
            if payment is None:
                return _mark(row, EventStatus.REJECTED, "no such payment here", now)
            GatewayEvent.objects.filter(pk=row.pk).update(payment=payment)
            settled = payment_settle(payment_id=payment.pk, now=now)
            confirmed = settled.status == CONFIRMS[event]
        else:
            refund = Refund.objects.filter(gateway_refund_id=object_id, payment__gateway=gateway).first()
            if refund is None:
                return _mark(row, EventStatus.REJECTED, "no such refund here", now)
            GatewayEvent.objects.filter(pk=row.pk).update(payment=refund.payment_id)
            confirmed = refund_settle(refund_id=refund.pk, now=now).status == RefundStatus.SUCCEEDED
    except PaymentMismatch as exc:
        log.warning("gateway event %s rejected: %s", row.pk, exc.text)
        return _mark(row, EventStatus.REJECTED, exc.text, now)
    if not confirmed:  # forged, or overtaken by a later state: rejected, so the real one is still processed
        return _mark(row, EventStatus.REJECTED, f"the gateway does not confirm {event}", now)
    return _mark(row, EventStatus.PROCESSED, "", now)


def _store(
    gateway: str,
    key: str,
    event: str,
    object_id: str,
    body: bytes,
    remote_addr: str | None,
    now: dt.datetime,
    status: str,
    error: str,
) -> GatewayEvent:
    try:
        payload = json.loads(body.decode("utf-8"))
        if not isinstance(payload, dict):
            payload = {"raw": body[:2000].decode("utf-8", "replace")}
    except (ValueError, UnicodeDecodeError):
        payload = {"raw": body[:2000].decode("utf-8", "replace")}
    try:
        with transaction.atomic():
            return GatewayEvent.objects.create(
                gateway=gateway, event_key=key[:200], event=event[:40], object_id=object_id[:64], received_at=now,
                remote_addr=remote_addr, payload=payload, status=status, error=error[:500],
            )  # fmt: skip
    except IntegrityError:
        GatewayEvent.objects.filter(gateway=gateway, event_key=key[:200]).update(deliveries=F("deliveries") + 1)
        return GatewayEvent.objects.get(gateway=gateway, event_key=key[:200])


def _mark(row: GatewayEvent, status: str, error: str, now: dt.datetime) -> GatewayEvent:
    GatewayEvent.objects.filter(pk=row.pk).exclude(status=EventStatus.PROCESSED).update(
        status=status, error=error[:500], processed_at=now
    )
    row.refresh_from_db()
    return row


# --- reconciliation --------------------------------------------------------------------------


@dataclass
class ReconcileResult:
    asked: int = 0
    succeeded: int = 0
    canceled: int = 0
    still_pending: int = 0
    failed: int = 0


def payments_reconcile(*, now: dt.datetime, older_than: dt.timedelta | None = None) -> ReconcileResult:
    """Ask the gateway about the online payments still created or pending some minutes
    after they started (a notification lost, a crash before our commit) and settle them."""
    after = older_than if older_than is not None else dt.timedelta(minutes=settings.PAYMENT_RECONCILE_AFTER)
    result = ReconcileResult()
    # A payment with the gateway's id is asked about for a week. One without it is created
    # again with its idempotence key, which the gateway keeps 24 hours (YooKassa): later, a
    # repeat would make a new payment, so it is left for an operator to look at.
    ids = list(
        Payment.objects.filter(
            Q(status=PaymentStatus.PENDING, created_at__gte=now - dt.timedelta(days=7))
            | Q(status=PaymentStatus.CREATED, created_at__gte=now - IDEMPOTENCE_KEY_LIFETIME),
            channel=Channel.ONLINE,
            created_at__lte=now - after,
        )
        .order_by("created_at")
        .values_list("pk", flat=True)[:1000]
    )
    for payment_id in ids:
        result.asked += 1
        try:
            payment = payment_settle(payment_id=payment_id, now=now)
        except (PaymentGatewayUnavailable, PaymentMismatch) as exc:
            log.warning("reconciliation of payment %s: %s", payment_id, exc)
            result.failed += 1
            continue
        if payment.status == PaymentStatus.SUCCEEDED:
            result.succeeded += 1
        elif payment.status == PaymentStatus.CANCELED:
            result.canceled += 1
        else:
            result.still_pending += 1
    return result


# --- refunds ---------------------------------------------------------------------------------


def refund_start(
    *, payment_id: int, amount: str | Decimal, reason: str, actor_id: int | None, now: dt.datetime
) -> Refund:
    """Return money of a succeeded online payment to the payer (an operator's decision).

    Raises ValidationFailed (amount, reason), RefundNotAllowed, PaymentGatewayUnavailable
    (the refund stays pending: reconciliation is not needed, a repeat of this call with the
    same refund goes through ``refund_settle``)."""
    payment = Payment.objects.select_related("supplier").filter(pk=payment_id).first()
    if payment is None:
        raise PaymentNotFound()
    errors: dict[str, list[str]] = {}
    try:
        value = amount_parse(amount)
    except ValueError as exc:
        errors["amount"] = [str(exc)]
    if len(reason.strip()) < 5:
        errors["reason"] = [str(_("Напишите причину возврата"))]
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        payment = Payment.objects.select_for_update().select_related("supplier").get(pk=payment_id)
        if payment.status != PaymentStatus.SUCCEEDED or payment.channel != Channel.ONLINE:
            raise RefundNotAllowed(reason=str(_("вернуть можно только оплаченный онлайн платёж")))
        left = refunded_get(payment=payment).left
        if value > left:
            raise RefundNotAllowed(
                reason=str(_("к возврату осталось {left} ₽")).format(left=format_rubles(left, sign=False))
            )
        refund = Refund.objects.create(
            payment=payment, amount=value, reason=reason.strip()[:300], idempotence_key=str(uuid.uuid4()),
            created_by_id=actor_id, created_at=now,
        )  # fmt: skip
        audit_record(
            at=now, actor_id=actor_id, channel="backoffice", action="payment_refund", object_type="payment",
            object_id=payment.pk, after={"refund": refund.pk, "amount": str(value), "reason": refund.reason},
        )  # fmt: skip
    return _refund_send(refund, now=now)


def _refund_shares(payment: Payment, amount: Decimal) -> list[tuple[PaymentPart, Decimal]]:
    """The refund split over the payment's parts in proportion; the kopecks left to the largest."""
    parts = list(payment.parts.select_related("account").order_by("pk"))
    shares = [(p, round_rubles(amount * p.amount / payment.amount)) for p in parts]
    rest = amount - sum((s for _p, s in shares), Decimal(0))
    if rest:
        largest = max(range(len(shares)), key=lambda i: shares[i][0].amount)
        shares[largest] = (shares[largest][0], shares[largest][1] + rest)
    return [(p, s) for p, s in shares if s > 0]


def _refund_send(refund: Refund, *, now: dt.datetime) -> Refund:
    payment = refund.payment
    gateway = gateway_for(name=payment.gateway, supplier_code=payment.supplier.code)
    shares = _refund_shares(payment, refund.amount)
    receipt = Receipt(
        email=payment.receipt_email,
        phone=payment.receipt_phone,
        items=_receipt_items([(p.account, p.service, s) for p, s in shares]),
    )
    try:
        answer = gateway.refund_create(
            idempotence_key=refund.idempotence_key, payment_id=payment.gateway_payment_id or "",
            amount=refund.amount, description=refund.reason[:250], receipt=receipt,
        )  # fmt: skip
    except GatewayUnavailable:
        raise PaymentGatewayUnavailable() from None
    except GatewayRefused as exc:
        Refund.objects.filter(pk=refund.pk).update(status=RefundStatus.CANCELED)
        raise RefundNotAllowed(reason=str(exc)) from None
    return _refund_apply(refund.pk, answer, now=now)


def refund_settle(*, refund_id: int, now: dt.datetime) -> Refund:
    refund = Refund.objects.select_related("payment", "payment__supplier").get(pk=refund_id)
    if refund.status != RefundStatus.PENDING:
        return refund
    if not refund.gateway_refund_id:
        return _refund_send(refund, now=now)
    gateway = gateway_for(name=refund.payment.gateway, supplier_code=refund.payment.supplier.code)
    try:
        answer = gateway.refund_get(refund.gateway_refund_id)
    except GatewayUnavailable:
        raise PaymentGatewayUnavailable() from None
    except GatewayNotFound:
        raise PaymentMismatch(what=f"the gateway does not know refund {refund.gateway_refund_id}") from None
    except GatewayRefused as exc:  # our credentials or rights (401, 403): an operator's matter, ask later
        log.error("refund %s: the gateway refused to tell its state: %s (%s)", refund.pk, exc, exc.code)
        raise PaymentGatewayUnavailable() from None
    return _refund_apply(refund.pk, answer, now=now)


def _refund_apply(refund_id: int, answer: GatewayRefund, *, now: dt.datetime) -> Refund:
    with transaction.atomic():
        refund = Refund.objects.select_for_update().select_related("payment", "payment__supplier").get(pk=refund_id)
        if answer.amount != refund.amount or answer.payment_id != refund.payment.gateway_payment_id:
            raise PaymentMismatch(what=f"refund {answer.id}: {answer.amount} of {answer.payment_id}")
        if refund.status != RefundStatus.PENDING:
            return refund
        refund.gateway_refund_id = answer.id
        if answer.status == "succeeded":
            refund.status = RefundStatus.SUCCEEDED
            refund.succeeded_at = now
            day = supplier_local_date(supplier=refund.payment.supplier, now=now)
            entries_post(
                entries=[
                    NewEntry(
                        account_id=part.account_id,
                        service=part.service,
                        kind=EntryKind.REFUND,
                        period=part.period or Period.of(refund.payment.paid_on or day),
                        billed_in=Period.of(day),
                        amount=share,
                        posted_on=day,
                        source_key=f"refund:{refund.pk}:{part.account_id}:{part.service}",
                        note=str(_("Возврат оплаты: {reason}")).format(reason=refund.reason)[:300],
                    )
                    for part, share in _refund_shares(refund.payment, refund.amount)
                ],
                now=now,
            )
        elif answer.status == "canceled":
            refund.status = RefundStatus.CANCELED
        refund.save()
    return refund


# --- the sandbox's payment page ------------------------------------------------------------


def sandbox_payment_decide(*, gateway_payment_id: str, approve: bool, now: dt.datetime) -> str:
    """The payer approved or declined on the sandbox's page: the sandbox changes its payment
    and sends its notification in the background, as a real gateway does. Returns the
    address to send the payer back to. Raises PaymentNotFound."""
    from abonent.payments.gateways.sandbox import sandbox_decide
    from abonent.payments.tasks import sandbox_notify_task

    try:
        row = sandbox_decide(payment_id=gateway_payment_id, approve=approve, now=now)
    except GatewayNotFound:
        raise PaymentNotFound() from None
    job_enqueue(sandbox_notify_task, gateway_payment_id=row.id)
    return row.return_url


def sandbox_notify(*, gateway_payment_id: str, now: dt.datetime) -> None:
    """Send the sandbox's notification: over HTTP to SANDBOX_NOTIFY_URL when it is set, else
    to the receiving service in this process (the embedded default)."""
    from abonent.payments.gateways.sandbox import payment_as_notification
    from abonent.payments.models import SandboxPayment

    row = SandboxPayment.objects.get(pk=gateway_payment_id)
    body = json.dumps(payment_as_notification(row)).encode("utf-8")
    if settings.SANDBOX_NOTIFY_URL:
        import urllib.request

        request = urllib.request.Request(
            settings.SANDBOX_NOTIFY_URL, data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        with urllib.request.urlopen(request, timeout=settings.PAYMENT_HTTP_TIMEOUT) as answer:
            answer.read()
        return
    try:
        gateway_event_receive(gateway="sandbox", body=body, remote_addr="127.0.0.1", now=now)
    except NotificationRejected as exc:
        log.warning("sandbox notification for %s rejected: %s", gateway_payment_id, exc)
