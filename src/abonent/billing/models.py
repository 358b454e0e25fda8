"""Tariffs, norms, benefits, the penalty rates, and billing runs with their results.

Prices, norms and rates are data with dates, maintained by operators: each row is in force
from ``valid_from`` through ``valid_to`` (inclusive; empty: until further notice).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from abonent.billing.enums import BenefitCategory, BenefitMode, Direction, NormKind, RunStatus, VolumeMethod
from abonent.core.fields import PeriodField
from abonent.core.models import Supplier
from abonent.customers.models import PersonalAccount
from abonent.ledger.enums import Service
from abonent.metering.models import Meter, Reading

_VALID_RANGE = Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from"))


class Dated(models.Model):
    valid_from = models.DateField(_("действует с"))
    valid_to = models.DateField(_("действует по"), null=True, blank=True, help_text=_("Пусто — бессрочно"))

    class Meta:
        abstract = True

    def overlaps(self, others: models.QuerySet[Dated]) -> bool:
        """Whether any of ``others`` is in force on a day this row is."""
        far = dt.date.max
        mine_to = self.valid_to or far
        for other in others.exclude(pk=self.pk):
            if other.valid_from <= mine_to and self.valid_from <= (other.valid_to or far):
                return True
        return False

    def clean(self) -> None:
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            raise ValidationError({"valid_to": _("Окончание действия не может быть раньше начала")})


class Tariff(Dated):
    """The retail price of gas per m³ for a usage direction (set by the regional tariff body)."""

    supplier = models.ForeignKey(
        Supplier, on_delete=models.CASCADE, related_name="tariffs", verbose_name=_("поставщик")
    )
    direction = models.CharField(_("направление использования"), max_length=12, choices=Direction.choices)
    price = models.DecimalField(
        _("цена за 1 м³, ₽ с НДС"), max_digits=10, decimal_places=4, validators=[MinValueValidator(Decimal("0.0001"))]
    )
    basis = models.CharField(_("основание"), max_length=300, blank=True, help_text=_("Приказ тарифного органа"))

    class Meta:
        verbose_name = _("тариф")
        verbose_name_plural = _("тарифы")
        ordering = ["supplier_id", "direction", "-valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["supplier", "direction", "valid_from"], name="tariff_one_per_start"),
            models.CheckConstraint(condition=Q(price__gt=0), name="tariff_price_positive"),
            models.CheckConstraint(condition=_VALID_RANGE, name="tariff_valid_range"),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()}: {self.price} ₽/м³ с {self.valid_from:%d.%m.%Y}"

    def clean(self) -> None:
        super().clean()
        if self.supplier_id and self.direction and self.valid_from:
            same = Tariff.objects.filter(supplier_id=self.supplier_id, direction=self.direction)
            if self.overlaps(same):
                raise ValidationError(
                    {"valid_from": _("На эти дни у направления уже есть цена: закройте её днём раньше")}
                )


class Norm(Dated):
    """A consumption norm: m³ per resident per month, or m³ per m² of heated area in a month.

    ``month`` 0 means every month; a heating norm with a month profile has a row per month
    (months without a row have no heating by the norm).
    """

    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="norms", verbose_name=_("поставщик"))
    kind = models.CharField(_("вид"), max_length=12, choices=NormKind.choices)
    month = models.PositiveSmallIntegerField(
        _("месяц"), default=0, validators=[MaxValueValidator(12)], help_text=_("0 — каждый месяц, 1–12 — только этот")
    )
    value = models.DecimalField(
        _("норматив, м³"), max_digits=10, decimal_places=4, validators=[MinValueValidator(Decimal(0))]
    )
    basis = models.CharField(_("основание"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("норматив потребления")
        verbose_name_plural = _("нормативы потребления")
        ordering = ["supplier_id", "kind", "month", "-valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["supplier", "kind", "month", "valid_from"], name="norm_one_per_start"),
            models.CheckConstraint(condition=Q(value__gte=0), name="norm_value_not_negative"),
            models.CheckConstraint(condition=Q(month__lte=12), name="norm_month_range"),
            models.CheckConstraint(condition=_VALID_RANGE, name="norm_valid_range"),
        ]

    def __str__(self) -> str:
        month = f", месяц {self.month}" if self.month else ""
        return f"{self.get_kind_display()}{month}: {self.value} м³ с {self.valid_from:%d.%m.%Y}"

    def clean(self) -> None:
        super().clean()
        if self.supplier_id and self.kind and self.valid_from:
            same = Norm.objects.filter(supplier_id=self.supplier_id, kind=self.kind, month=self.month)
            if self.overlaps(same):
                raise ValidationError({"valid_from": _("На эти дни такой норматив уже есть: закройте его днём раньше")})


class Benefit(Dated):
    """A social-support benefit (льгота) of an account: ``share`` percent of the gas for
    ``persons`` of its residents (empty: all), within the norm or of the whole volume."""

    account = models.ForeignKey(
        PersonalAccount, on_delete=models.CASCADE, related_name="benefits", verbose_name=_("лицевой счёт")
    )
    category = models.CharField(_("категория"), max_length=16, choices=BenefitCategory.choices)
    share = models.DecimalField(
        _("размер, %"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal(100))],
    )
    persons = models.PositiveSmallIntegerField(
        _("на скольких проживающих"), null=True, blank=True, help_text=_("Пусто — на всех")
    )
    within_norm = models.BooleanField(_("в пределах норматива"), default=True)
    mode = models.CharField(_("как предоставляется"), max_length=12, choices=BenefitMode.choices)
    document = models.CharField(_("документ-основание"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("льгота")
        verbose_name_plural = _("льготы")
        constraints = [
            models.CheckConstraint(condition=Q(share__gt=0) & Q(share__lte=100), name="benefit_share_range"),
            models.CheckConstraint(condition=Q(persons__isnull=True) | Q(persons__gt=0), name="benefit_persons"),
            models.CheckConstraint(condition=_VALID_RANGE, name="benefit_valid_range"),
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()}: {self.share} %"


class KeyRate(models.Model):
    """The Bank of Russia key rate from a day on."""

    effective_from = models.DateField(_("действует с"), unique=True)
    rate = models.DecimalField(
        _("ставка, % годовых"), max_digits=5, decimal_places=2, validators=[MinValueValidator(Decimal(0))]
    )

    class Meta:
        verbose_name = _("ключевая ставка")
        verbose_name_plural = _("ключевая ставка Банка России")
        ordering = ["-effective_from"]
        constraints = [models.CheckConstraint(condition=Q(rate__gte=0), name="key_rate_not_negative")]

    def __str__(self) -> str:
        return f"{self.rate} % с {self.effective_from:%d.%m.%Y}"


class PenaltyRateCap(Dated):
    """A rate the government fixed for penalties: the key rate, where higher, is lowered to it."""

    rate = models.DecimalField(_("ставка не выше, % годовых"), max_digits=5, decimal_places=2)
    basis = models.CharField(_("основание"), max_length=300)

    class Meta:
        verbose_name = _("ограничение ставки пеней")
        verbose_name_plural = _("ограничения ставки пеней")
        ordering = ["-valid_from"]
        constraints = [models.CheckConstraint(condition=_VALID_RANGE, name="penalty_cap_valid_range")]

    def __str__(self) -> str:
        return f"{self.rate} % ({self.basis})"

    def clean(self) -> None:
        super().clean()
        if self.valid_from and self.overlaps(PenaltyRateCap.objects.all()):
            raise ValidationError({"valid_from": _("На эти дни ограничение ставки уже есть: закройте его днём раньше")})


class PenaltyMoratorium(Dated):
    """Days on which no penalty accrues."""

    basis = models.CharField(_("основание"), max_length=300)

    class Meta:
        verbose_name = _("мораторий на пени")
        verbose_name_plural = _("моратории на пени")
        ordering = ["-valid_from"]
        constraints = [models.CheckConstraint(condition=_VALID_RANGE, name="penalty_moratorium_valid_range")]

    def __str__(self) -> str:
        return self.basis

    def clean(self) -> None:
        super().clean()
        if self.valid_from and self.overlaps(PenaltyMoratorium.objects.all()):
            raise ValidationError({"valid_from": _("Эти дни уже входят в другой мораторий")})


class BillingPeriod(models.Model):
    """A supplier's period; once closed, no run posts to it."""

    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="+", verbose_name=_("поставщик"))
    period = PeriodField(_("период"))
    closed_at = models.DateTimeField(_("закрыт"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("расчётный период")
        verbose_name_plural = _("расчётные периоды")
        constraints = [models.UniqueConstraint(fields=["supplier", "period"], name="billing_period_unique")]

    def __str__(self) -> str:
        return f"{self.supplier} {self.period}"


class BillingRun(models.Model):
    """One run of billing for a supplier and a period. At most one runs at a time: a run
    holds a lease it renews as it goes; a run whose lease ran out (it was killed) can be
    taken over by a new one, which ends in the state the first would have."""

    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="+", verbose_name=_("поставщик"))
    period = PeriodField(_("период"))
    status = models.CharField(_("состояние"), max_length=8, choices=RunStatus.choices, default=RunStatus.RUNNING)
    started_at = models.DateTimeField(_("начат"))
    finished_at = models.DateTimeField(_("закончен"), null=True, blank=True)
    lease_until = models.DateTimeField(_("занят до"))
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    channel = models.CharField(_("откуда"), max_length=16)
    chunks = models.PositiveIntegerField(_("частей"), default=0)
    summary = models.JSONField(_("итоги"), default=dict, blank=True)
    error = models.TextField(_("ошибка"), blank=True)

    class Meta:
        verbose_name = _("расчёт")
        verbose_name_plural = _("расчёты")
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["supplier", "period"], condition=Q(status="running"), name="billing_run_one_running"
            )
        ]

    def __str__(self) -> str:
        return f"{self.supplier} {self.period} ({self.get_status_display()})"


