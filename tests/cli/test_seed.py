"""``abonent seed``: deterministic, idempotent, extendable demo data that obeys the rules."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections import defaultdict
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, models

from abonent.appeals import selectors as appeals_selectors
from abonent.appeals.models import AnswerTemplate, Appeal, Attachment, ConnectionDetails, Message
from abonent.billing.enums import RunStatus, VolumeMethod
from abonent.billing.models import Benefit, BillingRun, Charge, Norm, Tariff
from abonent.billing.services import billing_run
from abonent.cli.demo.generator import IdCursor, account_generate
from abonent.cli.demo.history import run_moment
from abonent.cli.demo.seeding import SUBSCRIBER, plan_for
from abonent.cli.demo.suppliers import DEMO_SUPPLIERS
from abonent.core.models import LinkProof, Supplier, SupplierTerms
from abonent.core.periods import Period
from abonent.core.selectors import payment_due_date, supplier_terms_on
from abonent.customers.enums import AccountStatus, ContractKind, EquipmentKind
from abonent.customers.models import Contract, GasEquipment, PersonalAccount
from abonent.customers.pins import pin_matches
from abonent.identity.models import User
from abonent.ledger.enums import EntryKind, Service
from abonent.ledger.models import LedgerBalance, LedgerEntry
from abonent.ledger.selectors import ledger_verify
from abonent.metering.enums import ReadingChannel, ReadingStatus
from abonent.metering.models import Meter, Reading
from abonent.reminders.models import Announcement
from tests.factories import account_make

pytestmark = pytest.mark.django_db(transaction=True)

TODAY = "2026-11-22"


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    """The files of the demo appeals are stored in a directory of the test's own."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def seed(**options: Any) -> str:
    out = StringIO()
    call_command("seed", **{"today": TODAY, "no_progress": True, **options}, stdout=out, stderr=StringIO())
    return out.getvalue()


# Each model with the path to its natural key in place of the ids
_NATURAL: list[tuple[type[models.Model], tuple[str, ...]]] = [
    (Supplier, ()),
    (SupplierTerms, ("supplier__code",)),
    (PersonalAccount, ("supplier__code",)),
    (GasEquipment, ("account__supplier__code", "account__number")),
    (Contract, ("account__supplier__code", "account__number")),
    (Meter, ("account__supplier__code", "account__number")),
    (Reading, ("meter__account__supplier__code", "meter__account__number", "meter__serial")),
    (Tariff, ("supplier__code",)),
    (Norm, ("supplier__code",)),
    (Benefit, ("account__supplier__code", "account__number")),
    (Charge, ("account__supplier__code", "account__number")),
    (LedgerEntry, ("account__supplier__code", "account__number")),
    (LedgerBalance, ("account__supplier__code", "account__number")),
    (Appeal, ("supplier__code", "account__number", "user__phone")),
    (Attachment, ("appeal__kind", "appeal__category")),
    (AnswerTemplate, ()),
]
# Fields that name ids or moments of the run rather than the data: the source keys of the
# engine's entries and a charge's details carry ids; the debt before a charge is the balance
# when its month was last run (a larger seed runs the months again); an attached file is
# stored under a random name
_NOT_DATA = {"created_at", "pin_hash", "source_key", "details", "computed_at", "debt_before", "file"}


def dump() -> dict[str, list[tuple[Any, ...]]]:
    """Every row the seed writes, without ids and timestamps, in a stable order. The PIN hash
    is left out too: it is keyed by the supplier's id (the PIN itself is compared instead)."""
    result: dict[str, list[tuple[Any, ...]]] = {}
    for model, natural in _NATURAL:
        fields = [
            f.attname
            for f in model._meta.concrete_fields
            if not f.primary_key and not f.is_relation and f.name not in _NOT_DATA
        ]
        rows = model.objects.values_list(*natural, *fields)
        result[model.__name__] = sorted(rows, key=repr)
    result["User"] = sorted(
        (u.username, u.is_staff, u.is_superuser, tuple(g.name for g in u.groups.all())) for u in User.objects.all()
    )
    return result


