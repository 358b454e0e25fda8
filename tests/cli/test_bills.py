"""``abonent bills generate --supplier CODE --period YYYY-MM [--chunk-size N]`` and ``abonent
bills show --account NUMBER --period YYYY-MM --out FILE``: a run with a summary in exact
figures, one bill written to a file; a bad argument is exit code 2 with what to fix and
nothing written, a refusal or a failed run is exit code 1."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from abonent.billing.enums import RunStatus
from abonent.billing.services import billing_run
from abonent.core.models import AuditRecord, Supplier
from abonent.core.periods import Period
from abonent.core.services import supplier_create
from abonent.documents.models import Bill, BillRun
from abonent.documents.services import bills_run_start
from tests.billing.billing_data import October, october_make
from tests.conftest import SUPPLIER_MOSCOW
from tests.factories import account_make

pytestmark = pytest.mark.django_db

OCTOBER = Period(2026, 10)
RUN_AT = dt.datetime(2026, 11, 2, 3, 0, tzinfo=dt.UTC)  # October's billing run
NOW = dt.datetime(2026, 11, 22, 9, 0, tzinfo=dt.UTC)
NBSP = "\u00a0"


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("abonent.core.clock.now", lambda: NOW)


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def october(supplier: Supplier) -> October:
    """Three accounts with October's charges posted, and a fourth opened later, with none."""
    accounts = october_make(supplier)
    account_make(supplier=supplier, number="770000000009", opened_on=dt.date(2026, 11, 10))
    billing_run(supplier=supplier, period=OCTOBER, now=lambda: RUN_AT, today=RUN_AT.date())
    return accounts


def bills_cmd(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[str, str]:
    call_command("bills", *args)
    return capsys.readouterr()


def refused(*args: str) -> tuple[int, str]:
    with pytest.raises(CommandError) as caught:
        call_command("bills", *args)
    return caught.value.returncode, str(caught.value)


def file_size(size: int) -> str:
    assert size < 1024 * 1024
    return f"{round(size / 1024)}{NBSP}КБ"


def summary(run: BillRun, *, took: str, rate: str) -> list[str]:
    s = run.summary
    return [
        f"Квитанции за октябрь 2026 (Газпром межрегионгаз Москва), запуск №{run.pk}: готово за {took}.",
        f"  Лицевых счетов с квитанцией: {s['accounts']}",
        f"  Сформировано:                {s['drawn']}",
        f"  Уже были актуальны:          {s['current']}",
        f"  Объём файлов:                {file_size(s['bytes'])}",
        f"  Квитанций в секунду:         {rate}",
    ]


def nothing_written() -> None:
    assert BillRun.objects.count() == 0
    assert Bill.objects.count() == 0
    assert not AuditRecord.objects.filter(action__startswith="bill_").exists()


# --- generate ---------------------------------------------------------------------------


def test_generate_draws_the_period_and_prints_the_summary(october: October, capsys: pytest.CaptureFixture[str]) -> None:
    out, err = bills_cmd(capsys, "generate", "--supplier", "gaz-msk", "--period", "2026-10", "--chunk-size", "2")

    run = BillRun.objects.get()
    assert (run.status, run.chunks, run.channel, run.started_at, run.finished_at) == (
        RunStatus.DONE, 2, "cli", NOW, NOW
    )  # fmt: skip
    assert run.summary["bytes"] == sum(Bill.objects.values_list("size", flat=True)) > 0
    assert (run.summary["accounts"], run.summary["drawn"], run.summary["current"]) == (3, 3, 0)
    assert out.splitlines() == summary(run, took=f"0,0{NBSP}с", rate="—")
    assert sorted(Bill.objects.values_list("account__number", flat=True)) == [
        "770000000001",
        "770000000002",
        "770000000003",
    ]
    assert "Части" in err  # the progress bar, on stderr


def test_the_rate_is_of_the_bills_drawn_over_the_run_s_time(
    october: October, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    moments: Iterator[dt.datetime] = iter([NOW])  # the run opens at NOW, everything after is 4 s later
    monkeypatch.setattr("abonent.core.clock.now", lambda: next(moments, NOW + dt.timedelta(seconds=4)))

    out, _err = bills_cmd(capsys, "generate", "--supplier", "gaz-msk", "--period", "2026-10", "--no-progress")

    assert out.splitlines() == summary(BillRun.objects.get(), took=f"4,0{NBSP}с", rate="0,8")


def test_the_same_period_again_draws_nothing_and_the_russian_period_is_the_same(
    october: October, capsys: pytest.CaptureFixture[str]
) -> None:
    bills_cmd(capsys, "generate", "--supplier", "gaz-msk", "--period", "2026-10", "--no-progress")
    files = sorted(Bill.objects.values_list("file", flat=True))

    out, _err = bills_cmd(capsys, "generate", "--supplier", " gaz-msk ", "--period", "10.2026", "--no-progress")

    second = BillRun.objects.order_by("-pk")[0]
    assert out.splitlines() == summary(second, took=f"0,0{NBSP}с", rate="—")
    assert (second.summary["drawn"], second.summary["current"], second.summary["bytes"]) == (0, 3, 0)
    assert sorted(Bill.objects.values_list("file", flat=True)) == files


def test_a_period_with_no_charges_has_no_bills(october: October, capsys: pytest.CaptureFixture[str]) -> None:
    out, _err = bills_cmd(capsys, "generate", "--supplier", "gaz-msk", "--period", "2026-09", "--no-progress")

    run = BillRun.objects.get()
    assert run.status == RunStatus.DONE
    assert out.splitlines() == [
        f"Квитанции за сентябрь 2026 (Газпром межрегионгаз Москва), запуск №{run.pk}: готово за 0,0{NBSP}с.",
        "  Лицевых счетов с квитанцией: 0",
        "  Сформировано:                0",
        "  Уже были актуальны:          0",
        f"  Объём файлов:                0{NBSP}КБ",
        "  Квитанций в секунду:         —",
        "За сентябрь 2026 у лицевых счетов поставщика нет ни начислений, ни движений: квитанций за этот период нет.",
    ]
    assert Bill.objects.count() == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "укажите действие: generate — сформировать квитанции поставщика за период, show — записать"),
        (("print",), "неизвестное действие «print»: укажите действие: generate"),
        (("generate", "--period", "2026-10"), "--supplier: укажите код поставщика (есть: gaz-msk)"),
        (
            ("generate", "--supplier", "gaz-spb", "--period", "2026-10"),
            "--supplier: поставщика с кодом «gaz-spb» нет (есть: gaz-msk)",
        ),
        (("generate", "--supplier", "gaz-msk"), "--period: укажите период, например --period 2026-10"),
        (
            ("generate", "--supplier", "gaz-msk", "--period", "2026-13"),
            "--period: «2026-13» — не период; пишите год и месяц: 2026-10 (или 10.2026)",
        ),
        (
            ("generate", "--supplier", "gaz-msk", "--period", "октябрь"),
            "--period: «октябрь» — не период; пишите год и месяц: 2026-10 (или 10.2026)",
        ),
        (
            ("generate", "--supplier", "gaz-msk", "--period", "2026-10", "--chunk-size", "0"),
            f"--chunk-size: 0 вне допустимых пределов; укажите число от 1 до 100{NBSP}000",
        ),
        (
            ("generate", "--supplier", "gaz-msk", "--period", "2026-10", "--chunk-size", "много"),
            f"--chunk-size: «много» — не целое число; укажите число от 1 до 100{NBSP}000",
        ),
    ],
)
def test_a_bad_argument_is_exit_code_2_with_what_to_fix(october: October, args: tuple[str, ...], message: str) -> None:
    code, text = refused(*args)

    assert code == 2
    assert text.startswith(message), text
    nothing_written()


