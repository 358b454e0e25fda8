"""Appeals (обращения), applications for connection to the gas network and guests' messages
from the contacts page: one queue for the operators, a thread of messages, attached files
and the history of every status change."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from abonent.appeals.enums import (
    AppealKind,
    Category,
    ConnectionProgram,
    DocumentKind,
    NotifyChannel,
    Role,
    Status,
)
from abonent.core.models import Supplier
from abonent.customers.models import PersonalAccount

_RATING_RANGE = Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5)


class Appeal(models.Model):
    """One case in the operators' queue with its status and deadline."""

    kind = models.CharField(_("вид"), max_length=12, choices=AppealKind.choices, default=AppealKind.APPEAL)
    category = models.CharField(_("тема"), max_length=12, choices=Category.choices)
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="+", verbose_name=_("поставщик"))
    account = models.ForeignKey(
        PersonalAccount,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="appeals",
        verbose_name=_("лицевой счёт"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="appeals",
        verbose_name=_("заявитель"),
    )
    guest_name = models.CharField(_("имя (с сайта)"), max_length=150, blank=True)
    guest_contact = models.CharField(_("куда ответить (с сайта)"), max_length=254, blank=True)
    summary = models.CharField(_("кратко"), max_length=200)
    status = models.CharField(_("состояние"), max_length=16, choices=Status.choices, default=Status.NEW)
    status_before_waiting = models.CharField(max_length=16, choices=Status.choices, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("исполнитель"),
    )
    channel = models.CharField(_("откуда"), max_length=16)
    notify_channel = models.CharField(
        _("как сообщать"), max_length=8, choices=NotifyChannel.choices, default=NotifyChannel.PORTAL
    )
    created_at = models.DateTimeField(_("подано"))
    status_changed_at = models.DateTimeField(_("состояние изменено"))
    due_on = models.DateField(_("срок"), null=True, blank=True)
    #: While the applicant is asked a question the term stands still: the working days it had left.
    days_left_paused = models.PositiveSmallIntegerField(null=True, blank=True)
    closed_at = models.DateTimeField(_("завершено"), null=True, blank=True)
    subscriber_unread = models.BooleanField(_("есть непрочитанное у заявителя"), default=False)
    rating = models.PositiveSmallIntegerField(_("оценка"), null=True, blank=True)
    rating_comment = models.TextField(_("отзыв об ответе"), blank=True)
    rated_at = models.DateTimeField(_("оценено"), null=True, blank=True)

    class Meta:
        verbose_name = _("обращение")
        verbose_name_plural = _("обращения и заявки")
        indexes = [
            models.Index(fields=["status", "due_on"], name="appeal_queue"),
            models.Index(fields=["user", "-created_at"], name="appeal_user_recent"),
        ]
        constraints = [
            models.CheckConstraint(condition=_RATING_RANGE, name="appeal_rating_1_to_5"),
            models.CheckConstraint(
                condition=~Q(kind=AppealKind.FEEDBACK) | ~Q(guest_contact=""), name="appeal_feedback_has_contact"
            ),
        ]

    def __str__(self) -> str:
        return f"№ {self.pk}"

    @property
    def number(self) -> str:
        return f"{self.pk}"


class ConnectionDetails(models.Model):
    """What an application for connection of a house to the gas network says of the object."""

    appeal = models.OneToOneField(Appeal, on_delete=models.CASCADE, primary_key=True, related_name="connection")
    program = models.CharField(_("программа"), max_length=16, choices=ConnectionProgram.choices)
    applicant_name = models.CharField(_("заявитель (ФИО)"), max_length=200)
    applicant_phone = models.CharField(_("телефон заявителя"), max_length=16)
    object_address = models.CharField(_("адрес объекта"), max_length=300)
    land_cadastral_number = models.CharField(_("кадастровый номер участка"), max_length=40)
    house_cadastral_number = models.CharField(_("кадастровый номер дома"), max_length=40)
    max_hourly_m3 = models.DecimalField(_("максимальный часовой расход, м³/ч"), max_digits=7, decimal_places=3)
    usages = models.JSONField(_("направления использования газа"), default=list)

    class Meta:
        verbose_name = _("сведения заявки на подключение")
        verbose_name_plural = _("сведения заявок на подключение")
        constraints = [
            models.CheckConstraint(condition=Q(max_hourly_m3__gt=0), name="connection_hourly_positive"),
        ]

    def __str__(self) -> str:
        return self.object_address

    @property
    def simplified(self) -> bool:
        """Up to 7 m³/h: no calculation of the maximum hourly consumption is needed."""
        from abonent.appeals.policy import SIMPLIFIED_MAX_HOURLY_M3

        return self.max_hourly_m3 <= SIMPLIFIED_MAX_HOURLY_M3


class Message(models.Model):
    """One message of the thread: the applicant's text, an operator's reply or question."""

    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    role = models.CharField(_("кто"), max_length=12, choices=Role.choices)
    action = models.CharField(_("действие"), max_length=20, blank=True)
    text = models.TextField(_("текст"), blank=True)
    created_at = models.DateTimeField(_("написано"))

    class Meta:
        verbose_name = _("сообщение")
        verbose_name_plural = _("сообщения")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_role_display()}, {self.created_at:%d.%m.%Y %H:%M}"