def wipe() -> None:
    Announcement.objects.all().delete()  # kept from deletion with their supplier and author
    Appeal.objects.all().delete()
    AnswerTemplate.objects.all().delete()
    if connection.vendor == "postgresql":  # the database refuses to delete a ledger entry one by one
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {connection.ops.quote_name(LedgerEntry._meta.db_table)}")
    else:
        LedgerEntry.objects.all().delete()
    Reading.objects.all().delete()
    Meter.objects.all().delete()
    Contract.objects.all().delete()
    GasEquipment.objects.all().delete()
    PersonalAccount.objects.all().delete()
    Supplier.objects.all().delete()
    User.objects.all().delete()


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model, _ in _NATURAL} | {
        "User": User.objects.count(),
        "BillingRun": BillingRun.objects.count(),
    }


# --- Determinism and idempotency -------------------------------------------------------------
def test_same_seed_gives_the_same_data_whatever_the_batch_size() -> None:
    out = seed(accounts=30, seed=11)
    first = dump()
    wipe()
    again = seed(accounts=30, seed=11, batch_size=7)

    assert dump() == first
    assert again.split("Вход в бэк-офис")[1] == out.split("Вход в бэк-офис")[1]  # the same accounts and PINs
    assert len(first["PersonalAccount"]) == 30
    assert len(first["Reading"]) > 100
    assert len(first["LedgerEntry"]) > 500  # the same ledger, entry for entry


def test_another_seed_gives_other_data() -> None:
    seed(accounts=20, seed=1)
    first = dump()
    wipe()
    seed(accounts=20, seed=2)
    second = dump()

    assert second["Supplier"] == first["Supplier"]  # the suppliers are fixed
    assert second["PersonalAccount"] != first["PersonalAccount"]
    assert {row[1] for row in second["PersonalAccount"]}.isdisjoint({row[1] for row in first["PersonalAccount"]})
    assert second["Reading"] != first["Reading"]


def test_another_today_moves_the_history() -> None:
    seed(accounts=10, seed=5, today="2026-03-10")
    periods = set(Reading.objects.values_list("period", flat=True))

    assert max(periods).to_int() == 202602
    assert min(periods).to_int() >= 202402  # the opening readings are of the month before the history
    billed = set(Charge.objects.values_list("period", flat=True))
    assert (min(billed).to_int(), max(billed).to_int()) == (202403, 202602)


def test_a_second_run_creates_nothing() -> None:
    seed(accounts=25, seed=3)
    before, rows = counts(), dump()

    out = seed(accounts=25, seed=3)

    assert counts() == before
    assert dump() == rows
    assert "ничего не добавлено" in out


def test_a_larger_run_adds_only_the_missing_accounts() -> None:
    seed(accounts=15, seed=4)
    out = seed(accounts=40, seed=4, batch_size=6)
    extended = dump()

    assert "Создано: 25 лицевых счетов" in out
    assert PersonalAccount.objects.count() == 40
    assert PersonalAccount.objects.filter(supplier__code="stolgaz").count() == 24
    assert PersonalAccount.objects.filter(supplier__code="yantargaz").count() == 16
    wipe()
    seed(accounts=40, seed=4)
    assert dump() == extended


def test_ids_stay_free_for_the_application_after_the_seed() -> None:
    seed(accounts=12, seed=6)
    supplier = Supplier.objects.get(code="stolgaz")

    account = account_make(supplier=supplier, number="770000000099")

    assert account.pk > PersonalAccount.objects.exclude(pk=account.pk).order_by("-pk").first().pk  # type: ignore[union-attr]


# --- What is created --------------------------------------------------------------------------
def test_suppliers_pass_validation_and_differ_in_terms() -> None:
    seed(accounts=5)
    moscow = Supplier.objects.get(code="stolgaz")
    kaliningrad = Supplier.objects.get(code="yantargaz")
    for supplier in (moscow, kaliningrad):
        supplier.full_clean()
        assert supplier.email.endswith(".example")
        assert supplier.terms.count() == 2  # the statutory history: due day 10, then 15 from 01.03.2026

    day = dt.date(2026, 11, 22)
    msk, kld = supplier_terms_on(supplier=moscow, day=day), supplier_terms_on(supplier=kaliningrad, day=day)
    assert (moscow.time_zone, kaliningrad.time_zone) == ("Europe/Moscow", "Europe/Kaliningrad")
    assert (msk.reading_window_start_day, msk.reading_window_end_day) == (15, 25)
    assert (kld.reading_window_start_day, kld.reading_window_end_day) == (20, 25)
    assert msk.link_proofs == [LinkProof.PIN]
    assert kld.link_proofs == [LinkProof.PIN, LinkProof.LAST_CHARGE]
    assert (msk.due_day, kld.due_day) == (15, 15)