def test_a_run_in_progress_is_exit_code_1_and_not_started_twice(october: October, supplier: Supplier) -> None:
    running = bills_run_start(supplier=supplier, period=OCTOBER, now=NOW, actor_id=None, channel="backoffice")

    code, text = refused("generate", "--supplier", "gaz-msk", "--period", "2026-10")

    assert code == 1
    assert text == (
        "Квитанции за октябрь 2026 уже формируются (запуск 22.11.2026 09:00 UTC): дождитесь окончания. "
        "Ход формирования виден в бэк-офисе, раздел «Формирование квитанций»"
    )
    assert list(BillRun.objects.values_list("pk", "status")) == [(running.pk, RunStatus.RUNNING)]
    assert Bill.objects.count() == 0


def test_a_period_the_supplier_s_terms_do_not_cover_is_refused(october: October) -> None:
    code, text = refused("generate", "--supplier", "gaz-msk", "--period", "2004-01")

    assert (code, text) == (1, "Квитанции за январь 2004 нет: в этом периоде по счёту не было начислений")
    nothing_written()


def test_a_run_that_fails_half_way_is_marked_failed_and_says_so(
    october: October, settings: Any, tmp_path: Path
) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    settings.MEDIA_ROOT = blocked  # the storage cannot write a file

    code, text = refused("generate", "--supplier", "gaz-msk", "--period", "2026-10", "--no-progress")

    run = BillRun.objects.get()
    assert code == 1
    assert text.startswith(f"Формирование квитанций №{run.pk} прервано ошибкой: ")
    assert text.endswith("Устраните её и запустите снова: готовые квитанции заново не формируются")
    assert (run.status, run.finished_at) == (RunStatus.FAILED, NOW)
    assert Bill.objects.count() == 0