class Attachment(models.Model):
    """A file attached to an appeal, kept outside the web root under a random name; served
    only to the applicant and to operators."""

    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="attachments")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, null=True, blank=True, related_name="attachments")
    document_kind = models.CharField(
        _("что это"), max_length=16, choices=DocumentKind.choices, default=DocumentKind.OTHER
    )
    file = models.FileField(_("файл"), max_length=200)
    name = models.CharField(_("имя файла"), max_length=100)
    mime = models.CharField(_("тип"), max_length=40)
    size = models.PositiveIntegerField(_("размер, байт"))
    sha256 = models.CharField(max_length=64)
    role = models.CharField(_("кто загрузил"), max_length=12, choices=Role.choices)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("загружен"))

    class Meta:
        verbose_name = _("вложение")
        verbose_name_plural = _("вложения")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return self.name


class Event(models.Model):
    """A change of an appeal: who, when, from which channel, the old and the new status."""

    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("когда"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    role = models.CharField(_("кто"), max_length=12, choices=Role.choices)
    action = models.CharField(_("действие"), max_length=20)
    channel = models.CharField(_("откуда"), max_length=16)
    old_status = models.CharField(_("было"), max_length=16, choices=Status.choices, blank=True)
    new_status = models.CharField(_("стало"), max_length=16, choices=Status.choices)

    class Meta:
        verbose_name = _("изменение")
        verbose_name_plural = _("история изменений")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.at:%d.%m.%Y %H:%M} {self.action}"


class AnswerTemplate(models.Model):
    """A ready answer operators insert and edit; of one supplier or of every one (empty)."""

    supplier = models.ForeignKey(
        Supplier, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("поставщик")
    )
    category = models.CharField(_("тема"), max_length=12, choices=Category.choices, blank=True)
    title = models.CharField(_("название"), max_length=120)
    text = models.TextField(_("текст"))
    is_active = models.BooleanField(_("используется"), default=True)

    class Meta:
        verbose_name = _("шаблон ответа")
        verbose_name_plural = _("шаблоны ответов")
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class DeadlineRule(models.Model):
    """The term, in working days, of the supplier's step that starts when a case enters
    ``stage`` (for an appeal: the answer, counted from NEW; for a connection application:
    the check, from NEW, and the contract, from CHECKED). Rules of one supplier come before
    those of every supplier (empty), and those before the defaults in ``policy.py``."""

    supplier = models.ForeignKey(
        Supplier, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("поставщик")
    )
    category = models.CharField(_("тема"), max_length=12, choices=Category.choices)
    stage = models.CharField(_("этап"), max_length=16, choices=Status.choices, default=Status.NEW)
    working_days = models.PositiveSmallIntegerField(_("срок, рабочих дней"))

    class Meta:
        verbose_name = _("срок рассмотрения")
        verbose_name_plural = _("сроки рассмотрения")
        constraints = [
            models.UniqueConstraint(fields=["supplier", "category", "stage"], name="deadline_rule_unique"),
            models.UniqueConstraint(
                fields=["category", "stage"], condition=Q(supplier__isnull=True), name="deadline_rule_unique_default"
            ),
            models.CheckConstraint(
                condition=Q(working_days__gte=1, working_days__lte=60), name="deadline_rule_days_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()}: {self.working_days}"