def test_existing_suppliers_are_reused() -> None:
    seed(accounts=4)
    Supplier.objects.filter(code="stolgaz").update(short_name="Переименован оператором")

    seed(accounts=6)

    assert Supplier.objects.count() == 2
    assert Supplier.objects.get(code="stolgaz").short_name == "Переименован оператором"


def test_staff_logins() -> None:
    out = seed(accounts=3)

    admin = User.objects.get(username="admin")
    operator = User.objects.get(username="operator")
    assert (admin.is_superuser, admin.is_staff) == (True, True)
    assert admin.check_password("admin-demo-2026")
    assert (operator.is_superuser, operator.is_staff) == (False, True)
    assert operator.check_password("operator-demo-2026")
    assert list(admin.groups.values_list("name", flat=True)) == ["Администратор"]
    assert list(operator.groups.values_list("name", flat=True)) == ["Оператор"]
    assert "логин admin     пароль admin-demo-2026" in out
    assert "логин operator  пароль operator-demo-2026" in out


def test_existing_staff_is_left_alone() -> None:
    User.objects.create_user(username="admin", password="my-own-password-1")

    seed(accounts=3)

    assert User.objects.get(username="admin").check_password("my-own-password-1")
    assert User.objects.filter(username="operator").exists()


def test_accounts_are_well_formed() -> None:
    seed(accounts=60, seed=8)

    accounts = list(PersonalAccount.objects.select_related("supplier"))
    assert len(accounts) == 60
    assert len({(a.supplier_id, a.number) for a in accounts}) == 60
    for account in accounts:
        assert re.fullmatch(r"\d{12}", account.number)
        assert 1 <= account.residents <= 6
        assert account.status != AccountStatus.CLOSED or account.closed_on is not None
        kinds = set(account.equipment.values_list("kind", flat=True))
        assert account.uses_cooking == (EquipmentKind.STOVE in kinds)
        assert account.uses_heating == bool(kinds & {EquipmentKind.BOILER, EquipmentKind.CONVECTOR})
        assert account.uses_heating == (account.heated_area > 0)
        assert not (account.central_hot_water and EquipmentKind.WATER_HEATER in kinds)
        if EquipmentKind.WATER_HEATER in kinds:
            assert account.uses_water_heating
        assert account.contracts.filter(kind=ContractKind.SUPPLY).count() == 1
        region = account.region
        if account.supplier.code == "yantargaz":
            assert region == "Калининградская область"
            assert account.postal_code.startswith(("236", "238"))
        else:
            assert region in {"Москва", "Московская область"}
        # a woman's patronymic ends in -вна/-чна, and her surname agrees
        if account.holder_middle_name.endswith("на"):
            assert not account.holder_last_name.endswith(("ов", "ев", "ин", "ский"))
        elif account.holder_middle_name:
            assert account.holder_middle_name.endswith("ич")
            assert not account.holder_last_name.endswith(("ова", "ева", "ина", "ская"))
    assert PersonalAccount.objects.filter(meters__isnull=True).exists()
    assert Meter.objects.values("account").annotate(n=models.Count("id")).filter(n=2).exists()


def test_pins_verify_against_the_stored_hash() -> None:
    out = seed(accounts=30, seed=9)
    shown = re.findall(r"№ (\d{12})\s+PIN (\d{6})", out)

    assert len(shown) == 6  # three per supplier: two with meters and one without
    for number, pin in shown:
        account = PersonalAccount.objects.get(number=number)
        assert pin_matches(supplier_id=account.supplier_id, number=number, pin=pin, stored=account.pin_hash)
        assert not pin_matches(
            supplier_id=account.supplier_id, number=number, pin=f"{(int(pin) + 1) % 10**6:06d}", stored=account.pin_hash
        )
    # and every other account's PIN, as the generator draws it
    for demo in DEMO_SUPPLIERS:
        supplier = Supplier.objects.get(code=demo.code)
        plan = plan_for(demo, supplier, seed=9, today=dt.date.fromisoformat(TODAY))
        for index in range(supplier.accounts.count()):
            generated = account_generate(plan, index, IdCursor())
            stored = supplier.accounts.get(number=generated.number).pin_hash
            assert pin_matches(supplier_id=supplier.pk, number=generated.number, pin=generated.pin, stored=stored)


