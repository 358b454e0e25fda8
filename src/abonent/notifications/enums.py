from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    EMAIL = "email", _("e-mail")
    SMS = "sms", _("SMS")
    PUSH = "push", _("push")


class DeliveryStatus(models.TextChoices):
    """Where a message of the delivery log stands.

    ``pending`` and ``retrying`` are open (the sweep picks them when ``next_attempt_at`` comes);
    ``sent`` and ``failed`` are final, and their text is purged.
    """

    PENDING = "pending", _("ожидает отправки")
    SENT = "sent", _("отправлено")
    RETRYING = "retrying", _("будет повторено")
    FAILED = "failed", _("не доставлено")


class Provider(models.TextChoices):
    """Who took the message on its last attempt."""

    OUTBOX = "outbox", _("исходящие (демо)")
    SMTP = "smtp", "SMTP"  # names, not translated
    SMSRU = "smsru", "SMS.ru"
    BACKEND = "backend", _("другой почтовый бэкенд Django")
