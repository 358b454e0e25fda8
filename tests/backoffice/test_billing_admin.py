"""The back office for billing and the ledger: the lists, the models' checks on the forms,
the runs with their results, closing a period, the read-only ledger, an operator's
correction through the ledger service; who may do what."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.test import Client

from abonent.billing.enums import Direction, RunStatus
from abonent.billing.models import BillingPeriod, BillingRun, Tariff
from abonent.billing.services import billing_run
from abonent.core.models import AuditRecord, Supplier
from abonent.core.periods import Period
from abonent.identity.models import User
from abonent.identity.roles import ADMINISTRATOR, OPERATOR, SENIOR_OPERATOR
from abonent.ledger.enums import EntryKind, Service
from abonent.ledger.models import LedgerBalance, LedgerEntry
from tests.billing.billing_data import October, october_make

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 22, 9, 0, tzinfo=dt.UTC)
NNBSP = "\u202f"
BO = "/backoffice"
LISTS = [
    "billing/tariff",
    "billing/norm",
    "billing/benefit",
    "billing/keyrate",
    "billing/penaltyratecap",
    "billing/penaltymoratorium",
    "billing/billingrun",
    "billing/billingperiod",
    "ledger/ledgerentry",
    "ledger/ledgerbalance",
]
OVERLAP = "На эти дни у направления уже есть цена: закройте её днём раньше"
REASON = "Ошибка в показании за октябрь, акт проверки от 20.11.2026"


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("abonent.core.clock.now", lambda: NOW)


def staff(role: str | None, username: str = "op", **options: Any) -> Client:
    member = User.objects.create(username=username, is_staff=True, first_name="Ольга", last_name="Смирнова")
    if role is not None:
        member.groups.add(Group.objects.get(name=role))
    client = Client(**options)
    client.force_login(member)
    return client


def superuser() -> Client:
    member = User.objects.create(username="root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(member)
    return client


@pytest.fixture
def october(supplier: Supplier) -> October:
    return october_make(supplier)


@pytest.fixture
def done(october: October, supplier: Supplier) -> BillingRun:
    return billing_run(supplier=supplier, period=Period(2026, 10), now=lambda: NOW, today=dt.date(2026, 11, 22))


def messages_of(client: Client, response: Any) -> list[str]:
    assert response.status_code == 302, response.content.decode()[:2000]
    page = client.get(response["Location"])
    return [str(m) for m in get_messages(page.wsgi_request)]


def text(response: Any) -> str:
    """The page with its layout's line breaks and indents as single spaces (the spaces
    inside numbers and money kept)."""
    return re.sub(r"[ \t\r\n]+", " ", response.content.decode())


# --- Lists ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [OPERATOR, SENIOR_OPERATOR, ADMINISTRATOR])
def test_every_role_sees_the_billing_lists(done: BillingRun, role: str) -> None:
    client = staff(role)

    for model in LISTS:
        assert client.get(f"{BO}/{model}/").status_code == 200, model


def test_norms_are_filtered_by_supplier_kind_and_month(october: October, supplier: Supplier) -> None:
    client = staff(OPERATOR)

    response = client.get(f"{BO}/billing/norm/", {"supplier__id__exact": supplier.pk, "kind": "heating", "month": "5"})

    assert [(n.kind, n.month, n.value) for n in response.context["cl"].result_list] == [
        ("heating", 5, Decimal("2.0000"))
    ]
    assert "май" in text(response)


def test_a_run_shows_its_results_in_words(done: BillingRun) -> None:
    client = staff(OPERATOR)

    listed = text(client.get(f"{BO}/billing/billingrun/"))
    page = text(client.get(f"{BO}/billing/billingrun/{done.pk}/change/"))

    assert f"1{NNBSP}237,08\u00a0₽" in listed
    assert "91,5\u00a0м³" in listed
    for shown in [
        "<th scope='row'>Лицевых счетов</th><td>3</td>",
        "<th scope='row'>Пени</th><td>32,15\u00a0₽</td>",
        "<th scope='row'>Льготы</th><td>304,20\u00a0₽</td>",
        "<td>по нормативу: нет прибора учёта</td><td>2</td><td>60\u00a0м³</td><td>811,20\u00a0₽</td>",
        "<td>по показаниям прибора учёта</td><td>1</td><td>31,5\u00a0м³</td><td>425,88\u00a0₽</td>",
    ]:
        assert shown in page
    assert 'name="_save"' not in page


# --- Prices: the model's checks on the form -----------------------------------------------


def tariff_form(supplier: Supplier, **fields: str) -> dict[str, Any]:
    return {
        "supplier": supplier.pk,
        "direction": Direction.COOKING,
        "price": "14,1000",
        "valid_from": "01.01.2027",
        "valid_to": "",
        "basis": "Приказ от 01.12.2026 № 45",
        **fields,
    }


def test_an_overlapping_price_is_refused_with_the_message_next_to_the_date(
    october: October, supplier: Supplier
) -> None:
    before = Tariff.objects.count()

    response = staff(SENIOR_OPERATOR).post(f"{BO}/billing/tariff/add/", tariff_form(supplier))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"valid_from": [OVERLAP]}
    assert OVERLAP in response.content.decode()
    assert Tariff.objects.count() == before


def test_a_price_after_the_old_one_is_closed_is_added(october: October, supplier: Supplier) -> None:
    client = staff(SENIOR_OPERATOR)
    old = Tariff.objects.get(supplier=supplier, direction=Direction.COOKING)
    closed = client.post(
        f"{BO}/billing/tariff/{old.pk}/change/",
        tariff_form(supplier, price="13,5200", valid_from="01.01.2020", valid_to="31.12.2026", basis=""),
    )
    added = client.post(f"{BO}/billing/tariff/add/", tariff_form(supplier))

    assert (closed.status_code, added.status_code) == (302, 302)
    assert list(
        Tariff.objects.filter(supplier=supplier, direction=Direction.COOKING)
        .order_by("valid_from")
        .values_list("price", "valid_from", "valid_to")
    ) == [
        (Decimal("13.5200"), dt.date(2020, 1, 1), dt.date(2026, 12, 31)),
        (Decimal("14.1000"), dt.date(2027, 1, 1), None),
    ]


def test_an_end_before_the_start_is_refused(october: October, supplier: Supplier) -> None:
    response = staff(SENIOR_OPERATOR).post(
        f"{BO}/billing/penaltymoratorium/add/",
        {"valid_from": "01.04.2027", "valid_to": "01.03.2027", "basis": "ПП РФ №424"},
    )

    assert response.context["adminform"].form.errors == {"valid_to": ["Окончание действия не может быть раньше начала"]}


# --- Closing a period -------------------------------------------------------------------


def test_a_senior_operator_closes_a_period(done: BillingRun) -> None:
    client = staff(SENIOR_OPERATOR)
    period = BillingPeriod.objects.get()

    response = client.post(f"{BO}/billing/billingperiod/", {"action": "close_periods", "_selected_action": [period.pk]})

    assert messages_of(client, response) == [
        "Период октябрь 2026 (Газпром межрегионгаз Москва) закрыт: расчёт за него больше не проводится."
    ]
    period.refresh_from_db()
    assert (period.closed_at, period.closed_by) == (NOW, User.objects.get(username="op"))
    assert AuditRecord.objects.filter(action="billing_period_close", object_id=str(period.pk)).count() == 1


def test_an_operator_cannot_close_a_period(done: BillingRun) -> None:
    client = staff(OPERATOR)
    period = BillingPeriod.objects.get()

    page = client.get(f"{BO}/billing/billingperiod/")
    client.post(f"{BO}/billing/billingperiod/", {"action": "close_periods", "_selected_action": [period.pk]})

    assert "close_periods" not in page.content.decode()
    period.refresh_from_db()
    assert period.closed_at is None


# --- The ledger, read-only ----------------------------------------------------------------


def test_entries_are_found_by_the_account_number_however_written(done: BillingRun, october: October) -> None:
    response = staff(OPERATOR).get(f"{BO}/ledger/ledgerentry/", {"q": "77 0000 000003"})

    assert sorted((e.service, e.kind, e.amount) for e in response.context["cl"].result_list) == [
        ("gas", "charge", Decimal("202.80")),
        ("gas", "charge", Decimal("1000.00")),
        ("penalty", "charge", Decimal("32.15")),
    ]


def test_entries_cannot_be_added_changed_or_deleted_even_by_a_superuser(done: BillingRun) -> None:
    client = superuser()
    entry = LedgerEntry.objects.filter(kind=EntryKind.CHARGE).first()
    assert entry is not None
    before = list(LedgerEntry.objects.order_by("pk").values_list("pk", "amount"))

    page = client.get(f"{BO}/ledger/ledgerentry/{entry.pk}/change/")
    changed = client.post(f"{BO}/ledger/ledgerentry/{entry.pk}/change/", {"amount": "1.00", "note": "x"})
    deleted = client.post(f"{BO}/ledger/ledgerentry/{entry.pk}/delete/", {"post": "yes"})
    added = client.get(f"{BO}/ledger/ledgerentry/add/")
    bulk = client.post(f"{BO}/ledger/ledgerentry/", {"action": "delete_selected", "_selected_action": [entry.pk]})
    balance = LedgerBalance.objects.first()
    assert balance is not None
    balance_changed = client.post(f"{BO}/ledger/ledgerbalance/{balance.pk}/change/", {"amount": "0"})

    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert (changed.status_code, deleted.status_code, added.status_code, balance_changed.status_code) == (
        403, 403, 403, 403
    )  # fmt: skip
    assert bulk.status_code in (200, 302)
    assert list(LedgerEntry.objects.order_by("pk").values_list("pk", "amount")) == before


def test_the_account_page_shows_its_balances_and_the_ledger(done: BillingRun, october: October) -> None:
    client = staff(OPERATOR)

    account_page = text(client.get(f"{BO}/customers/personalaccount/{october.in_debt.pk}/change/"))
    ledger_page = text(client.get(f"{BO}/ledger/ledgerentry/account/{october.in_debt.pk}/"))

    assert f"1{NNBSP}202,80\u00a0₽ (долг)" in account_page
    assert f"/backoffice/ledger/ledgerentry/account/{october.in_debt.pk}/" in account_page
    assert "correct/" not in account_page  # an operator does not post corrections
    assert f'<th scope="row">Газоснабжение</th><td>1{NNBSP}202,80\u00a0₽</td>' in ledger_page
    assert '<th scope="row">Пени</th><td>32,15\u00a0₽</td>' in ledger_page
    assert f"1{NNBSP}000,00\u00a0₽" in ledger_page


# --- A correction -----------------------------------------------------------------------


def correct_url(account_id: int) -> str:
    return f"{BO}/ledger/ledgerentry/account/{account_id}/correct/"


def correction(**fields: str) -> dict[str, str]:
    return {
        "amount": "−150,00",
        "service": Service.GAS,
        "period": "2026-10",
        "reason": REASON,
        "key": "0123456789abcdef0123456789abcdef",
        **fields,
    }


def test_a_correction_posts_one_entry_and_an_audit_record(done: BillingRun, october: October) -> None:
    client = staff(SENIOR_OPERATOR)
    account = october.by_reading
    form = client.get(correct_url(account.pk))
    assert form.status_code == 200

    response = client.post(correct_url(account.pk), correction())

    assert messages_of(client, response) == [
        "Корректировка −150,00\u00a0₽ (газоснабжение, за октябрь 2026) проведена по лицевому счёту 770000000001."
    ]
    entry = LedgerEntry.objects.get(kind=EntryKind.CORRECTION)
    assert (entry.account_id, entry.service, entry.period, entry.billed_in, entry.amount, entry.posted_on) == (
        account.pk, "gas", Period(2026, 10), Period(2026, 11), Decimal("-150.00"), dt.date(2026, 11, 22)
    )  # fmt: skip
    assert entry.note == REASON
    assert LedgerBalance.objects.get(account=account, service="gas").amount == Decimal("275.88")
    record = AuditRecord.objects.get(action="ledger_correct")
    assert (record.actor_id, record.channel, record.object_id, record.after) == (
        User.objects.get(username="op").pk,
        "backoffice",
        str(account.pk),
        {"service": "gas", "period": "2026-10", "amount": "-150.00", "reason": REASON},
    )


def test_a_correction_sent_twice_posts_once(done: BillingRun, october: October) -> None:
    client = staff(SENIOR_OPERATOR)
    client.post(correct_url(october.by_reading.pk), correction())

    again = client.post(correct_url(october.by_reading.pk), correction())

    assert again.status_code == 200
    assert "Эта операция уже проведена по лицевому счёту" in again.content.decode()
    assert LedgerEntry.objects.filter(kind=EntryKind.CORRECTION).count() == 1


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        (
            {"amount": "сто", "reason": "ой"},
            {
                "amount": ["Сумма — в рублях и копейках, например −150,00 или 320,50"],
                "reason": ["Опишите причину корректировки: от 5 до 300 знаков"],
            },
        ),
        ({"amount": "0"}, {"amount": ["Сумма не может быть нулевой и имеет не больше двух знаков после запятой"]}),
        ({"amount": "10,005"}, {"amount": ["Сумма не может быть нулевой и имеет не больше двух знаков после запятой"]}),
        ({"period": "октябрь"}, {"period": ["Период — месяц и год: 2026-10 или 10.2026"]}),
        ({"service": "water"}, {"service": ["Выберите корректный вариант. water нет среди допустимых значений."]}),
        ({"key": "../../x"}, {"key": ["Откройте форму корректировки заново"]}),
    ],
)
def test_a_bad_correction_shows_the_errors_and_posts_nothing(
    done: BillingRun, october: October, fields: dict[str, str], errors: dict[str, list[str]]
) -> None:
    entries, records = LedgerEntry.objects.count(), AuditRecord.objects.count()

    response = staff(SENIOR_OPERATOR).post(correct_url(october.by_reading.pk), correction(**fields))

    assert response.status_code == 200
    assert response.context["form"].errors == errors
    assert (LedgerEntry.objects.count(), AuditRecord.objects.count()) == (entries, records)


# --- Who may do what --------------------------------------------------------------------


def test_an_operator_sees_but_changes_nothing(done: BillingRun, october: October, supplier: Supplier) -> None:
    client = staff(OPERATOR)
    tariff = Tariff.objects.filter(supplier=supplier).first()
    assert tariff is not None

    assert client.get(f"{BO}/billing/tariff/add/").status_code == 403
    assert client.post(f"{BO}/billing/tariff/add/", tariff_form(supplier, valid_from="01.01.2030")).status_code == 403
    assert 'name="_save"' not in client.get(f"{BO}/billing/tariff/{tariff.pk}/change/").content.decode()
    assert client.get(f"{BO}/billing/keyrate/add/").status_code == 403
    assert client.get(correct_url(october.by_reading.pk)).status_code == 403
    assert client.post(correct_url(october.by_reading.pk), correction()).status_code == 403
    assert not LedgerEntry.objects.filter(kind=EntryKind.CORRECTION).exists()


def test_staff_without_a_role_see_no_billing(done: BillingRun, october: October) -> None:
    client = staff(None)

    for model in LISTS:
        assert client.get(f"{BO}/{model}/").status_code == 403, model
    assert client.get(f"{BO}/ledger/ledgerentry/account/{october.by_reading.pk}/").status_code == 403


def test_a_senior_operator_maintains_the_data_but_deletes_none(done: BillingRun) -> None:
    client = staff(SENIOR_OPERATOR)
    tariff = Tariff.objects.first()
    assert tariff is not None

    for model in ["tariff", "norm", "benefit", "keyrate", "penaltyratecap", "penaltymoratorium"]:
        assert client.get(f"{BO}/billing/{model}/add/").status_code == 200, model
    assert client.get(f"{BO}/billing/tariff/{tariff.pk}/delete/").status_code == 403
    assert client.get(f"{BO}/billing/billingrun/add/").status_code == 403


def perms(role: str) -> set[str]:
    return set(Group.objects.get(name=role).permissions.values_list("codename", flat=True))


def test_the_roles_on_billing_data() -> None:
    rates = ["tariff", "norm", "benefit", "keyrate", "penaltyratecap", "penaltymoratorium"]
    seen = {f"view_{m}" for m in [*rates, "billingperiod", "billingrun", "ledgerentry", "ledgerbalance"]}
    changed = {f"{a}_{m}" for m in rates for a in ("add", "change")} | {"change_billingperiod", "add_ledgerentry"}

    assert seen <= perms(OPERATOR)
    assert not {p for p in perms(OPERATOR) if p.endswith((*rates, "ledgerentry", "billingperiod"))} - seen
    assert seen | changed <= perms(SENIOR_OPERATOR)
    assert not {p for p in perms(SENIOR_OPERATOR) if p.startswith("delete_") and p.endswith(tuple(rates))}
    assert seen | changed <= perms(ADMINISTRATOR)


def test_the_run_list_of_a_running_run_says_so(october: October, supplier: Supplier) -> None:
    run = BillingRun.objects.create(
        supplier=supplier, period=Period(2026, 10), started_at=NOW, lease_until=NOW, channel="cli"
    )

    page = text(staff(OPERATOR).get(f"{BO}/billing/billingrun/{run.pk}/change/"))

    assert run.status == RunStatus.RUNNING
    assert "Расчёт ещё идёт" in page
