from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from abonent.core.fields import PeriodField
from abonent.core.money import format_number
from abonent.customers.models import PersonalAccount
from abonent.metering.enums import MeterStatus, ReadingChannel, ReadingStatus, ReviewReason

#: Statuses of a reading that stands for its period; at most one per meter and period.
STANDING = (ReadingStatus.ACCEPTED, ReadingStatus.NOT_FOR_BILLING)


class Meter(models.Model):
    """A gas meter (прибор учёта) at the account's premises."""

    account = models.ForeignKey(
        PersonalAccount, on_delete=models.CASCADE, related_name="meters", verbose_name=_("лицевой счёт")
    )
    serial = models.CharField(_("заводской номер"), max_length=40)
    model = models.CharField(_("модель"), max_length=120)
    digits = models.PositiveSmallIntegerField(_("разрядов до запятой"), default=5)
    decimals = models.PositiveSmallIntegerField(
        _("знаков после запятой"), default=3, help_text=_("Сколько знаков после запятой принимается: от 0 до 3")
    )
    initial_value = models.DecimalField(
        _("показание при установке, м³"), max_digits=12, decimal_places=3, default=Decimal(0)
    )
    installed_on = models.DateField(_("установлен"))
    sealed_on = models.DateField(_("опломбирован"), null=True, blank=True)
    verification_due_on = models.DateField(_("очередная поверка до"))
    status = models.CharField(_("состояние"), max_length=8, choices=MeterStatus.choices, default=MeterStatus.ACTIVE)
    removed_on = models.DateField(_("снят"), null=True, blank=True)

    class Meta:
        verbose_name = _("прибор учёта")
        verbose_name_plural = _("приборы учёта")
        indexes = [models.Index(fields=["serial"], name="meter_serial")]
        constraints = [
            models.UniqueConstraint(fields=["account", "serial"], name="meter_serial_unique_per_account"),
            models.CheckConstraint(condition=Q(digits__gte=4) & Q(digits__lte=9), name="meter_digits_range"),
            models.CheckConstraint(condition=Q(decimals__lte=3), name="meter_decimals_range"),
            models.CheckConstraint(condition=Q(initial_value__gte=0), name="meter_initial_value_not_negative"),
            models.CheckConstraint(
                condition=Q(verification_due_on__gt=F("installed_on")), name="meter_verification_after_install"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.model} № {self.serial}"


class Reading(models.Model):
    """A meter reading for a billing period.

    A period has at most one reading that stands (accepted, or kept but not used for billing);
    a correction supersedes the one before it, and both stay in the history. ``consumption``
    is as it was computed when the reading was recorded, from the reading that stood before.
    """

    meter = models.ForeignKey(Meter, on_delete=models.CASCADE, related_name="readings", verbose_name=_("прибор учёта"))
    period = PeriodField(_("расчётный период"))
    value = models.DecimalField(_("показание, м³"), max_digits=12, decimal_places=3)
    consumption = models.DecimalField(_("расход, м³"), max_digits=12, decimal_places=3, null=True, blank=True)
    read_on = models.DateField(_("дата показания"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("передано"))
    channel = models.CharField(_("способ передачи"), max_length=12, choices=ReadingChannel.choices)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("кто передал"),
    )
    operator_name = models.CharField(_("оператор"), max_length=150, blank=True)
    status = models.CharField(
        _("состояние"), max_length=16, choices=ReadingStatus.choices, default=ReadingStatus.ACCEPTED
    )
    submission_key = models.CharField(_("ключ передачи"), max_length=64)
    replaces = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replaced_by",
        verbose_name=_("исправляет показание"),
    )
    review = models.CharField(_("требует проверки"), max_length=8, choices=ReviewReason.choices, blank=True)
    reviewed_at = models.DateTimeField(_("проверено"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("кто проверил"),
    )
    rejection_reason = models.CharField(_("причина отклонения"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("показание")
        verbose_name_plural = _("показания")
        constraints = [
            models.UniqueConstraint(fields=["meter", "period", "submission_key"], name="reading_unique_submission"),
            models.UniqueConstraint(
                fields=["meter", "period"],
                condition=Q(status__in=[s.value for s in STANDING]),
                name="reading_one_standing_per_period",
            ),
            models.CheckConstraint(condition=Q(value__gte=0), name="reading_value_not_negative"),
            models.CheckConstraint(
                condition=~Q(status=ReadingStatus.REJECTED) | ~Q(rejection_reason=""),
                name="reading_rejection_has_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["meter", "period"], name="reading_meter_period"),
            # what changed since the last billing run
            models.Index(fields=["submitted_at"], name="reading_submitted_at"),
            models.Index(fields=["reviewed_at"], condition=Q(reviewed_at__isnull=False), name="reading_reviewed_at"),
            models.Index(
                fields=["submitted_at"], condition=~Q(review="") & Q(reviewed_at=None), name="reading_to_review"
            ),
        ]

    def __str__(self) -> str:
        return f"№ {self.meter.serial}: {format_number(self.value)} м³ за {self.period.label()}"
