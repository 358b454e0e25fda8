from django.db import models
from django.utils.translation import gettext_lazy as _


class Service(models.TextChoices):
    """A line of the account: each has its own balance and is paid on its own."""

    GAS = "gas", _("газоснабжение")
    PENALTY = "penalty", _("пени")
    VDGO = "vdgo", _("ТО ВДГО")


class EntryKind(models.TextChoices):
    """What an entry of the ledger records. A positive amount adds to the debt, a negative
    one lowers it: charges are ≥ 0, benefits ≤ 0, payments < 0, refunds (money returned
    to the payer: the payment's reversal) > 0, recalculations and corrections either way."""

    CHARGE = "charge", _("начислено")
    BENEFIT = "benefit", _("льгота")
    RECALCULATION = "recalc", _("перерасчёт")
    PAYMENT = "payment", _("оплачено")
    REFUND = "refund", _("возврат оплаты")
    CORRECTION = "correction", _("корректировка")