def test_contracts_and_verification_dates_spread_around_today() -> None:
    seed(accounts=80, seed=10)
    today = dt.date.fromisoformat(TODAY)
    soon = today + dt.timedelta(days=60)

    vdgo = Contract.objects.filter(kind=ContractKind.VDGO)
    assert vdgo.filter(valid_to__gt=soon).exists()
    assert vdgo.filter(valid_to__gte=today, valid_to__lte=soon).exists()
    assert vdgo.filter(valid_to__lt=today).exists()
    assert all(c.valid_to is None or c.valid_to >= c.valid_from for c in Contract.objects.all())
    assert Meter.objects.filter(verification_due_on__gt=soon).exists()
    assert Meter.objects.filter(verification_due_on__gte=today, verification_due_on__lte=soon).exists()
    assert Meter.objects.filter(verification_due_on__lt=today).exists()


# --- Readings ---------------------------------------------------------------------------------
def test_readings_obey_the_rules() -> None:
    seed(accounts=50, seed=12)
    today = dt.date.fromisoformat(TODAY)

    readings = Reading.objects.select_related("meter__account__supplier").order_by("meter_id", "period")
    by_meter: dict[int, list[Reading]] = defaultdict(list)
    for reading in readings:
        by_meter[reading.meter_id].append(reading)
    assert by_meter
    channels: set[str] = set()
    for meter_readings in by_meter.values():
        meter = meter_readings[0].meter
        supplier = meter.account.supplier
        zone = zoneinfo.ZoneInfo(supplier.time_zone)
        values = [r.value for r in meter_readings]
        assert values == sorted(values), f"readings of meter {meter} go down"
        periods = [r.period for r in meter_readings]
        assert len(set(periods)) == len(periods)
        for reading in meter_readings:
            local = reading.submitted_at.astimezone(zone)
            terms = supplier_terms_on(supplier=supplier, day=reading.period.first_day)
            assert reading.period.contains(local.date())
            assert terms.reading_window_start_day <= local.day <= terms.reading_window_end_day
            expected = (
                ReadingStatus.NOT_FOR_BILLING if local.date() > meter.verification_due_on else ReadingStatus.ACCEPTED
            )
            assert reading.status == expected
            assert reading.submission_key == "seed-12"
            assert meter.installed_on < reading.period.end
            channels.add(reading.channel)
    assert len(channels) >= 4
    assert max(r.period for r in readings).to_int() == 202610  # the last complete month before 22.11.2026
    assert min(r.period for r in readings).to_int() >= 202410  # 24 months and the opening month before them
    opening = [r for r in readings if r.period.to_int() == 202410]
    assert opening
    assert {r.channel for r in opening} == {ReadingChannel.IMPORT}
    assert Reading.objects.filter(status=ReadingStatus.NOT_FOR_BILLING).exists()
    assert max(r.submitted_at for r in readings).date() < today


def test_heating_makes_winter_readings_grow_faster() -> None:
    seed(accounts=60, seed=13)
    winter = summer = 0
    for meter in Meter.objects.filter(account__uses_heating=True, account__meters__isnull=False).distinct():
        values = {r.period.to_int(): r.value for r in meter.readings.all()}
        if all(p in values for p in (202412, 202501, 202506, 202507)):
            winter += values[202501] - values[202412]
            summer += values[202507] - values[202506]
    assert winter > 3 * summer > 0


