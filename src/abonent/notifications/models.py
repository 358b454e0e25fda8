from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from abonent.notifications.enums import Channel, DeliveryStatus, Provider

OPEN_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.RETRYING)


class OutboxMessage(models.Model):
    """A message "sent" by the embedded default: kept here instead of leaving the machine,
    so that a demo user can read the code that was sent to them."""

    channel = models.CharField(_("канал"), max_length=8, choices=Channel.choices)
    recipient = models.CharField(_("получатель"), max_length=320)
    subject = models.CharField(_("тема"), max_length=300, blank=True)
    body = models.TextField(_("текст"))
    attachment_name = models.CharField(
        _("вложение"), max_length=300, blank=True, help_text=_("имена приложенных файлов; сами файлы не хранятся")
    )
    created_at = models.DateTimeField(_("создано"), db_index=True)

    class Meta:
        verbose_name = _("сообщение в исходящих")
        verbose_name_plural = _("исходящие сообщения (демо)")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} → {self.recipient}"


class Delivery(models.Model):
    """One e-mail or SMS on its way out: every message goes through this log.

    A row is created in the transaction that asks for the message and attempted after it
    commits; a failed attempt is retried with a growing pause until the attempts run out.
    Once the message is sent or finally failed its text is blanked (``body_purged``): the
    texts carry one-time codes and the log must not keep them. (The outbox provider of the
    embedded default keeps its own copy in :class:`OutboxMessage` on purpose: that is the
    "phone" of the demo.)

    While an attempt is in flight the row stays open with ``attempts`` already counted and
    ``next_attempt_at`` pushed forward by a lease, so no other worker picks it up.

    An e-mail may carry one file: ``attachment`` is its name in the default storage (read
    when the message is sent, never copied here), ``attachment_name`` the name the recipient
    sees. A file gone by the time of sending fails the delivery.
    """

    channel = models.CharField(
        _("канал"), max_length=8, choices=[(c.value, c.label) for c in (Channel.EMAIL, Channel.SMS)]
    )
    kind = models.CharField(_("вид"), max_length=40, default="message", help_text=_("например, confirmation_code"))
    recipient = models.CharField(_("получатель"), max_length=320)
    subject = models.CharField(_("тема"), max_length=300, blank=True)
    body = models.TextField(_("текст"), blank=True)
    body_purged = models.BooleanField(_("текст удалён"), default=False)
    attachment = models.CharField(_("вложение (файл в хранилище)"), max_length=300, blank=True)
    attachment_name = models.CharField(_("имя вложения для получателя"), max_length=200, blank=True)
    status = models.CharField(
        _("состояние"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("попыток"), default=0)
    provider = models.CharField(_("провайдер"), max_length=16, choices=Provider.choices, blank=True)
    provider_message_id = models.CharField(_("идентификатор у провайдера"), max_length=200, blank=True)
    last_error = models.TextField(_("последняя ошибка"), blank=True)
    created_at = models.DateTimeField(_("создано"))
    last_attempt_at = models.DateTimeField(_("последняя попытка"), null=True, blank=True)
    sent_at = models.DateTimeField(_("отправлено"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(_("следующая попытка"), null=True, blank=True)

    class Meta:
        verbose_name = _("доставка сообщения")
        verbose_name_plural = _("журнал доставки сообщений")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The retry sweep: open rows by the time they are due.
            models.Index(
                fields=["next_attempt_at", "id"],
                name="delivery_due_idx",
                condition=Q(status__in=OPEN_STATUSES),
            ),
            models.Index(fields=["-created_at", "-id"], name="delivery_latest_idx"),
            models.Index(fields=["recipient", "-created_at"], name="delivery_recipient_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(channel__in=[Channel.EMAIL, Channel.SMS]), name="delivery_channel_email_or_sms"
            ),
            models.CheckConstraint(condition=Q(status__in=DeliveryStatus.values), name="delivery_status_valid"),
            models.CheckConstraint(
                condition=~Q(status__in=OPEN_STATUSES) | Q(next_attempt_at__isnull=False),
                name="delivery_open_has_next_attempt",
            ),
            models.CheckConstraint(
                condition=Q(status__in=OPEN_STATUSES) | Q(next_attempt_at__isnull=True),
                name="delivery_closed_has_no_next_attempt",
            ),
            models.CheckConstraint(
                condition=~Q(status=DeliveryStatus.SENT) | Q(sent_at__isnull=False),
                name="delivery_sent_has_sent_at",
            ),
            models.CheckConstraint(condition=Q(body_purged=False) | Q(body=""), name="delivery_purged_body_is_blank"),
            models.CheckConstraint(
                condition=Q(status__in=OPEN_STATUSES) | Q(body_purged=True), name="delivery_closed_is_purged"
            ),
            models.CheckConstraint(
                condition=Q(attachment="") | Q(channel=Channel.EMAIL), name="delivery_attachment_only_email"
            ),
            models.CheckConstraint(
                condition=Q(attachment="", attachment_name="") | (~Q(attachment="") & ~Q(attachment_name="")),
                name="delivery_attachment_has_name",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} → {self.recipient} ({self.get_status_display()})"
