from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    """Where a message reaches a person. ``portal`` is the notification centre of the
    personal account (no delivery: the message is there when they log in)."""

    EMAIL = "email", _("e-mail")
    SMS = "sms", _("SMS")
    PUSH = "push", _("push-уведомление")
    PORTAL = "portal", _("в личном кабинете")


#: The channels a delivery goes out on (the portal needs none).
DELIVERY_CHANNELS = (Channel.EMAIL, Channel.SMS, Channel.PUSH)


class Kind(models.TextChoices):
    """What a message to a subscriber is about; the catalogue of ``policy.KINDS`` says who
    may switch which off. (Transactional messages — confirmation codes, the bill a user
    asked for — have kinds of their own and are not in it.)"""

    READINGS_OPEN = "readings_open", _("открылся приём показаний")
    READINGS_LAST_DAY = "readings_last_day", _("последний день приёма показаний")
    BILL_READY = "bill_ready", _("новая квитанция")
    PAYMENT_DUE = "payment_due", _("приближается срок оплаты")
    DEBT = "debt", _("задолженность")
    DEBT_NOTICE = "debt_notice", _("уведомление о задолженности за два периода")
    METER_VERIFICATION = "meter_verification", _("срок поверки счётчика")
    CONTRACT_ENDING = "contract_ending", _("окончание договора")
    APPEAL_UPDATE = "appeal_update", _("ответы на обращения")
    PAYMENT_CONFIRMED = "payment_confirmed", _("оплата зачислена")
    ANNOUNCEMENT = "announcement", _("объявления поставщика")
    SAFETY_NOTICE = "safety_notice", _("важные сообщения о безопасности")
    BILL_BY_EMAIL = "bill_by_email", _("квитанция на e-mail вместо бумажной")


class PushPlatform(models.TextChoices):
    """Whose push service a device token belongs to."""

    FCM = "fcm", "Firebase Cloud Messaging"  # names, not translated
    APNS = "apns", "Apple Push Notification service"


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
    FCM = "fcm", "FCM"
    BACKEND = "backend", _("другой почтовый бэкенд Django")
