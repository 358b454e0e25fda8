from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from abonent.core.models import LinkProof, Supplier
from abonent.customers.enums import AccountStatus, ContractKind, ContractStatus, EquipmentKind, LinkOutcome

# Usage directions (cooking; water heating; heating) by code, with the flag that marks each
USAGE_FLAGS = (("cooking", "uses_cooking"), ("water_heating", "uses_water_heating"), ("heating", "uses_heating"))


def address_short(locality: str, street: str, house: str, apartment: str) -> str:
    """The premises as a message names them: «Тула, ул. Ленина, д. 5, кв. 12»."""
    parts = [locality, street, f"д. {house}" if house else "", f"кв. {apartment}" if apartment else ""]
    return ", ".join(p for p in parts if p)


class PersonalAccount(models.Model):
    """A personal account (лицевой счёт) of a household with its supplier."""

    supplier = models.ForeignKey(
        Supplier, on_delete=models.PROTECT, related_name="accounts", verbose_name=_("поставщик")
    )
    number = models.CharField(_("номер лицевого счёта"), max_length=12)
    holder_last_name = models.CharField(_("фамилия владельца"), max_length=100)
    holder_first_name = models.CharField(_("имя владельца"), max_length=100)
    holder_middle_name = models.CharField(_("отчество владельца"), max_length=100, blank=True)
    postal_code = models.CharField(_("индекс"), max_length=6, blank=True)
    region = models.CharField(_("регион"), max_length=100)
    locality = models.CharField(_("населённый пункт"), max_length=150)
    street = models.CharField(_("улица"), max_length=150, blank=True)
    house = models.CharField(_("дом"), max_length=20)
    apartment = models.CharField(_("квартира"), max_length=10, blank=True)
    residents = models.PositiveSmallIntegerField(_("проживает, чел."), default=1)
    heated_area = models.DecimalField(_("отапливаемая площадь, м²"), max_digits=8, decimal_places=2, default=0)
    central_hot_water = models.BooleanField(_("центральное горячее водоснабжение"), default=False)
    uses_cooking = models.BooleanField(_("пищеприготовление"), default=True)
    uses_water_heating = models.BooleanField(_("подогрев воды"), default=False)
    uses_heating = models.BooleanField(_("отопление"), default=False)
    status = models.CharField(
        _("состояние"), max_length=12, choices=AccountStatus.choices, default=AccountStatus.ACTIVE
    )
    opened_on = models.DateField(_("открыт"))
    closed_on = models.DateField(_("закрыт"), null=True, blank=True)
    pin_hash = models.CharField(_("PIN-код (хеш)"), max_length=64, editable=False)
    # Paper bills: by default the supplier delivers a paper bill. A subscriber who gave it up
    # (where the supplier allows) gets the bill by e-mail at their confirmed address instead.
    paperless_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("квитанция на e-mail пользователю"),
        help_text=_("Пусто — бумажная квитанция"),
    )
    paperless_since = models.DateTimeField(_("без бумажной квитанции с"), null=True, blank=True)

    class Meta:
        verbose_name = _("лицевой счёт")
        verbose_name_plural = _("лицевые счета")
        constraints = [
            models.UniqueConstraint(fields=["supplier", "number"], name="account_number_unique_per_supplier"),
            models.CheckConstraint(condition=Q(number__regex=r"^\d{12}$"), name="account_number_12_digits"),
            models.CheckConstraint(condition=Q(heated_area__gte=0), name="account_heated_area_not_negative"),
            models.CheckConstraint(
                condition=Q(closed_on__isnull=True) | Q(closed_on__gte=F("opened_on")),
                name="account_closed_after_opened",
            ),
            models.CheckConstraint(
                condition=~Q(status=AccountStatus.CLOSED) | Q(closed_on__isnull=False), name="account_closed_has_date"
            ),
        ]
        # linking finds the supplier from the number; operators search by the number
        indexes = [models.Index(fields=["number"], name="account_number")]

    def __str__(self) -> str:
        return self.number

    @property
    def holder_name(self) -> str:
        return " ".join(p for p in (self.holder_last_name, self.holder_first_name, self.holder_middle_name) if p)

    @property
    def usage_directions(self) -> list[tuple[str, str]]:
        """What the gas is used for, as (code, name) in the order people say it."""
        return [
            (code, str(self._meta.get_field(flag).verbose_name))  # type: ignore[union-attr]
            for code, flag in USAGE_FLAGS
            if getattr(self, flag)
        ]

    @property
    def holder_masked(self) -> str:
        """The holder as shown to the people who linked the account: «Иванов И. П.»."""
        initials = " ".join(f"{part[0]}." for part in (self.holder_first_name, self.holder_middle_name) if part)
        return f"{self.holder_last_name} {initials}".strip()

    @property
    def address(self) -> str:
        parts = [self.postal_code, self.region, self.locality, self.street, f"д. {self.house}"]
        if self.apartment:
            parts.append(f"кв. {self.apartment}")
        return ", ".join(p for p in parts if p)


