"""``abonent billing run --supplier CODE --period YYYY-MM [--chunk-size N] [--workers]`` and
``abonent billing close``: a run with a summary in exact figures; every bad argument and every
refusal of the billing service is an error that says what to fix, with nothing written."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import CommandError, call_command

from abonent.billing.enums import RunStatus
from abonent.billing.models import BillingPeriod, BillingRun, Charge, KeyRate
from abonent.core.models import AuditRecord, Supplier
from abonent.core.periods import Period
from abonent.core.services import supplier_create
from abonent.ledger.models import LedgerEntry
from tests.billing.billing_data import October, october_make
from tests.conftest import SUPPLIER_MOSCOW

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 22, 9, 0, tzinfo=dt.UTC)
NNBSP = "\u202f"

SUMMARY = [
    "Расчёт №{run} за октябрь 2026 (Газпром межрегионгаз Москва) завершён за 0,0\u00a0с.",
    "  Лицевых счетов: 3",
    "  Объём:          91,5\u00a0м³",
    f"  Начислено:      1{NNBSP}237,08\u00a0₽",
    "  Льготы:         304,20\u00a0₽",
    "  Пени:           32,15\u00a0₽",
    "  Перерасчёты:    0,00\u00a0₽ (0 лицевых счетов)",
    "  Проводок:       5",
    "По способу расчёта:",
    "  по нормативу: нет прибора учёта: 2 лицевых счёта, 60\u00a0м³, 811,20\u00a0₽",
    "  по показаниям прибора учёта: 1 лицевой счёт, 31,5\u00a0м³, 425,88\u00a0₽",
]


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("abonent.core.clock.now", lambda: NOW)


@pytest.fixture
def october(supplier: Supplier) -> October:
    return october_make(supplier)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[str, str]:
    call_command("billing", *args)
    return capsys.readouterr()


def refused(*args: str) -> str:
    with pytest.raises(CommandError) as caught:
        call_command("billing", *args)
    return str(caught.value)


def nothing_written() -> None:
    """No run, no period, no charge, and only the debt the data started with."""
    assert BillingRun.objects.count() == 0
    assert BillingPeriod.objects.count() == 0
    assert Charge.objects.count() == 0
    assert list(LedgerEntry.objects.values_list("source_key", flat=True)) == [
        f"test-debt:{LedgerEntry.objects.get().account_id}"
    ]
    assert not AuditRecord.objects.filter(action__startswith="billing").exists()


# --- A run ------------------------------------------------------------------------------


def test_a_run_posts_the_month_and_prints_the_summary(october: October, capsys: pytest.CaptureFixture[str]) -> None:
    out, err = run(capsys, "run", "--supplier", "gaz-msk", "--period", "2026-10", "--chunk-size", "2")

    the_run = BillingRun.objects.get()
    assert out.splitlines() == [line.format(run=the_run.pk) for line in SUMMARY]
    assert (the_run.status, the_run.chunks, the_run.channel, the_run.finished_at) == (RunStatus.DONE, 2, "cli", NOW)
    posted = sorted(
        (e.account.number, e.service, e.kind, str(e.amount))
        for e in LedgerEntry.objects.filter(billed_in=Period(2026, 10)).select_related("account")
    )
    assert posted == [
        ("770000000001", "gas", "charge", "425.88"),
        ("770000000002", "gas", "benefit", "-304.20"),
        ("770000000002", "gas", "charge", "608.40"),
        ("770000000003", "gas", "charge", "202.80"),
        ("770000000003", "penalty", "charge", "32.15"),
    ]
    assert "Части расчёта" in err  # the progress bar, on stderr


def test_the_period_written_the_russian_way_is_the_same_period(
    october: October, capsys: pytest.CaptureFixture[str]
) -> None:
    out, _err = run(capsys, "run", "--supplier", " gaz-msk ", "--period", "10.2026", "--no-progress")

    assert out.splitlines()[0] == SUMMARY[0].format(run=BillingRun.objects.get().pk)


def test_running_the_period_again_posts_nothing_twice(october: October, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "run", "--supplier", "gaz-msk", "--period", "2026-10", "--no-progress")
    entries = LedgerEntry.objects.count()

    out, _err = run(capsys, "run", "--supplier", "gaz-msk", "--period", "2026-10", "--no-progress")

    assert LedgerEntry.objects.count() == entries
    assert "  Проводок:       0" in out.splitlines()
    assert BillingRun.objects.filter(status=RunStatus.DONE).count() == 2


def test_with_workers_and_no_broker_the_run_is_done_in_this_process(
    october: October, capsys: pytest.CaptureFixture[str]
) -> None:
    out, _err = run(capsys, "run", "--supplier", "gaz-msk", "--period", "2026-10", "--chunk-size", "1", "--workers")

    the_run = BillingRun.objects.get()
    assert out.splitlines() == [
        "Исполнителей нет (CELERY_BROKER_URL не задан): расчёт выполнен в этом процессе.",
        *(line.format(run=the_run.pk) for line in SUMMARY),
    ]
    assert (the_run.status, the_run.chunks) == (RunStatus.DONE, 3)


# --- Bad arguments: an error that says what to fix, nothing written ---------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "укажите действие: run — рассчитать период, close — закрыть период"),
        (("bill",), "неизвестное действие «bill»: укажите действие: run — рассчитать период, close — закрыть период"),
        (("run", "--period", "2026-10"), "--supplier: укажите код поставщика (есть: gaz-msk)"),
        (
            ("run", "--supplier", "gaz-spb", "--period", "2026-10"),
            "--supplier: поставщика с кодом «gaz-spb» нет (есть: gaz-msk)",
        ),
        (("run", "--supplier", "gaz-msk"), "--period: укажите расчётный период, например --period 2026-10"),
        (
            ("run", "--supplier", "gaz-msk", "--period", "2026-13"),
            "--period: «2026-13» — не период; пишите год и месяц: 2026-10 (или 10.2026)",
        ),
        (
            ("run", "--supplier", "gaz-msk", "--period", "октябрь"),
            "--period: «октябрь» — не период; пишите год и месяц: 2026-10 (или 10.2026)",
        ),
        (
            ("run", "--supplier", "gaz-msk", "--period", "2026-10", "--chunk-size", "0"),
            "--chunk-size: 0 вне допустимых пределов; укажите число от 1 до 100\u00a0000",
        ),
        (
            ("run", "--supplier", "gaz-msk", "--period", "2026-10", "--chunk-size", "много"),
            "--chunk-size: «много» — не целое число; укажите число от 1 до 100\u00a0000",
        ),
        (("close", "--supplier", "gaz-msk", "--period", "2026"), "--period: «2026» — не период"),
    ],
)
def test_a_bad_argument_is_refused_with_what_to_fix(october: October, args: tuple[str, ...], message: str) -> None:
    assert refused(*args).startswith(message)
    nothing_written()


def test_a_period_not_over_says_from_which_day_it_can_be_run(october: October) -> None:
    text = refused("run", "--supplier", "gaz-msk", "--period", "2026-11")

    assert text == "Период ноябрь 2026 ещё не закончился: рассчитать его можно с 01.12.2026"
    nothing_written()


def test_missing_prices_say_what_to_fill_in(october: October) -> None:
    supplier_create(**{**SUPPLIER_MOSCOW, "code": "yantar", "short_name": "Янтарьгаз"})

    text = refused("run", "--supplier", "yantar", "--period", "2026-10")

    assert text.startswith("Не хватает данных для расчёта за октябрь 2026: ")
    assert text.endswith("Заполните их в бэк-офисе, раздел «Расчёты: тарифы, нормативы, начисления, пени»")
    nothing_written()


def test_a_run_in_progress_is_not_started_twice(october: October, supplier: Supplier) -> None:
    BillingRun.objects.create(
        supplier=supplier,
        period=Period(2026, 10),
        started_at=NOW,
        lease_until=NOW + dt.timedelta(minutes=1),
        channel="cli",
    )

    text = refused("run", "--supplier", "gaz-msk", "--period", "2026-10")

    assert text == (
        "Расчёт за октябрь 2026 уже идёт (начат 22.11.2026 12:00); дождитесь его окончания. "
        "Ход расчёта виден в бэк-офисе, раздел «Расчёты»"
    )
    assert BillingRun.objects.count() == 1
    assert Charge.objects.count() == 0


def test_a_run_that_fails_half_way_is_marked_failed_and_says_so(october: October) -> None:
    KeyRate.objects.all().delete()  # the penalty of the account in debt cannot be computed

    text = refused("run", "--supplier", "gaz-msk", "--period", "2026-10", "--no-progress")

    assert text.startswith("Не хватает данных для расчёта за октябрь 2026: ")
    assert "31.10.2026" in text  # the day the key rate is missing for

    the_run = BillingRun.objects.get()
    assert the_run.status == RunStatus.FAILED
    assert the_run.error.startswith("BillingDataMissing: ")
    assert Charge.objects.count() == 0


# --- Closing a period -------------------------------------------------------------------


def test_close_closes_the_period_and_a_closed_period_is_not_run(
    october: October, supplier: Supplier, capsys: pytest.CaptureFixture[str]
) -> None:
    out, _err = run(capsys, "close", "--supplier", "gaz-msk", "--period", "2026-10")

    assert out.splitlines() == [
        "Период октябрь 2026 (Газпром межрегионгаз Москва) закрыт: расчёт за него больше не проводится."
    ]
    closed = BillingPeriod.objects.get()
    assert (closed.supplier_id, closed.period, closed.closed_at, closed.closed_by_id) == (
        supplier.pk, Period(2026, 10), NOW, None
    )  # fmt: skip
    assert AuditRecord.objects.filter(action="billing_period_close", object_id=str(closed.pk)).count() == 1

    text = refused("run", "--supplier", "gaz-msk", "--period", "2026-10")

    assert text == (
        "Период октябрь 2026 закрыт: расчёт за него больше не проводится. Изменения за закрытый период войдут "
        "перерасчётом в расчёт следующего: abonent billing run --period 2026-11"
    )
    assert BillingRun.objects.count() == 0
    assert Charge.objects.count() == 0


def test_closing_a_closed_period_changes_nothing(october: October, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "close", "--supplier", "gaz-msk", "--period", "2026-10")

    out, _err = run(capsys, "close", "--supplier", "gaz-msk", "--period", "2026-10")

    assert out.splitlines() == ["Период октябрь 2026 (Газпром межрегионгаз Москва) уже закрыт, ничего не изменено."]
    assert AuditRecord.objects.filter(action="billing_period_close").count() == 1


def test_a_period_is_not_closed_while_its_run_goes_on(october: October, supplier: Supplier) -> None:
    BillingRun.objects.create(
        supplier=supplier,
        period=Period(2026, 10),
        started_at=NOW,
        lease_until=NOW + dt.timedelta(minutes=1),
        channel="cli",
    )

    text = refused("close", "--supplier", "gaz-msk", "--period", "2026-10")

    assert text.startswith("Расчёт за октябрь 2026 уже идёт")
    assert not BillingPeriod.objects.filter(closed_at__isnull=False).exists()
