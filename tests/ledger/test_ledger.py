"""The ledger: entries that never change, one posting per source, balances that are the sums
of the entries, the monthly turnover, and an operator's correction."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import DatabaseError, transaction

from abonent.core.models import AuditRecord, Supplier
from abonent.core.periods import Period
from abonent.customers.models import PersonalAccount
from abonent.ledger.enums import EntryKind, Service
from abonent.ledger.models import LedgerBalance, LedgerEntry
from abonent.ledger.selectors import balances_get, entries_list, ledger_verify, turnover_list
from abonent.ledger.services import CorrectionInvalid, EntryAlreadyPosted, NewEntry, entries_post, entry_correct
from tests.factories import account_make

D = Decimal
NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
SEPTEMBER, OCTOBER, NOVEMBER = Period(2026, 9), Period(2026, 10), Period(2026, 11)


@pytest.fixture
def account(supplier: Supplier) -> PersonalAccount:
    return account_make(supplier=supplier)


def entry(account: PersonalAccount, key: str, amount: str, **fields: object) -> NewEntry:
    values: dict[str, object] = {
        "account_id": account.pk,
        "service": Service.GAS,
        "kind": EntryKind.CHARGE,
        "period": OCTOBER,
        "billed_in": OCTOBER,
        "amount": D(amount),
        "posted_on": OCTOBER.last_day,
        "source_key": key,
        **fields,
    }
    return NewEntry(**values)  # type: ignore[arg-type]


def test_posting_writes_the_entries_and_moves_the_balances(account: PersonalAccount) -> None:
    posted = entries_post(
        entries=[
            entry(account, "charge:oct", "608.40", volume=D("45.000")),
            entry(account, "benefit:oct", "-101.40", kind=EntryKind.BENEFIT),
            entry(account, "penalty:oct", "3.66", service=Service.PENALTY),
        ],
        now=NOW,
    )

    assert posted == 3
    # gas: 608.40 − 101.40 = 507.00; penalties 3.66; no entries of the ТО ВДГО line: zero
    assert balances_get(account=account) == {Service.GAS: D("507.00"), Service.PENALTY: D("3.66"), Service.VDGO: D(0)}
    charge = LedgerEntry.objects.get(source_key="charge:oct")
    assert (charge.amount, charge.volume, charge.period, charge.created_at) == (D("608.40"), D("45.000"), OCTOBER, NOW)
    assert ledger_verify() == []


def test_an_entry_is_never_changed_by_the_model(account: PersonalAccount) -> None:
    entries_post(entries=[entry(account, "charge:oct", "608.40")], now=NOW)
    charge = LedgerEntry.objects.get(source_key="charge:oct")

    charge.amount = D("1.00")
    with pytest.raises(ValueError, match="never changed"):
        charge.save()
    with pytest.raises(ValueError, match="never deleted"):
        charge.delete()

    assert LedgerEntry.objects.get(source_key="charge:oct").amount == D("608.40")


def test_the_database_refuses_to_change_an_entry(account: PersonalAccount) -> None:
    entries_post(entries=[entry(account, "charge:oct", "608.40")], now=NOW)

    with pytest.raises(DatabaseError, match="never changed"), transaction.atomic():
        LedgerEntry.objects.filter(source_key="charge:oct").update(amount=D("1.00"))

    assert LedgerEntry.objects.get(source_key="charge:oct").amount == D("608.40")
    assert balances_get(account=account)[Service.GAS] == D("608.40")


def test_a_source_posted_twice_is_refused_and_nothing_of_the_second_posting_is_written(
    account: PersonalAccount,
) -> None:
    entries_post(entries=[entry(account, "charge:oct", "608.40")], now=NOW)

    with pytest.raises(EntryAlreadyPosted) as caught:
        entries_post(
            entries=[entry(account, "charge:nov", "500.00", period=NOVEMBER, billed_in=NOVEMBER),
                     entry(account, "charge:oct", "608.40")],
            now=NOW,
        )  # fmt: skip

    assert caught.value.code == "ledger_entry_already_posted"
    assert list(LedgerEntry.objects.values_list("source_key", flat=True)) == ["charge:oct"]
    assert balances_get(account=account)[Service.GAS] == D("608.40")
    assert ledger_verify() == []


@pytest.mark.parametrize(
    ("fields", "amount"),
    [
        ({}, "0.00"),  # zero
        ({}, "1.005"),  # not kopecks
        ({}, "-10.00"),  # a negative charge
        ({"kind": EntryKind.PAYMENT}, "10.00"),  # a positive payment
        ({"kind": EntryKind.BENEFIT}, "10.00"),  # a positive benefit
    ],
)
def test_impossible_entries_are_programming_errors(
    account: PersonalAccount, fields: dict[str, object], amount: str
) -> None:
    with pytest.raises(ValueError, match="bad"):
        entries_post(entries=[entry(account, "good", "1.00"), entry(account, "bad", amount, **fields)], now=NOW)

    assert not LedgerEntry.objects.exists()
    assert not LedgerBalance.objects.exists()


def test_balances_are_the_sums_of_the_entries_and_a_balance_written_around_the_service_is_found(
    supplier: Supplier, account: PersonalAccount
) -> None:
    other = account_make(supplier=supplier, number="770000000002")
    entries_post(
        entries=[
            entry(account, "a1", "608.40"),
            entry(account, "a2", "-700.00", kind=EntryKind.PAYMENT, posted_on=dt.date(2026, 11, 3), billed_in=NOVEMBER),
            entry(account, "a3", "12.34", kind=EntryKind.RECALCULATION),
            entry(other, "b1", "405.60"),
        ],
        now=NOW,
    )
    entries_post(entries=[entry(other, "b2", "-5.60", kind=EntryKind.CORRECTION)], now=NOW)

    # 608.40 − 700.00 + 12.34 = −79.26 (paid ahead); 405.60 − 5.60 = 400.00
    assert balances_get(account=account)[Service.GAS] == D("-79.26")
    assert balances_get(account=other)[Service.GAS] == D("400.00")
    assert ledger_verify() == []

    LedgerBalance.objects.filter(account=other, service=Service.GAS).update(amount=D("401.00"))
    (mismatch,) = ledger_verify()
    assert (mismatch.account_id, mismatch.service, mismatch.kept, mismatch.entries) == (
        other.pk,
        Service.GAS,
        D("401.00"),
        D("400.00"),
    )
    assert ledger_verify(account_ids=[account.pk]) == []


def test_the_turnover_of_each_month_opens_with_the_closing_of_the_month_before(account: PersonalAccount) -> None:
    entries_post(
        entries=[
            entry(account, "sep", "300.00", period=SEPTEMBER, billed_in=SEPTEMBER, volume=D("22.189")),
            entry(account, "oct", "608.40", volume=D("45.000")),
            entry(account, "oct-benefit", "-101.40", kind=EntryKind.BENEFIT),
            entry(account, "oct-paid", "-300.00", kind=EntryKind.PAYMENT, pays_period=SEPTEMBER),
            # a recalculation of September on October's bill
            entry(account, "sep-recalc", "-13.52", kind=EntryKind.RECALCULATION, period=SEPTEMBER),
            entry(account, "nov-fix", "5.00", kind=EntryKind.CORRECTION, billed_in=NOVEMBER),
            entry(account, "pen", "3.66", service=Service.PENALTY),
        ],
        now=NOW,
    )

    rows = turnover_list(account=account, first=OCTOBER, last=NOVEMBER, service=Service.GAS)

    october, november = rows
    assert (october.period, october.opening) == (OCTOBER, D("300.00"))  # September's bill
    assert (october.charged, october.volume, october.benefit, october.recalculated, october.paid) == (
        D("608.40"),
        D("45.000"),
        D("-101.40"),
        D("-13.52"),
        D("300.00"),
    )
    # 300 + 608.40 − 101.40 − 13.52 − 300 = 493.48
    assert october.closing == D("493.48")
    assert (november.opening, november.corrected, november.closing) == (D("493.48"), D("5.00"), D("498.48"))
    assert november.closing == balances_get(account=account)[Service.GAS]

    every = turnover_list(account=account, first=OCTOBER, last=OCTOBER)
    assert [(t.service, t.closing) for t in every] == [
        (Service.GAS, D("493.48")),
        (Service.PENALTY, D("3.66")),
        (Service.VDGO, D(0)),
    ]
    assert [e.source_key for e in entries_list(account=account, service=Service.GAS)][:1] == ["nov-fix"]


def correct(account: PersonalAccount, **fields: object) -> LedgerEntry:
    values: dict[str, object] = {
        "account": account,
        "service": Service.GAS,
        "period": OCTOBER,
        "amount": "-150,00",
        "reason": "Ошибка в показаниях за октябрь",
        "actor_id": None,
        "channel": "backoffice",
        "now": NOW,
        "source_key": "correction:1",
        **fields,
    }
    return entry_correct(**values)  # type: ignore[arg-type]


def test_a_correction_is_a_new_entry_with_an_audit_record(account: PersonalAccount) -> None:
    entries_post(entries=[entry(account, "oct", "608.40")], now=NOW)

    made = correct(account)

    assert (made.kind, made.amount, made.period, made.billed_in, made.note) == (
        EntryKind.CORRECTION,
        D("-150.00"),
        OCTOBER,
        NOVEMBER,
        "Ошибка в показаниях за октябрь",
    )
    assert made.posted_on == dt.date(2026, 11, 20)  # the supplier's day of NOW, on November's bill
    assert balances_get(account=account)[Service.GAS] == D("458.40")  # 608.40 − 150.00
    record = AuditRecord.objects.get(action="ledger_correct")
    assert record.after == {
        "service": "gas",
        "period": "2026-10",
        "amount": "-150.00",
        "reason": "Ошибка в показаниях за октябрь",
    }
    with pytest.raises(EntryAlreadyPosted):
        correct(account)
    assert LedgerEntry.objects.filter(kind=EntryKind.CORRECTION).count() == 1
    assert balances_get(account=account)[Service.GAS] == D("458.40")


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"amount": "сто рублей"}, {"amount"}),
        ({"amount": "0"}, {"amount"}),
        ({"amount": "0,00"}, {"amount"}),
        ({"amount": "10.005"}, {"amount"}),
        ({"service": "water"}, {"service"}),
        ({"reason": "  да  "}, {"reason"}),
        ({"reason": "x" * 301}, {"reason"}),
        ({"amount": "1.001", "service": "water", "reason": ""}, {"amount", "service", "reason"}),
    ],
)
def test_a_bad_correction_names_its_fields_and_writes_nothing(
    account: PersonalAccount, fields: dict[str, object], errors: set[str]
) -> None:
    with pytest.raises(CorrectionInvalid) as caught:
        correct(account, **fields)

    assert set(caught.value.errors) == errors
    assert all(caught.value.errors[name] for name in errors)
    assert caught.value.code == "ledger_correction_invalid"
    assert not LedgerEntry.objects.exists()
    assert not LedgerBalance.objects.exists()
    assert not AuditRecord.objects.filter(action="ledger_correct").exists()