class BillingChunk(models.Model):
    """A range of account ids of a run, processed in one transaction."""

    run = models.ForeignKey(BillingRun, on_delete=models.CASCADE, related_name="parts")
    first_account_id = models.BigIntegerField()
    last_account_id = models.BigIntegerField()
    done_at = models.DateTimeField(null=True, blank=True)
    stats = models.JSONField(default=dict, blank=True)
    changed = models.JSONField(default=dict, blank=True)  # account id → first period to recalculate

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "first_account_id"], name="billing_chunk_unique")]

    def __str__(self) -> str:
        return f"{self.run_id}: {self.first_account_id}–{self.last_account_id}"


class MeterVolume(models.Model):
    """How much a meter counted for a period, and how that was found; the starting point of
    the next period (the last reading that stood and the volume estimated since it)."""

    meter = models.ForeignKey(Meter, on_delete=models.CASCADE, related_name="+")
    period = PeriodField(_("период"))
    method = models.CharField(_("способ"), max_length=20, choices=VolumeMethod.choices)
    volume = models.DecimalField(_("объём, м³"), max_digits=12, decimal_places=3)
    reading = models.ForeignKey(Reading, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    basis_period = PeriodField(_("последнее показание за"), null=True, blank=True)
    basis_value = models.DecimalField(max_digits=12, decimal_places=3, null=True, blank=True)
    estimated = models.DecimalField(
        _("начислено без показаний после него, м³"), max_digits=12, decimal_places=3, default=Decimal(0)
    )
    average = models.DecimalField(max_digits=12, decimal_places=3, null=True, blank=True)
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["meter", "period"], name="meter_volume_unique")]

    def __str__(self) -> str:
        return f"{self.meter_id} {self.period}: {self.volume} ({self.method})"


