from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from abonent.core.models import Supplier
from abonent.notifications.enums import DELIVERY_CHANNELS, Channel, DeliveryStatus, Kind, Provider, PushPlatform

OPEN_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.RETRYING)
#: A push token is the longest recipient (FCM's are about 160 characters, APNs' 64).
RECIPIENT_LIMIT = 500


class Preference(models.Model):
    """A subscriber's choice for one kind of message on one channel, stored only where it
    differs from the default of ``policy.KINDS`` (so a million subscribers who changed
    nothing have no rows here)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("пользователь")
    )
    kind = models.CharField(_("вид сообщения"), max_length=40, choices=Kind.choices)
    channel = models.CharField(_("канал"), max_length=8, choices=Channel.choices)
    enabled = models.BooleanField(_("получать"))
    changed_at = models.DateTimeField(_("изменено"))

    class Meta:
        verbose_name = _("настройка уведомлений")
        verbose_name_plural = _("настройки уведомлений")
        constraints = [
            models.UniqueConstraint(fields=["user", "kind", "channel"], name="preference_unique"),
            models.CheckConstraint(condition=Q(channel__in=Channel.values), name="preference_channel_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}/{self.channel}: {'да' if self.enabled else 'нет'}"


class PushDevice(models.Model):
    """A mobile device that receives push notifications: the token its push service gave the
    app. A token belongs to one device and so to one user at a time; the app registers it
    again after every login, and a token the push service calls unknown is removed."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("пользователь")
    )
    platform = models.CharField(_("сервис push-уведомлений"), max_length=8, choices=PushPlatform.choices)
    token = models.CharField(_("токен устройства"), max_length=RECIPIENT_LIMIT, unique=True)
    name = models.CharField(_("устройство"), max_length=120, blank=True)
    created_at = models.DateTimeField(_("зарегистрировано"))
    last_seen_at = models.DateTimeField(_("последняя регистрация"))

    class Meta:
        verbose_name = _("устройство для push-уведомлений")
        verbose_name_plural = _("устройства для push-уведомлений")
        ordering = ["-last_seen_at", "-id"]
        indexes = [models.Index(fields=["user", "-last_seen_at"], name="push_device_user_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(platform__in=PushPlatform.values), name="push_device_platform_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_platform_display()} {self.name or self.token[:12]}"


class Notification(models.Model):
    """One message to one subscriber about one occasion: the entry of their notification
    centre, and the record that the occasion was told (``occasion`` is unique per user, so a
    reminder job that runs twice tells nobody twice). The e-mails, SMS and pushes it went
    out as are its deliveries.

    ``account_id`` names the personal account it is about without a foreign key: the
    accounts live in a layer above this one; the portal checks the link before it shows one.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("пользователь")
    )
    supplier = models.ForeignKey(
        Supplier, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("поставщик")
    )
    account_id = models.BigIntegerField(_("лицевой счёт (id)"), null=True, blank=True)
    kind = models.CharField(_("вид"), max_length=40, choices=Kind.choices)
    occasion = models.CharField(_("повод"), max_length=120, help_text=_("например, readings_open:42:2026-11"))
    title = models.CharField(_("заголовок"), max_length=200)
    body = models.TextField(_("текст"))
    in_portal = models.BooleanField(_("в личном кабинете"), default=True)
    created_at = models.DateTimeField(_("создано"))
    read_at = models.DateTimeField(_("прочитано"), null=True, blank=True)
    batch = models.CharField(max_length=32, blank=True, editable=False)  # the run that created it

    class Meta:
        verbose_name = _("уведомление")
        verbose_name_plural = _("уведомления")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "occasion"], name="notification_once_per_occasion")]
        indexes = [
            models.Index(fields=["user", "-created_at", "-id"], name="notification_centre_idx"),
            models.Index(
                fields=["user"], name="notification_unread_idx", condition=Q(read_at__isnull=True, in_portal=True)
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Template(models.Model):
    """The text of one kind of message on one channel in one language, for one supplier or
    (no supplier) for all. Placeholders are ``{name}`` (``templates.PLACEHOLDERS``); a kind
    with no template here uses the built-in text."""

    supplier = models.ForeignKey(
        Supplier,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("поставщик"),
        help_text=_("Пусто — для всех поставщиков"),
    )
    kind = models.CharField(_("вид сообщения"), max_length=40, choices=Kind.choices)
    channel = models.CharField(_("канал"), max_length=8, choices=Channel.choices)
    language = models.CharField(_("язык"), max_length=8, choices=settings.LANGUAGES, default="ru")
    subject = models.CharField(
        _("заголовок"), max_length=200, blank=True, help_text=_("тема письма, заголовок push и в кабинете; у SMS нет")
    )
    body = models.TextField(_("текст"))
    updated_at = models.DateTimeField(_("изменён"))

    class Meta:
        verbose_name = _("шаблон сообщения")
        verbose_name_plural = _("шаблоны сообщений")
        ordering = ["kind", "channel", "language", "supplier_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["supplier", "kind", "channel", "language"],
                name="template_unique_per_supplier",
                condition=Q(supplier__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["kind", "channel", "language"],
                name="template_unique_for_all",
                condition=Q(supplier__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} / {self.get_channel_display()} / {self.language}"

    def clean(self) -> None:
        from abonent.notifications.templates import LIMITS, TITLE_LIMIT, text_errors

        errors: dict[str, list[str]] = {}
        for name in ("subject", "body"):
            problems = text_errors(getattr(self, name) or "", kind=self.kind)
            if problems:
                errors[name] = problems
        if not self.body.strip():
            errors.setdefault("body", []).append(str(_("Текст сообщения не может быть пустым")))
        limit = LIMITS.get(self.channel)  # type: ignore[call-overload]
        if limit and len(self.body) > limit:
            errors.setdefault("body", []).append(
                str(_("Для канала «{channel}» текст — не длиннее {limit} символов")).format(
                    channel=self.get_channel_display(), limit=limit
                )
            )
        if len(self.subject) > TITLE_LIMIT:
            errors.setdefault("subject", []).append(str(_("Заголовок — не длиннее 200 символов")))
        if errors:
            raise ValidationError(errors)


class OutboxMessage(models.Model):
    """A message "sent" by the embedded default: kept here instead of leaving the machine,
    so that a demo user can read the code that was sent to them."""

    channel = models.CharField(_("канал"), max_length=8, choices=Channel.choices)
    recipient = models.CharField(_("получатель"), max_length=RECIPIENT_LIMIT)
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
    """One e-mail, SMS or push on its way out: every message goes through this log.

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

    channel = models.CharField(_("канал"), max_length=8, choices=[(c.value, c.label) for c in DELIVERY_CHANNELS])
    kind = models.CharField(_("вид"), max_length=40, default="message", help_text=_("например, confirmation_code"))
    recipient = models.CharField(_("получатель"), max_length=RECIPIENT_LIMIT)
    # Who and what it is for, where known: the operators' search of the log.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("пользователь"),
    )
    supplier = models.ForeignKey(
        Supplier, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("поставщик")
    )
    notification = models.ForeignKey(
        Notification,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="deliveries",
        verbose_name=_("уведомление"),
    )
    limited = models.BooleanField(_("в пределах лимита на получателя"), default=False)
    payload = models.JSONField(_("данные для приложения"), default=dict, blank=True)
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
            models.CheckConstraint(condition=Q(channel__in=DELIVERY_CHANNELS), name="delivery_channel_valid"),
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
