"""Payments: what a payer paid, split by account and service; gateway notifications as they
came; refunds.

The money itself is in the ledger: a payment that succeeds posts one entry per part, with a
source key made of the payment's id, so it is posted once however often it is confirmed.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from abonent.core.fields import PeriodField
from abonent.core.models import Supplier
from abonent.customers.models import PersonalAccount
from abonent.ledger.enums import Service
from abonent.payments.enums import Channel, EventStatus, Gateway, Method, PaymentStatus, RefundStatus


class Payment(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="+", verbose_name=_("поставщик"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="payments"
    )
    channel = models.CharField(_("канал"), max_length=8, choices=Channel.choices)
    gateway = models.CharField(_("платёжный шлюз"), max_length=10, choices=Gateway.choices, blank=True)
    method = models.CharField(_("способ"), max_length=10, choices=Method.choices, blank=True)
    status = models.CharField(
        _("состояние"), max_length=10, choices=PaymentStatus.choices, default=PaymentStatus.CREATED
    )
    amount = models.DecimalField(_("сумма, ₽"), max_digits=14, decimal_places=2)
    # sent with the creation request: a repeat of it creates nothing new at the gateway
    idempotence_key = models.CharField(max_length=64, unique=True)
    gateway_payment_id = models.CharField(_("номер в шлюзе"), max_length=64, null=True, blank=True)
    confirmation_url = models.URLField(max_length=500, blank=True)
    # where the gateway sends the payer back: a repeated creation must be the very same request
    return_url = models.URLField(max_length=2048, blank=True)
    receipt_email = models.EmailField(_("чек на e-mail"), blank=True)
    receipt_phone = models.CharField(_("чек по SMS"), max_length=16, blank=True)
    created_at = models.DateTimeField(_("создан"))
    paid_at = models.DateTimeField(_("оплачен"), null=True, blank=True)
    paid_on = models.DateField(_("дата оплаты"), null=True, blank=True)  # the supplier's local day
    canceled_reason = models.CharField(_("причина отмены"), max_length=100, blank=True)
    receipt_url = models.URLField(_("фискальный чек"), max_length=500, blank=True)
    # a bank registry's line: the bank's own reference, unique per registry source
    source = models.CharField(_("источник"), max_length=64, blank=True)
    reference = models.CharField(_("номер операции"), max_length=64, blank=True)
    payer = models.CharField(_("плательщик"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("платёж")
        verbose_name_plural = _("платежи")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.UniqueConstraint(
                fields=["gateway", "gateway_payment_id"],
                condition=Q(gateway_payment_id__isnull=False),
                name="payment_gateway_id_unique",
            ),
            models.UniqueConstraint(
                fields=["source", "reference"], condition=~Q(reference=""), name="payment_reference_unique"
            ),
            models.CheckConstraint(
                condition=~Q(status=PaymentStatus.SUCCEEDED) | Q(paid_at__isnull=False, paid_on__isnull=False),
                name="payment_succeeded_has_date",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "created_at"], name="payment_status_created"),
            models.Index(fields=["user", "created_at"], name="payment_user_created"),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.amount} ({self.status})"


class PaymentPart(models.Model):
    """What a payment pays on one account's service (a period named when the payer named one)."""

    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="parts")
    account = models.ForeignKey(PersonalAccount, on_delete=models.PROTECT, related_name="payment_parts")
    service = models.CharField(_("услуга"), max_length=8, choices=Service.choices)
    amount = models.DecimalField(_("сумма, ₽"), max_digits=14, decimal_places=2)
    period = PeriodField(_("за период"), null=True, blank=True)

    class Meta:
        verbose_name = _("часть платежа")
        verbose_name_plural = _("части платежа")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_part_amount_positive"),
            models.UniqueConstraint(fields=["payment", "account", "service"], name="payment_part_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.service}: {self.amount}"


class GatewayEvent(models.Model):
    """A notification as a gateway sent it, stored before anything is done with it. The
    payload is never trusted: the payment's state is asked from the gateway."""

    gateway = models.CharField(max_length=10, choices=Gateway.choices)
    event_key = models.CharField(max_length=200)  # the event and its object: a repeat is the same row
    event = models.CharField(max_length=40)
    object_id = models.CharField(max_length=64)
    received_at = models.DateTimeField()
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=EventStatus.choices, default=EventStatus.RECEIVED)
    error = models.CharField(max_length=500, blank=True)
    deliveries = models.PositiveIntegerField(default=1)
    processed_at = models.DateTimeField(null=True, blank=True)
    payment = models.ForeignKey(Payment, on_delete=models.SET_NULL, null=True, blank=True, related_name="events")

    class Meta:
        verbose_name = _("уведомление шлюза")
        verbose_name_plural = _("уведомления шлюза")
        constraints = [models.UniqueConstraint(fields=["gateway", "event_key"], name="gateway_event_unique")]

    def __str__(self) -> str:
        return f"{self.gateway} {self.event} {self.object_id}"


