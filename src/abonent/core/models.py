"""The tenant (Supplier) and its terms that change on dates."""

from __future__ import annotations

import zoneinfo
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from abonent.core import requisites

QR_BANK_NAME_MAX = 45  # ГОСТ Р 56042-2014: BankName


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            _("Неизвестный часовой пояс «%(value)s»: укажите его как Europe/Moscow"), params={"value": value}
        )


class Supplier(models.Model):
    """A regional gas supplier (поставщик газа): one tenant of the install."""

    code = models.SlugField(
        _("код"), max_length=40, unique=True, help_text=_("Латиница, цифры и дефис: mezhregiongaz-msk")
    )
    short_name = models.CharField(_("краткое наименование"), max_length=120)
    legal_name = models.CharField(_("полное наименование"), max_length=300)
    inn = models.CharField(_("ИНН"), max_length=12, validators=[requisites.validate_inn])
    kpp = models.CharField(_("КПП"), max_length=9, validators=[requisites.validate_kpp])
    ogrn = models.CharField(_("ОГРН"), max_length=15, validators=[requisites.validate_ogrn])
    legal_address = models.CharField(_("юридический адрес"), max_length=300)
    postal_address = models.CharField(_("почтовый адрес"), max_length=300, blank=True)
    hotline_phone = models.CharField(
        _("телефон горячей линии"),
        max_length=32,
        validators=[RegexValidator(r"^[\d +()\-]{5,32}$", _("Телефон: цифры, пробелы, +, скобки и дефисы"))],
    )
    phones = models.CharField(_("другие телефоны"), max_length=200, blank=True)
    email = models.EmailField(_("e-mail"))
    feedback_url = models.URLField(_("страница обратной связи"), blank=True)
    site = models.URLField(_("сайт"), blank=True)
    office_hours = models.CharField(_("часы работы"), max_length=200, blank=True)
    time_zone = models.CharField(
        _("часовой пояс"), max_length=64, default="Europe/Moscow", validators=[validate_time_zone]
    )
    # Bank details for payment documents and the payment QR code
    bank_name = models.CharField(_("банк"), max_length=200)
    bic = models.CharField(_("БИК"), max_length=9, validators=[requisites.validate_bic])
    settlement_account = models.CharField(_("расчётный счёт"), max_length=20)
    correspondent_account = models.CharField(_("корреспондентский счёт"), max_length=20)
    is_active = models.BooleanField(_("работает"), default=True)
    created_at = models.DateTimeField(_("создан"), auto_now_add=True)

    class Meta:
        verbose_name = _("поставщик")
        verbose_name_plural = _("поставщики")
        constraints = [
            models.CheckConstraint(condition=Q(inn__regex=r"^(\d{10}|\d{12})$"), name="supplier_inn_digits"),
            models.CheckConstraint(condition=Q(bic__regex=r"^04\d{7}$"), name="supplier_bic_digits"),
            models.CheckConstraint(
                condition=Q(settlement_account__regex=r"^\d{20}$") & Q(correspondent_account__regex=r"^\d{20}$"),
                name="supplier_accounts_digits",
            ),
        ]

    def __str__(self) -> str:
        return self.short_name

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.bic and requisites.check_bic(self.bic) is None:
            if error := requisites.check_settlement_account(self.settlement_account, self.bic):
                errors["settlement_account"] = error
            if error := requisites.check_correspondent_account(self.correspondent_account, self.bic):
                errors["correspondent_account"] = error
        if len(self.bank_name or "") > QR_BANK_NAME_MAX:
            errors["bank_name"] = str(
                _("Для QR-кода на квитанции (ГОСТ Р 56042) название банка — не длиннее {limit} символов").format(
                    limit=QR_BANK_NAME_MAX
                )
            )
        if errors:
            raise ValidationError(errors)


class LinkProof(models.TextChoices):
    PIN = "pin", _("PIN-код с квитанции")
    LAST_CHARGE = "last_charge", _("сумма последнего начисления")
    METER_VALUE = "meter_value", _("показание счётчика")


