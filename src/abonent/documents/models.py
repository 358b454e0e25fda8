"""Bills as stored files, and the bulk runs that make them.

A ``Bill`` is the file of an account's bill for a period as it was last drawn: where it is,
its SHA-256, and the fingerprint of what it says (``documents.content``). The file is current
while the fingerprint of the bill's content now is the same; otherwise it is drawn again.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from abonent.billing.enums import RunStatus
from abonent.core.fields import PeriodField
from abonent.core.models import Supplier
from abonent.customers.models import PersonalAccount


class BillRun(models.Model):
    """The bills of a supplier's period drawn in bulk, chunk by chunk (a chunk is a range of
    account ids). At most one runs at a time; a run whose lease ran out (it was killed) is
    taken over by a new one, which skips the bills already current."""

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
        verbose_name = _("формирование квитанций")
        verbose_name_plural = _("формирование квитанций")
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["supplier", "period"], condition=Q(status="running"), name="bill_run_one_running"
            )
        ]

    def __str__(self) -> str:
        return f"{self.supplier} {self.period} ({self.get_status_display()})"


class BillChunk(models.Model):
    run = models.ForeignKey(BillRun, on_delete=models.CASCADE, related_name="parts")
    first_account_id = models.BigIntegerField()
    last_account_id = models.BigIntegerField()
    done_at = models.DateTimeField(null=True, blank=True)
    stats = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "first_account_id"], name="bill_chunk_unique")]

    def __str__(self) -> str:
        return f"{self.run_id}: {self.first_account_id}–{self.last_account_id}"


class Bill(models.Model):
    account = models.ForeignKey(
        PersonalAccount, on_delete=models.CASCADE, related_name="bills", verbose_name=_("лицевой счёт")
    )
    period = PeriodField(_("период"))
    amount_due = models.DecimalField(_("к оплате, ₽"), max_digits=14, decimal_places=2)
    due_on = models.DateField(_("оплатить до"))
    fingerprint = models.CharField(_("отпечаток содержания"), max_length=64)
    file = models.CharField(_("файл"), max_length=300)
    sha256 = models.CharField(_("SHA-256 файла"), max_length=64)
    size = models.PositiveIntegerField(_("размер, байт"))
    rendered_at = models.DateTimeField(_("сформирована"))
    run = models.ForeignKey(BillRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("квитанция")
        verbose_name_plural = _("квитанции")
        constraints = [models.UniqueConstraint(fields=["account", "period"], name="bill_one_per_account_period")]
        indexes = [models.Index(fields=["period", "account"], name="bill_period_account")]

    def __str__(self) -> str:
        return f"{self.account_id} {self.period}"
