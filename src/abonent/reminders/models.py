from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from abonent.core.models import Supplier
from abonent.reminders.enums import AnnouncementStatus, RunStatus


class ReminderRun(models.Model):
    """The reminders of one supplier's local day: who was to be reminded of what is selected
    once a day (the first run in the day's sending hours); a run that died is taken over
    when its lease ends. That nobody is told twice is not this row's work but the
    notifications' (one per user and occasion)."""

    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="+", verbose_name=_("поставщик"))
    day = models.DateField(_("день (местный)"))
    status = models.CharField(_("состояние"), max_length=8, choices=RunStatus.choices, default=RunStatus.RUNNING)
    started_at = models.DateTimeField(_("начат"))
    finished_at = models.DateTimeField(_("закончен"), null=True, blank=True)
    lease_until = models.DateTimeField(_("занят до"))
    summary = models.JSONField(_("итоги"), default=dict, blank=True)
    error = models.TextField(_("ошибка"), blank=True)

    class Meta:
        verbose_name = _("рассылка напоминаний")
        verbose_name_plural = _("рассылки напоминаний")
        ordering = ["-day", "supplier_id"]
        constraints = [models.UniqueConstraint(fields=["supplier", "day"], name="reminder_run_once_a_day")]

    def __str__(self) -> str:
        return f"{self.supplier} {self.day:%d.%m.%Y}"


class Announcement(models.Model):
    """An operator's message to the subscribers of a supplier, or of an area of it (a
    locality, a street): planned works, a change of the office hours. A safety notice
    reaches everyone on every channel they have; an ordinary one follows their
    preferences."""

    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="+", verbose_name=_("поставщик"))
    locality = models.CharField(_("населённый пункт"), max_length=150, blank=True, help_text=_("Пусто — все"))
    street = models.CharField(_("улица"), max_length=150, blank=True, help_text=_("Пусто — все улицы"))
    title = models.CharField(_("заголовок"), max_length=120)
    text = models.TextField(_("текст"))
    safety = models.BooleanField(
        _("сообщение о безопасности"),
        default=False,
        help_text=_("Придёт всем по всем каналам, даже отключённым, и в любое время суток"),
    )
    status = models.CharField(
        _("состояние"), max_length=8, choices=AnnouncementStatus.choices, default=AnnouncementStatus.DRAFT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("автор")
    )
    created_at = models.DateTimeField(_("создано"))
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("разослал"),
    )
    sent_at = models.DateTimeField(_("разослано"), null=True, blank=True)
    finished_at = models.DateTimeField(_("рассылка закончена"), null=True, blank=True)
    summary = models.JSONField(_("итоги"), default=dict, blank=True)

    class Meta:
        verbose_name = _("объявление")
        verbose_name_plural = _("объявления")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status=AnnouncementStatus.DRAFT) | Q(sent_at__isnull=False, sent_by__isnull=False),
                name="announcement_sent_has_when_and_who",
            ),
            models.CheckConstraint(condition=Q(street="") | ~Q(locality=""), name="announcement_street_in_locality"),
        ]

    def __str__(self) -> str:
        return self.title