# --- Money history -----------------------------------------------------------------------------
def test_the_history_is_billed_month_by_month_and_paid_between_runs() -> None:
    out = seed(accounts=40, seed=14)

    runs = BillingRun.objects.order_by("started_at")
    assert runs.count() == 48  # 24 months × 2 suppliers
    assert set(runs.values_list("status", flat=True)) == {RunStatus.DONE}
    assert {r.period.to_int() for r in runs} == {p.to_int() for p in (Period(2024, 11) + i for i in range(24))}
    for run in runs:
        assert run.started_at == run_moment(run.supplier, run.period, dt.date(2026, 11, 22))
    charges = LedgerEntry.objects.filter(service=Service.GAS, kind=EntryKind.CHARGE)
    payments = LedgerEntry.objects.filter(kind=EntryKind.PAYMENT)
    assert charges.count() > 600
    assert payments.count() > 500
    assert LedgerEntry.objects.filter(service=Service.PENALTY, kind=EntryKind.CHARGE).exists()
    assert Benefit.objects.exists()
    # a payment answers a bill: made after its run, named for its month
    for payment in payments.select_related("account__supplier"):
        assert payment.amount < 0
        assert payment.billed_in == Period.of(payment.posted_on)
        assert payment.posted_on <= dt.date(2026, 11, 22)
        assert payment.posted_on > run_moment(payment.account.supplier, payment.period, dt.date(2026, 11, 22)).date()
        assert payment.service == Service.PENALTY or payment.pays_period == payment.period
    # most bills are paid by their due date, some are not
    on_time = late = 0
    for payment in payments.filter(service=Service.GAS).select_related("account__supplier"):
        due = payment_due_date(supplier=payment.account.supplier, period=payment.period)
        on_time += payment.posted_on <= due
        late += payment.posted_on > due
    assert on_time > 3 * late > 0
    assert LedgerBalance.objects.filter(service=Service.GAS, amount__gt=0).exists()  # debts
    assert re.search(r"\d проводо?к[аи]? начислений", out)
    assert re.search(r"\d+ оплат", out)


def test_the_ledger_agrees_with_its_balances_after_the_seed() -> None:
    seed(accounts=40, seed=15)

    mismatches = ledger_verify()
    if connection.vendor == "sqlite":
        # SQLite sums decimals as floats: ledger_verify sees 104.510000000001 for 104.51
        mismatches = [m for m in mismatches if abs(m.kept - m.entries) >= Decimal("0.005")]
    assert mismatches == []
    sums: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
    for account_id, service, amount in LedgerEntry.objects.values_list("account_id", "service", "amount"):
        sums[(account_id, service)] += amount
    kept = {(a, s): m for a, s, m in LedgerBalance.objects.values_list("account_id", "service", "amount")}
    assert {k: v for k, v in kept.items() if v} == {k: v for k, v in sums.items() if v}


def test_a_second_run_posts_nothing_and_a_run_of_a_billed_month_neither() -> None:
    seed(accounts=20, seed=16)
    entries = LedgerEntry.objects.count()

    seed(accounts=20, seed=16)
    assert LedgerEntry.objects.count() == entries

    # the engine itself, run again for a month the seed billed, finds nothing to post
    supplier = Supplier.objects.get(code="stolgaz")
    period = Period(2026, 10)
    moment = run_moment(supplier, period, dt.date(2026, 11, 22)) + dt.timedelta(hours=1)
    run = billing_run(supplier=supplier, period=period, now=lambda: moment, today=moment.date(), channel="test")
    assert run.summary["entries"] == 0
    assert LedgerEntry.objects.count() == entries


def test_the_demo_subscriber_sees_readings_averages_payments_a_debt_and_a_penalty() -> None:
    seed(accounts=300, seed=2026)

    account = User.objects.get(phone=SUBSCRIBER.phone).account_links.get().account
    methods = set(Charge.objects.filter(account=account).values_list("method", flat=True))
    assert {VolumeMethod.READING, VolumeMethod.AVERAGE} <= methods
    assert LedgerEntry.objects.filter(account=account, kind=EntryKind.PAYMENT).count() >= 18
    assert Benefit.objects.filter(account=account).exists()
    balances = dict(LedgerBalance.objects.filter(account=account).values_list("service", "amount"))
    assert 0 < balances[Service.GAS] < 1000
    assert 0 < balances[Service.PENALTY] < 100


