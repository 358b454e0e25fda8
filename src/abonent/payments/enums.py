from django.db import models
from django.utils.translation import gettext_lazy as _


class PaymentStatus(models.TextChoices):
    """A payment's life: created here, sent to the gateway (pending: the payer has not
    finished), then succeeded or canceled for good. A refund does not change the status."""

    CREATED = "created", _("создан")
    PENDING = "pending", _("ожидает оплаты")
    SUCCEEDED = "succeeded", _("оплачен")
    CANCELED = "canceled", _("отменён")


FINAL_STATUSES = (PaymentStatus.SUCCEEDED, PaymentStatus.CANCELED)


class Channel(models.TextChoices):
    """How the money came."""

    ONLINE = "online", _("онлайн на портале")
    QR = "qr", _("приложение банка по QR-коду")
    BANK = "bank", _("в отделении банка")
    AGENT = "agent", _("платёжный агент")


class Method(models.TextChoices):
    CARD = "bank_card", _("банковская карта")
    SBP = "sbp", _("СБП")


class Gateway(models.TextChoices):
    SANDBOX = "sandbox", _("песочница")
    YOOKASSA = "yookassa", _("ЮKassa")


class RefundStatus(models.TextChoices):
    PENDING = "pending", _("в обработке")
    SUCCEEDED = "succeeded", _("возвращено")
    CANCELED = "canceled", _("отклонён")


class EventStatus(models.TextChoices):
    """An incoming notification of a gateway: stored first, then checked and processed."""

    RECEIVED = "received", _("получено")
    PROCESSED = "processed", _("обработано")
    REJECTED = "rejected", _("отклонено")