# --- show -------------------------------------------------------------------------------


def test_show_writes_the_bill_and_the_second_time_serves_the_stored_one(
    october: October, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out_file = tmp_path / "bill.pdf"

    out, _err = bills_cmd(capsys, "show", "--account", "77 0000 000003", "--period", "2026-10", "--out", str(out_file))

    bill = Bill.objects.get()
    pdf = out_file.read_bytes()
    assert pdf.startswith(b"%PDF-")
    assert (bill.account_id, bill.size, bill.run_id, bill.rendered_at) == (october.in_debt.pk, len(pdf), None, NOW)
    assert out.splitlines() == [
        f"Квитанция за октябрь 2026 по лицевому счёту 770000000003 (Газпром межрегионгаз Москва) записана в "
        f"{out_file} ({file_size(len(pdf))}; сформирована сейчас).",
        f"  К оплате: 1\u202f234,95{NBSP}₽ до 15.11.2026",
    ]

    again = tmp_path / "again.pdf"
    monkeypatch.setattr("abonent.core.clock.now", lambda: NOW + dt.timedelta(hours=1))
    out, _err = bills_cmd(capsys, "show", "--account", "770000000003", "--period", "2026-10", "--out", str(again),
                          "--supplier", "gaz-msk")  # fmt: skip

    assert again.read_bytes() == pdf
    assert f"({file_size(len(pdf))}; сформирована 22.11.2026 12:00, с тех пор не изменилась)." in out
    assert Bill.objects.get().pk == bill.pk


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--period", "2026-10"), "--account: укажите номер лицевого счёта — 12 цифр, как в квитанции"),
        (
            ("--account", "7700", "--period", "2026-10"),
            "--account: «7700» — не номер лицевого счёта; нужно 12 цифр, как в квитанции",
        ),
        (("--account", "770000000077", "--period", "2026-10"), "--account: лицевого счёта 770000000077 нет"),
        (
            ("--account", "770000000001", "--supplier", "gaz-spb", "--period", "2026-10"),
            "--supplier: поставщика с кодом «gaz-spb» нет (есть: gaz-msk)",
        ),
        (("--account", "770000000001", "--period", "2026-13"), "--period: «2026-13» — не период"),
        (("--account", "770000000001", "--period", "2026-10"), "--out: укажите файл, куда записать квитанцию"),
    ],
)
def test_show_with_a_bad_argument_is_exit_code_2(october: October, args: tuple[str, ...], message: str) -> None:
    code, text = refused("show", *args)

    assert code == 2
    assert text.startswith(message), text
    assert Bill.objects.count() == 0


def test_show_into_a_folder_or_a_missing_folder_is_exit_code_2(october: October, tmp_path: Path) -> None:
    args = ("show", "--account", "770000000001", "--period", "2026-10", "--out")

    assert refused(*args, str(tmp_path)) == (
        2, f"--out: {tmp_path} — это папка; укажите имя файла, например {tmp_path / 'kvitanciya.pdf'}"
    )  # fmt: skip
    assert refused(*args, str(tmp_path / "nowhere" / "bill.pdf")) == (2, f"--out: папки {tmp_path / 'nowhere'} нет")
    assert Bill.objects.count() == 0


def test_show_of_a_period_without_charges_is_exit_code_1(october: October, tmp_path: Path) -> None:
    out_file = tmp_path / "bill.pdf"

    code, text = refused("show", "--account", "770000000009", "--period", "2026-10", "--out", str(out_file))

    assert (code, text) == (1, "Квитанции за октябрь 2026 нет: в этом периоде по счёту не было начислений")
    assert not out_file.exists()
    assert Bill.objects.count() == 0


def test_a_number_two_suppliers_have_needs_the_supplier(
    october: October, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    yantar = supplier_create(**{**SUPPLIER_MOSCOW, "code": "yantar", "short_name": "Янтарьгаз"})
    account_make(supplier=yantar, number="770000000001")

    assert refused("show", "--account", "770000000001", "--period", "2026-10", "--out", str(tmp_path / "b.pdf")) == (
        2, "--account: лицевой счёт 770000000001 есть у 2 поставщиков (gaz-msk, yantar): укажите, чей, в --supplier"
    )  # fmt: skip

    out, _err = bills_cmd(capsys, "show", "--account", "770000000001", "--supplier", "gaz-msk", "--period", "2026-10",
                          "--out", str(tmp_path / "b.pdf"))  # fmt: skip

    assert "по лицевому счёту 770000000001 (Газпром межрегионгаз Москва) записана" in out
    assert Bill.objects.get().account_id == october.by_reading.pk