class GasEquipment(models.Model):
    """Gas equipment installed at the account's premises."""

    account = models.ForeignKey(
        PersonalAccount, on_delete=models.CASCADE, related_name="equipment", verbose_name=_("лицевой счёт")
    )
    kind = models.CharField(_("вид"), max_length=16, choices=EquipmentKind.choices)
    model = models.CharField(_("модель"), max_length=120, blank=True)
    installed_on = models.DateField(_("установлено"), null=True, blank=True)

    class Meta:
        verbose_name = _("газовое оборудование")
        verbose_name_plural = _("газовое оборудование")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.model}".strip()


class Contract(models.Model):
    """A contract of the account: gas supply or maintenance of in-house gas equipment (ТО ВДГО)."""

    account = models.ForeignKey(
        PersonalAccount, on_delete=models.CASCADE, related_name="contracts", verbose_name=_("лицевой счёт")
    )
    kind = models.CharField(_("вид"), max_length=8, choices=ContractKind.choices)
    number = models.CharField(_("номер"), max_length=40)
    contractor = models.CharField(_("исполнитель"), max_length=200, blank=True)
    signed_on = models.DateField(_("заключён"))
    valid_from = models.DateField(_("действует с"))
    valid_to = models.DateField(_("действует по"), null=True, blank=True)
    status = models.CharField(
        _("состояние"), max_length=12, choices=ContractStatus.choices, default=ContractStatus.ACTIVE
    )

    class Meta:
        verbose_name = _("договор")
        verbose_name_plural = _("договоры")
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")), name="contract_valid_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} № {self.number}"


class AccountLink(models.Model):
    """A user's link to a personal account, proven with the PIN from the bill (or another
    proof the supplier accepts). Several users may link the same account."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="account_links", verbose_name=_("пользователь")
    )
    account = models.ForeignKey(
        PersonalAccount, on_delete=models.CASCADE, related_name="links", verbose_name=_("лицевой счёт")
    )
    name = models.CharField(_("название"), max_length=40, blank=True, help_text=_("«Дача», «Мама»"))
    is_default = models.BooleanField(_("основной"), default=False)
    proof = models.CharField(_("подтверждён"), max_length=16, choices=LinkProof.choices)
    channel = models.CharField(_("откуда"), max_length=16)
    linked_at = models.DateTimeField(_("привязан"))

    class Meta:
        verbose_name = _("привязка лицевого счёта")
        verbose_name_plural = _("привязки лицевых счетов")
        constraints = [
            models.UniqueConstraint(fields=["user", "account"], name="account_link_unique"),
            models.UniqueConstraint(
                fields=["user"], condition=Q(is_default=True), name="account_link_one_default_per_user"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account} — {self.user}"


class LinkAttempt(models.Model):
    """One try to link a personal account, kept for operators: who, when, from where,
    which number and proof kind, and how it ended. The proof's value is never stored."""

    at = models.DateTimeField(_("когда"), db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="link_attempts",
        verbose_name=_("пользователь"),
    )
    supplier = models.ForeignKey(
        Supplier, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("поставщик")
    )
    number = models.CharField(_("номер лицевого счёта"), max_length=12)
    account = models.ForeignKey(
        PersonalAccount,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="link_attempts",
        verbose_name=_("лицевой счёт"),
    )
    proof = models.CharField(_("чем подтверждал"), max_length=16, choices=LinkProof.choices)
    outcome = models.CharField(_("результат"), max_length=12, choices=LinkOutcome.choices)
    channel = models.CharField(_("откуда"), max_length=16)
    ip = models.GenericIPAddressField(_("IP-адрес"), null=True, blank=True)

    class Meta:
        verbose_name = _("попытка привязки счёта")
        verbose_name_plural = _("попытки привязки счетов")
        indexes = [models.Index(fields=["number", "at"], name="link_attempt_number_at")]

    def __str__(self) -> str:
        return f"{self.at:%d.%m.%Y %H:%M} {self.number}: {self.get_outcome_display()}"
