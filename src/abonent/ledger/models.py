"""The ledger of a personal account: entries per service and period, and the balance that
is derived from them.

An entry is never changed or deleted (the database refuses it); a mistake is put right by a
new entry. Every entry carries the key of its source (a billing run's calculation, a payment,
an operator's correction), unique, so the same thing cannot be posted twice.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from abonent.core.fields import PeriodField
from abonent.customers.models import PersonalAccount
from abonent.ledger.enums import EntryKind, Service


class LedgerEntry(models.Model):
    """One posting to an account.

    ``period`` is the period the amount is for (a charge for October, a recalculation of
    August); ``billed_in`` is the period whose bill shows it and whose due date it has (a
    recalculation of August made in the November run is on November's bill). A payment's
    ``billed_in`` is the period of its date; ``pays_period`` is the period the payer named.
    """

    account = models.ForeignKey(
        PersonalAccount, on_delete=models.PROTECT, related_name="ledger_entries", verbose_name=_("лицевой счёт")
    )
    service = models.CharField(_("услуга"), max_length=8, choices=Service.choices)
    kind = models.CharField(_("вид"), max_length=10, choices=EntryKind.choices)
    period = PeriodField(_("за период"))
    billed_in = PeriodField(_("в квитанции за"))
    amount = models.DecimalField(_("сумма, ₽"), max_digits=14, decimal_places=2)
    volume = models.DecimalField(_("объём, м³"), max_digits=12, decimal_places=3, null=True, blank=True)
    posted_on = models.DateField(_("дата"))
    created_at = models.DateTimeField(_("проведено"))
    source_key = models.CharField(_("источник"), max_length=100, unique=True)
    pays_period = PeriodField(_("оплата за период"), null=True, blank=True)
    note = models.CharField(_("пояснение"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("проводка")
        verbose_name_plural = _("проводки")
        indexes = [
            models.Index(fields=["account", "service", "billed_in"], name="ledger_account_service_billed"),
            models.Index(fields=["period", "account"], name="ledger_period_account"),  # a billing run's chunk
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="ledger_amount_not_zero"),
            models.CheckConstraint(
                condition=~Q(kind__in=[EntryKind.CHARGE, EntryKind.REFUND]) | Q(amount__gt=0),
                name="ledger_charge_refund_positive",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=[EntryKind.BENEFIT, EntryKind.PAYMENT]) | Q(amount__lt=0),
                name="ledger_credit_negative",
            ),
            models.CheckConstraint(
                condition=Q(pays_period__isnull=True) | Q(kind=EntryKind.PAYMENT), name="ledger_pays_period_payment"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.service} {self.kind} {self.period}: {self.amount}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None and not self._state.adding:
            raise ValueError("a ledger entry is never changed: post a correcting entry")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise ValueError("a ledger entry is never deleted: post a correcting entry")


class LedgerBalance(models.Model):
    """The sum of an account's entries of one service, kept by the posting service in the
    same transaction as the entries (``ledger_verify`` recomputes it from them). Positive is
    a debt, negative an overpayment."""

    account = models.ForeignKey(
        PersonalAccount, on_delete=models.CASCADE, related_name="balances", verbose_name=_("лицевой счёт")
    )
    service = models.CharField(_("услуга"), max_length=8, choices=Service.choices)
    amount = models.DecimalField(_("сальдо, ₽"), max_digits=14, decimal_places=2, default=0)

    class Meta:
        verbose_name = _("сальдо")
        verbose_name_plural = _("сальдо")
        constraints = [models.UniqueConstraint(fields=["account", "service"], name="ledger_balance_unique")]

    def __str__(self) -> str:
        return f"{self.account_id} {self.service}: {self.amount}"