class SupplierTerms(models.Model):
    """A supplier's rules in force from ``effective_from`` until the next version.

    Every version is complete: the rules on a day are those of the latest version that
    took effect on or before that day (``supplier_terms_on``).
    """

    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="terms", verbose_name=_("поставщик"))
    effective_from = models.DateField(_("действует с"))
    # Readings (ПП РФ №549)
    reading_window_start_day = models.PositiveSmallIntegerField(
        _("приём показаний с (число)"), default=15, validators=[MinValueValidator(1), MaxValueValidator(28)]
    )
    reading_window_end_day = models.PositiveSmallIntegerField(
        _("приём показаний по (число)"), default=25, validators=[MinValueValidator(1), MaxValueValidator(31)]
    )
    readings_allowed = models.BooleanField(_("приём показаний через кабинет"), default=True)
    zero_consumption_allowed = models.BooleanField(_("нулевой расход допускается"), default=True)
    rollover_allowed = models.BooleanField(_("переход счётчика через ноль допускается"), default=False)
    max_monthly_consumption = models.DecimalField(
        _("наибольший расход за месяц, м³"), max_digits=12, decimal_places=3, default=Decimal("10000")
    )
    # Payment date and bills (ЖК РФ ст.155)
    due_day = models.PositiveSmallIntegerField(
        _("оплата до (число следующего месяца)"), validators=[MinValueValidator(1), MaxValueValidator(28)]
    )
    bill_delivery_day = models.PositiveSmallIntegerField(
        _("квитанция до (число следующего месяца)"), validators=[MinValueValidator(1), MaxValueValidator(28)]
    )
    paper_bills = models.BooleanField(_("бумажные квитанции"), default=True)
    paperless_allowed = models.BooleanField(
        _("можно отказаться от бумажной квитанции"),
        default=True,
        help_text=_("Абонент получает квитанцию на подтверждённый e-mail вместо бумажной"),
    )
    # Payments
    card_payments_allowed = models.BooleanField(_("оплата картой"), default=True)
    sbp_allowed = models.BooleanField(_("оплата через СБП"), default=True)
    # Linking a personal account
    link_proofs = models.JSONField(
        _("чем подтверждается привязка лицевого счёта"), default=list, help_text=_("pin, last_charge, meter_value")
    )
    # Warnings
    verification_warning_days = models.PositiveSmallIntegerField(_("предупреждать о поверке за, дней"), default=60)
    contract_warning_days = models.PositiveSmallIntegerField(
        _("предупреждать об окончании договора за, дней"), default=60
    )
    created_at = models.DateTimeField(_("создано"), auto_now_add=True)

    class Meta:
        verbose_name = _("условия поставщика")
        verbose_name_plural = _("условия поставщиков")
        ordering = ["supplier_id", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["supplier", "effective_from"], name="supplier_terms_one_per_date"),
            models.CheckConstraint(
                condition=Q(reading_window_start_day__gte=1)
                & Q(reading_window_start_day__lte=models.F("reading_window_end_day"))
                & Q(reading_window_end_day__lte=31),
                name="supplier_terms_reading_window",
            ),
            models.CheckConstraint(condition=Q(due_day__gte=1) & Q(due_day__lte=28), name="supplier_terms_due_day"),
            models.CheckConstraint(
                condition=Q(bill_delivery_day__gte=1) & Q(bill_delivery_day__lte=28),
                name="supplier_terms_bill_delivery_day",
            ),
            models.CheckConstraint(condition=Q(max_monthly_consumption__gt=0), name="supplier_terms_max_consumption"),
        ]

    def __str__(self) -> str:
        return f"{self.supplier} с {self.effective_from:%d.%m.%Y}"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        start, end = self.reading_window_start_day, self.reading_window_end_day
        if start and end and start > end:
            errors["reading_window_end_day"] = str(_("Окончание приёма показаний не может быть раньше начала"))
        proofs = self.link_proofs if isinstance(self.link_proofs, list) else None
        if not proofs or any(p not in LinkProof.values for p in proofs) or len(set(proofs)) != len(proofs):
            errors["link_proofs"] = str(
                _("Укажите хотя бы один способ из: %(choices)s, без повторов")
                % {"choices": ", ".join(LinkProof.values)}
            )
        if errors:
            raise ValidationError(errors)


class RateCounter(models.Model):
    """A hit counter of one key in one time window, for rate limits that hold across app
    servers without Redis (``core.ratelimit``)."""

    key = models.CharField(max_length=200)
    window_start = models.DateTimeField()
    hits = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "window_start"], name="rate_counter_unique_window")]

    def __str__(self) -> str:
        return f"{self.key} @ {self.window_start:%H:%M}: {self.hits}"


class AuditRecord(models.Model):
    """Who changed what, when, from which channel, with the values before and after."""

    at = models.DateTimeField(_("когда"), db_index=True)
    actor_id = models.BigIntegerField(_("кто (пользователь)"), null=True, blank=True)
    channel = models.CharField(_("откуда"), max_length=16)
    action = models.CharField(_("действие"), max_length=64)
    object_type = models.CharField(_("объект"), max_length=64)
    object_id = models.CharField(_("номер объекта"), max_length=64)
    before = models.JSONField(_("было"), null=True, blank=True)
    after = models.JSONField(_("стало"), null=True, blank=True)
    ip = models.GenericIPAddressField(_("IP-адрес"), null=True, blank=True)

    class Meta:
        verbose_name = _("запись журнала изменений")
        verbose_name_plural = _("журнал изменений")
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object")]

    def __str__(self) -> str:
        return f"{self.at:%d.%m.%Y %H:%M} {self.action} {self.object_type}#{self.object_id}"