def test_the_demo_subscriber_has_appeals_in_every_state(media: Path) -> None:
    out = seed(accounts=6, seed=17, no_billing=True)

    user = User.objects.get(phone=SUBSCRIBER.phone)
    account = user.account_links.get().account
    cases = {a.status: a for a in Appeal.objects.filter(user=user).select_related("supplier", "account")}
    assert set(cases) == {"answered", "waiting", "new", "contract_sent"}
    answered, waiting, new, connection = (cases[s] for s in ("answered", "waiting", "new", "contract_sent"))
    assert {a.kind for a in (answered, waiting, new)} == {"appeal"}
    assert all(a.account == account and a.supplier == account.supplier for a in (answered, waiting, new))
    assert (answered.subscriber_unread, waiting.subscriber_unread, new.subscriber_unread) == (True, True, False)
    # the operator answered one and asked a question in the other, from the ready answers
    templates = dict(AnswerTemplate.objects.values_list("title", "text"))
    assert len(templates) == 6
    reply = Message.objects.get(appeal=answered, role="operator")
    assert (reply.action, reply.text, reply.author.username) == (  # type: ignore[union-attr]
        "answer",
        templates["Начисление проверено, перерасчёт сделан"],
        "operator",
    )
    assert Message.objects.get(appeal=waiting, role="operator").action == "ask"
    assert appeals_selectors.subscriber_actions(answered) == ["subscriber_reply", "rate"]
    assert appeals_selectors.subscriber_actions(waiting) == ["subscriber_reply", "withdraw"]
    # the application, checked and sent the contract, with its documents
    assert connection.kind == "connection"
    stages = appeals_selectors.connection_stages(appeal=connection)
    assert [(stage.status, stage.state) for stage in stages] == [
        ("new", "done"),
        ("checked", "done"),
        ("contract_sent", "current"),
        ("works", "ahead"),
        ("gas_started", "ahead"),
    ]
    assert all(stage.reached_at is not None for stage in stages[:3])
    details = ConnectionDetails.objects.get()
    assert (details.land_cadastral_number, details.house_cadastral_number, str(details.max_hourly_m3)) == (
        "50:23:0040213:57",
        "50:23:0040213:412",
        "5.000",
    )
    assert sorted(connection.attachments.values_list("document_kind", flat=True)) == [
        "house_title",
        "land_title",
        "passport",
        "site_plan",
    ]
    # every file is where its row says, and is what it says
    files = list(Attachment.objects.all())
    assert len(files) == 6
    for attachment in files:
        content = (media / attachment.file.name).read_bytes()
        assert content.startswith(b"%PDF-" if attachment.mime == "application/pdf" else b"\xff\xd8\xff")
    # made before «today», in order
    today = dt.datetime(2026, 11, 22, tzinfo=dt.UTC)
    assert connection.created_at < answered.created_at < waiting.created_at < new.created_at < today
    assert "в разделе «Обращения»" in out
    assert "заявка на подключение к газу — договор направлен" in out
    assert "4 обращения или заявки, 6 шаблонов ответа" in out

    again = seed(accounts=6, seed=17, no_billing=True)
    assert "ничего не добавлено" in again
    assert Appeal.objects.count() == 4
    assert len(list(media.rglob("*.*"))) == 6


def test_no_billing_leaves_the_money_out() -> None:
    call_command("seed", today=TODAY, no_progress=True, accounts=10, no_billing=True, stdout=StringIO())

    assert PersonalAccount.objects.count() == 10
    assert not LedgerEntry.objects.exists()
    assert not BillingRun.objects.exists()


# --- Refusals ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"accounts": "0"}, "--accounts"),
        ({"accounts": "-5"}, "--accounts"),
        ({"accounts": "много"}, "не целое число"),
        ({"today": "garbage"}, "ГГГГ-ММ-ДД"),
        ({"today": "2026-13-01"}, "ГГГГ-ММ-ДД"),
        ({"today": "1990-01-01"}, "между"),
        ({"batch_size": "0"}, "--batch-size"),
        ({"seed": "x"}, "--seed"),
    ],
)
def test_bad_arguments_are_refused_and_nothing_is_created(options: dict[str, str], message: str) -> None:
    with pytest.raises(CommandError, match=re.escape(message)) as caught:
        seed(**options)

    assert re.search("[а-яё]", str(caught.value))
    assert Supplier.objects.count() == 0
    assert PersonalAccount.objects.count() == 0
    assert not User.objects.filter(username__in=["admin", "operator"]).exists()


def test_production_is_refused_unless_allowed(settings: Any) -> None:
    settings.PRODUCTION = True

    with pytest.raises(CommandError, match="--allow-production"):
        seed(accounts=3)
    assert Supplier.objects.count() == 0

    seed(accounts=3, allow_production=True)
    assert PersonalAccount.objects.count() == 3
