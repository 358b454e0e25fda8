from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from abonent.core.fields import PeriodField
from abonent.customers.models import PersonalAccount
from abonent.metering.enums import MeterStatus, ReadingChannel, ReadingStatus


class Meter(models.Model):
    """A gas meter (прибор учёта) at the account's premises."""

    account = models.ForeignKey(
        PersonalAccount, on_delete=models.CASCADE, related_name="meters", verbose_name=_("лицевой счёт")
    )
    serial = models.CharField(_("заводской номер"), max_length=40)
    model = models.CharField(_("модель"), max_length=120)
    digits = models.PositiveSmallIntegerField(_("разрядов до запятой"), default=5)
    installed_on = models.DateField(_("установлен"))
    sealed_on = models.DateField(_("опломбирован"), null=True, blank=True)
    verification_due_on = models.DateField(_("очередная поверка до"))
    status = models.CharField(_("состояние"), max_length=8, choices=MeterStatus.choices, default=MeterStatus.ACTIVE)
    removed_on = models.DateField(_("снят"), null=True, blank=True)

    class Meta:
        verbose_name = _("прибор учёта")
        verbose_name_plural = _("приборы учёта")
        constraints = [
            models.UniqueConstraint(fields=["account", "serial"], name="meter_serial_unique_per_account"),
            models.CheckConstraint(condition=Q(digits__gte=4) & Q(digits__lte=9), name="meter_digits_range"),
            models.CheckConstraint(
                condition=Q(verification_due_on__gt=F("installed_on")), name="meter_verification_after_install"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.model} № {self.serial}"


class Reading(models.Model):
    """A meter reading for a billing period."""

    meter = models.ForeignKey(Meter, on_delete=models.CASCADE, related_name="readings", verbose_name=_("прибор учёта"))
    period = PeriodField(_("расчётный период"))
    value = models.DecimalField(_("показание, м³"), max_digits=12, decimal_places=3)
    submitted_at = models.DateTimeField(_("передано"))
    channel = models.CharField(_("способ передачи"), max_length=12, choices=ReadingChannel.choices)
    status = models.CharField(
        _("состояние"), max_length=16, choices=ReadingStatus.choices, default=ReadingStatus.ACCEPTED
    )
    submission_key = models.CharField(_("ключ передачи"), max_length=64)

    class Meta:
        verbose_name = _("показание")
        verbose_name_plural = _("показания")
        constraints = [
            models.UniqueConstraint(fields=["meter", "period", "submission_key"], name="reading_unique_submission"),
            models.CheckConstraint(condition=Q(value__gte=0), name="reading_value_not_negative"),
        ]
        indexes = [models.Index(fields=["meter", "period"], name="reading_meter_period")]

    def __str__(self) -> str:
        return f"{self.meter.serial}: {self.value} за {self.period}"