class Charge(models.Model):
    """The calculation of an account's service for a period as it stands now: method,
    volume, price, amount, benefits, and the inputs to read "how this was calculated".
    The money itself is in the ledger; this row is rewritten when the period is
    recalculated, the ledger gets the difference."""

    account = models.ForeignKey(PersonalAccount, on_delete=models.CASCADE, related_name="charges")
    period = PeriodField(_("период"))
    service = models.CharField(_("услуга"), max_length=8, choices=Service.choices)
    method = models.CharField(_("способ"), max_length=20, choices=VolumeMethod.choices, blank=True)
    volume = models.DecimalField(_("объём, м³"), max_digits=12, decimal_places=3, default=Decimal(0))
    price = models.DecimalField(_("цена за 1 м³"), max_digits=10, decimal_places=4, null=True, blank=True)
    amount = models.DecimalField(_("начислено, ₽"), max_digits=14, decimal_places=2)
    benefit_volume = models.DecimalField(max_digits=12, decimal_places=3, default=Decimal(0))
    benefit_amount = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal(0))
    debt_before = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal(0))
    details = models.JSONField(default=dict)
    run = models.ForeignKey(BillingRun, on_delete=models.SET_NULL, null=True, related_name="+")
    computed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("начисление")
        verbose_name_plural = _("начисления")
        constraints = [
            models.UniqueConstraint(fields=["account", "period", "service"], name="charge_unique"),
        ]
        indexes = [models.Index(fields=["period", "account"], name="charge_period_account")]

    def __str__(self) -> str:
        return f"{self.account_id} {self.period} {self.service}: {self.amount}"
