"""The amount of the last charge as a proof of owning a personal account: the figure
printed on the last bill, which whoever gets the bill knows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from abonent.billing.models import Charge
from abonent.customers.models import PersonalAccount
from abonent.ledger.enums import Service


def last_charge_matches(account: PersonalAccount, value: str | Decimal, now: dt.datetime) -> bool:
    """Whether ``value`` is the amount charged for gas in the account's last billed period
    (to the kopeck; no amount, no proof)."""
    if not isinstance(value, Decimal):
        return False
    last = Charge.objects.filter(account=account, service=Service.GAS).order_by("-period").first()
    return last is not None and last.amount > 0 and last.amount == value
