"""Payers and their accounts for the payments tests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from abonent.core.models import LinkProof, Supplier
from abonent.customers.models import AccountLink, PersonalAccount
from abonent.identity.models import User
from abonent.payments.models import Payment
from abonent.payments.services import PartInput, payment_start
from tests.factories import account_make
from tests.web.identity import user_make

UTC = dt.UTC
NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
RETURN = "http://testserver/payments/return/"


def payer_make(
    supplier: Supplier, *, accounts: int = 1, phone: str = "+79161234567"
) -> tuple[User, list[PersonalAccount]]:
    user = user_make(phone=phone, email=f"{phone[1:]}@mail.example")
    owned = []
    for i in range(accounts):
        account = account_make(supplier=supplier, number=f"770{phone[-8:]}{i}")
        AccountLink.objects.create(user=user, account=account, proof=LinkProof.PIN, channel="web",
                                   linked_at=NOW - dt.timedelta(days=1))  # fmt: skip
        owned.append(account)
    return user, owned


def pay(
    user: User, account: PersonalAccount, amount: str = "1250.50", *, now: dt.datetime = NOW, **kw: object
) -> Payment:
    return payment_start(
        user=user, parts=[PartInput(account_id=account.pk, amount=amount)], method=str(kw.pop("method", "bank_card")),
        return_url=RETURN, now=now, **kw,  # type: ignore[arg-type]
    )  # fmt: skip


D = Decimal