class Refund(models.Model):
    """Money returned to a payer, started by an operator; posts a reversing entry per part."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = models.DecimalField(_("сумма, ₽"), max_digits=14, decimal_places=2)
    status = models.CharField(_("состояние"), max_length=10, choices=RefundStatus.choices, default=RefundStatus.PENDING)
    reason = models.CharField(_("причина"), max_length=300)
    idempotence_key = models.CharField(max_length=64, unique=True)
    gateway_refund_id = models.CharField(max_length=64, null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()
    succeeded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("возврат")
        verbose_name_plural = _("возвраты")
        constraints = [models.CheckConstraint(condition=Q(amount__gt=Decimal(0)), name="refund_amount_positive")]

    def __str__(self) -> str:
        return f"{self.payment_id}: {self.amount} ({self.status})"


class SandboxPayment(models.Model):
    """The built-in sandbox gateway's side of a payment: what a real gateway keeps on its
    servers. Only the sandbox adapter and its payment page touch it."""

    id = models.CharField(primary_key=True, max_length=40)
    idempotence_key = models.CharField(max_length=64, unique=True)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3, default="RUB")
    status = models.CharField(max_length=24, default="pending")
    method = models.CharField(max_length=10, blank=True)
    description = models.CharField(max_length=128, blank=True)
    return_url = models.URLField(max_length=500)
    metadata = models.JSONField(default=dict)
    receipt = models.JSONField(default=dict)
    created_at = models.DateTimeField()
    captured_at = models.DateTimeField(null=True, blank=True)
    cancellation_reason = models.CharField(max_length=64, blank=True)
    refunded = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal(0))

    class Meta:
        verbose_name = _("платёж песочницы")
        verbose_name_plural = _("платежи песочницы")

    def __str__(self) -> str:
        return f"{self.id} {self.amount} ({self.status})"


class SandboxRefund(models.Model):
    id = models.CharField(primary_key=True, max_length=40)
    idempotence_key = models.CharField(max_length=64, unique=True)
    payment = models.ForeignKey(SandboxPayment, on_delete=models.CASCADE, related_name="refunds")
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    status = models.CharField(max_length=16, default="succeeded")
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.id} {self.amount}"


class RegistryFile(models.Model):
    """A bank's or payment agent's registry of payments (реестр платежей) as it was loaded."""

    source = models.CharField(_("банк или агент"), max_length=64)
    name = models.CharField(_("файл"), max_length=255)
    sha256 = models.CharField(max_length=64)
    profile = models.CharField(_("формат"), max_length=32)
    channel = models.CharField(_("канал"), max_length=8, choices=Channel.choices)
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="+", verbose_name=_("поставщик"))
    loaded_at = models.DateTimeField(_("загружен"))
    loaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    lines_total = models.PositiveIntegerField(_("строк"), default=0)
    lines_posted = models.PositiveIntegerField(_("проведено"), default=0)
    lines_failed = models.PositiveIntegerField(_("с ошибками"), default=0)
    lines_duplicate = models.PositiveIntegerField(_("повторов"), default=0)
    amount_posted = models.DecimalField(_("проведено, ₽"), max_digits=16, decimal_places=2, default=Decimal(0))
    summary_count = models.PositiveIntegerField(_("строк по итогу файла"), null=True, blank=True)
    summary_amount = models.DecimalField(
        _("сумма по итогу файла"), max_digits=16, decimal_places=2, null=True, blank=True
    )

    class Meta:
        verbose_name = _("реестр платежей")
        verbose_name_plural = _("реестры платежей")
        ordering = ["-loaded_at"]
        constraints = [models.UniqueConstraint(fields=["source", "sha256"], name="registry_file_unique")]

    def __str__(self) -> str:
        return f"{self.source}: {self.name}"


class RegistryLine(models.Model):
    """One line of a registry: posted as a payment, a repeat of a line posted before, or refused."""

    class Status(models.TextChoices):
        POSTED = "posted", _("проведена")
        DUPLICATE = "duplicate", _("повтор")
        FAILED = "failed", _("ошибка")

    # A registry brings up to a million lines in one transaction: the file's and the account's
    # references are not checked by the database row by row (the import, the only writer, sets
    # them from rows it has just read or made, and neither files nor accounts are deleted); the
    # indexes that lead with them serve their lookups.
    file = models.ForeignKey(
        RegistryFile, on_delete=models.CASCADE, related_name="lines", db_constraint=False, db_index=False
    )
    line_no = models.PositiveIntegerField(_("строка"))
    source = models.CharField(max_length=64)  # the file's, for the uniqueness of a reference
    reference = models.CharField(_("номер операции"), max_length=64, blank=True)
    account = models.ForeignKey(
        PersonalAccount,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="registry_lines",
        db_constraint=False,
        db_index=False,
    )
    account_number = models.CharField(_("лицевой счёт"), max_length=32, blank=True)
    paid_at = models.DateTimeField(_("оплачено"), null=True, blank=True)
    amount = models.DecimalField(_("сумма, ₽"), max_digits=14, decimal_places=2, null=True, blank=True)
    period = PeriodField(_("за период"), null=True, blank=True)
    payer = models.CharField(_("плательщик"), max_length=200, blank=True)
    status = models.CharField(_("состояние"), max_length=10, choices=Status.choices)
    error = models.CharField(_("ошибка"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("строка реестра")
        verbose_name_plural = _("строки реестра")
        constraints = [
            models.UniqueConstraint(fields=["file", "line_no"], name="registry_line_unique"),
            models.UniqueConstraint(
                fields=["source", "reference"], condition=Q(status="posted"), name="registry_line_reference_unique"
            ),
        ]
        indexes = [models.Index(fields=["account", "paid_at"], name="registry_line_account_paid")]

    def __str__(self) -> str:
        return f"{self.file_id}:{self.line_no} {self.status}"
