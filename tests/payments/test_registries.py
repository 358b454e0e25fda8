"""Importing bank registries (реестр платежей): each valid line posted to the ledger once
under the bank's reference, the other lines reported and stored with their error, repeats of
posted payments recognised in the same file, in later files and across chunks; a file whose
summary does not add up, a whole-file import with a bad line, a dry run and a crash leave
nothing written."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from abonent.core.models import AuditRecord, Supplier
from abonent.core.periods import Period
from abonent.core.services import supplier_create
from abonent.customers.models import PersonalAccount
from abonent.identity.models import User
from abonent.ledger.enums import EntryKind, Service
from abonent.ledger.models import LedgerEntry
from abonent.ledger.selectors import balances_get, ledger_verify
from abonent.ledger.services import NewEntry, entries_post
from abonent.payments import registries
from abonent.payments.models import RegistryFile, RegistryLine
from abonent.payments.registries import (
    Problem,
    RegistryAlreadyLoaded,
    RegistryFileInvalid,
    RegistryMode,
    RegistryReport,
    registry_import,
)
from tests.conftest import SUPPLIER_MOSCOW
from tests.factories import account_make

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)  # 12:00 on 20.11.2026 in Moscow
MSK = dt.timezone(dt.timedelta(hours=3))
D = Decimal
FIRST, SECOND, STRANGER = "500000000017", "500000000018", "390000000001"
BANK = "Оплата: в отделении банка"


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("abonent.core.clock.now", lambda: NOW)


@pytest.fixture
def accounts(supplier: Supplier) -> list[PersonalAccount]:
    return [account_make(supplier=supplier, number=FIRST), account_make(supplier=supplier, number=SECOND)]


@pytest.fixture
def yantar(db: None) -> Supplier:
    other = supplier_create(
        **{**SUPPLIER_MOSCOW, "code": "yantar", "short_name": "Янтарьгаз", "time_zone": "Europe/Kaliningrad"}
    )
    account_make(supplier=other, number=STRANGER)
    return other


def line(
    reference: str,
    account: str = FIRST,
    amount: str = "1250,50",
    *,
    date: str = "05.11.2026",
    time: str = "14:23:05",
    period: str = "10.2026",
    payer: str = "Иванова Мария Петровна",
) -> str:
    return f"{date};{time};{account};{amount};{period};{payer};{reference}"


def registry(*lines: str, count: int | None = None, total: str | None = None) -> bytes:
    """The lines and the summary line that adds them up (unless told otherwise)."""
    if total is None:
        summed = D(0)
        for text in lines:
            with contextlib.suppress(ArithmeticError, IndexError):
                summed += D(text.split(";")[3].replace(",", "."))
        total = str(summed).replace(".", ",")
    summary = f"={len(lines) if count is None else count};{total}"
    return ("\n".join([*lines, summary]) + "\n").encode()


def load(supplier: Supplier, content: bytes, name: str = "sber-1.txt", **options: Any) -> RegistryReport:
    options.setdefault("source", "sber")
    return registry_import(supplier=supplier, content=content, file_name=name, now=NOW, **options)


def rub(text: str) -> str:
    """Money as the messages show it: «1 250,50 ₽» with the narrow and the no-break space."""
    return text.replace(" ", "\u202f") + "\u00a0₽"


def conflict(reference: str, where: str, account: str, amount: str) -> str:
    """The error of a line whose reference was posted before with another account or amount:
    ``account`` and ``amount`` are what was posted (the amount with no spaces between thousands)."""
    amount = amount.replace(" ", "")
    return f"номер операции {reference} уже проведён с другими данными ({where}: лицевой счёт {account}, {amount} ₽)"


def entries() -> list[tuple[Any, ...]]:
    return list(
        LedgerEntry.objects.filter(kind=EntryKind.PAYMENT).order_by("source_key").values_list(
            "account__number", "service", "kind", "amount", "posted_on", "period", "billed_in", "pays_period",
            "source_key", "note",
        )
    )  # fmt: skip


def stored_lines() -> list[tuple[Any, ...]]:
    return list(
        RegistryLine.objects.order_by("file_id", "line_no").values_list(
            "file__name", "line_no", "reference", "account_number", "status", "error"
        )
    )


def nothing_written() -> None:
    assert not RegistryFile.objects.exists()
    assert not RegistryLine.objects.exists()
    assert not LedgerEntry.objects.exists()
    assert not AuditRecord.objects.filter(action="registry_import").exists()


# --- Posting --------------------------------------------------------------------------------


def test_valid_lines_are_posted_to_the_ledger(supplier: Supplier, accounts: list[PersonalAccount]) -> None:
    first, second = accounts
    entries_post(
        entries=[NewEntry(first.pk, Service.GAS, EntryKind.CHARGE, Period(2026, 10), Period(2026, 10), D("2000.00"),
                          dt.date(2026, 10, 31), "charge:1")],
        now=NOW,
    )  # fmt: skip
    content = registry(
        line("8800123456"),
        line("8800123457", SECOND, "99.9", date="2026-10-31", time="23:59", period=""),  # 20:59 UTC, a day in Moscow
        line("8800123458", amount="100", date="06-11-2026", time="", period="122026", payer="Петров"),
    )

    report = load(supplier, content)

    file = RegistryFile.objects.get()
    assert report == RegistryReport(
        file_name="sber-1.txt",
        source="sber",
        profile="default",
        dry_run=False,
        mode=RegistryMode.VALID_LINES,
        applied=True,
        file_id=file.pk,
        lines=3,
        posted=3,
        duplicates=0,
        failed=0,
        amount_posted=D("1450.40"),
        amount_read=D("1450.40"),
        amounts_unread=0,
        summary_count=3,
        summary_amount=D("1450.40"),
        problems=[],
    )
    assert entries() == [
        ("500000000017", "gas", "payment", D("-1250.50"), dt.date(2026, 11, 5), Period(2026, 10), Period(2026, 11),
         Period(2026, 10), "registry:sber:8800123456", BANK),
        ("500000000018", "gas", "payment", D("-99.90"), dt.date(2026, 10, 31), Period(2026, 10), Period(2026, 10),
         None, "registry:sber:8800123457", BANK),
        ("500000000017", "gas", "payment", D("-100.00"), dt.date(2026, 11, 6), Period(2026, 12), Period(2026, 11),
         Period(2026, 12), "registry:sber:8800123458", BANK),
    ]  # fmt: skip
    assert balances_get(account=first) == {"gas": D("649.50"), "penalty": D("0.00"), "vdgo": D("0.00")}
    assert balances_get(account=second) == {"gas": D("-99.90"), "penalty": D("0.00"), "vdgo": D("0.00")}
    assert ledger_verify() == []
    assert (
        file.source, file.name, file.profile, file.channel, file.supplier_id, file.loaded_at, file.loaded_by_id,
        file.lines_total, file.lines_posted, file.lines_duplicate, file.lines_failed, file.amount_posted,
        file.summary_count, file.summary_amount,
    ) == ("sber", "sber-1.txt", "default", "bank", supplier.pk, NOW, None, 3, 3, 0, 0, D("1450.40"), 3, D("1450.40"))  # fmt: skip
    assert list(
        RegistryLine.objects.order_by("line_no").values_list(
            "line_no", "source", "reference", "account_id", "account_number", "paid_at", "amount", "period", "payer",
            "status", "error",
        )
    ) == [
        (1, "sber", "8800123456", first.pk, FIRST, dt.datetime(2026, 11, 5, 11, 23, 5, tzinfo=dt.UTC), D("1250.50"),
         Period(2026, 10), "Иванова Мария Петровна", "posted", ""),
        (2, "sber", "8800123457", second.pk, SECOND, dt.datetime(2026, 10, 31, 20, 59, tzinfo=dt.UTC), D("99.90"),
         None, "Иванова Мария Петровна", "posted", ""),
        (3, "sber", "8800123458", first.pk, FIRST, dt.datetime(2026, 11, 5, 21, 0, tzinfo=dt.UTC), D("100.00"),
         Period(2026, 12), "Петров", "posted", ""),
    ]  # fmt: skip
    audit = AuditRecord.objects.get(action="registry_import")
    assert (audit.at, audit.actor_id, audit.channel, audit.object_type, audit.object_id, audit.after) == (
        NOW,
        None,
        "cli",
        "registry_file",
        str(file.pk),
        {"source": "sber", "file": "sber-1.txt", "mode": "valid_lines", "posted": 3, "amount": "1450.40",
         "duplicates": 0, "failed": 0},
    )  # fmt: skip


def test_an_operator_is_recorded(supplier: Supplier, accounts: list[PersonalAccount]) -> None:
    olga = User.objects.create(username="olga", is_staff=True)

    load(supplier, registry(line("R1")), operator=olga, source=" SBER ")

    file = RegistryFile.objects.get()
    assert (file.source, file.loaded_by_id) == ("sber", olga.pk)
    audit = AuditRecord.objects.get(action="registry_import")
    assert (audit.actor_id, audit.channel) == (olga.pk, "backoffice")
    assert entries()[0][8] == "registry:sber:R1"


OLD_DAY = "18.11.2025"  # 367 days before 20.11.2026


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        (line("R2", "500000000099"), "лицевого счёта 500000000099 нет у поставщика gaz-msk"),
        (line("R2", "50000000001"), "лицевой счёт «50000000001» — не 12 цифр"),
        (line("R2", "5000000000170"), "лицевой счёт «5000000000170» — не 12 цифр"),
        (line("R2", "50000000001A"), "лицевой счёт «50000000001A» — не 12 цифр"),
        (line("R2", STRANGER), "лицевого счёта 390000000001 нет у поставщика gaz-msk"),
        (line("R2", date="31.11.2026"), "дата «31.11.2026» — не дата ДД.ММ.ГГГГ"),
        (line("R2", date="21.11.2026"), "дата 21.11.2026 ещё не наступила"),
        (line("R2", date=OLD_DAY, period=""), "дата 18.11.2025 — больше года назад"),
        (line("R2", time="25:00"), "время «25:00» — не время ЧЧ:ММ:СС"),
        (line("R2", amount="0"), "сумма: сумма должна быть больше нуля"),
        (line("R2", amount="0,00"), "сумма: сумма должна быть больше нуля"),
        (line("R2", amount="-10,00"), "сумма: сумма должна быть больше нуля"),
        (line("R2", amount="10,005"), "сумма: не больше двух знаков после запятой: рубли и копейки"),
        (line("R2", amount="500000,01"), "сумма: не больше 500\u202f000,00 ₽ одним платежом"),
        (line("R2", amount="1e6"), "сумма: не больше 500\u202f000,00 ₽ одним платежом"),
        (line("R2", amount="много"), "сумма «много» — не число рублей"),
        (line("R2", period="13.2026"), "период «13.2026» — не месяц ММ.ГГГГ"),
        (line("R2", period="01.2027"), "период 01.2027 далёк от даты платежа"),
        (line("R2", period="10.2023"), "период 10.2023 далёк от даты платежа"),
        (line(""), "нет номера операции"),
        ("05.11.2026;500000000017;1250,50;R2", "4 полей вместо 7 (разделитель «;»)"),
        (
            line("R2", "1", "-1", date="2026-13-01", period="2026"),
            "дата «2026-13-01» — не дата ДД.ММ.ГГГГ; период «2026» — не месяц ММ.ГГГГ",
        ),
        (
            line("R2", "1", "-1", date="21.11.2026", period="01.2027"),
            "лицевой счёт «1» — не 12 цифр; дата 21.11.2026 ещё не наступила; сумма: сумма должна быть больше нуля; "
            "период 01.2027 далёк от даты платежа",
        ),
    ],
)
def test_a_bad_line_is_reported_and_stored_the_others_posted(
    supplier: Supplier, accounts: list[PersonalAccount], yantar: Supplier, bad: str, error: str
) -> None:
    report = load(supplier, registry(line("R1"), bad, line("R3", SECOND, "10,00")))

    assert (report.applied, report.lines, report.posted, report.duplicates, report.failed, report.amount_posted) == (
        True,
        3,
        2,
        0,
        1,
        D("1260.50"),
    )
    assert report.problems == [Problem(2, "failed", error)]
    assert [(n, status, text) for _, n, _, _, status, text in stored_lines()] == [
        (1, "posted", ""),
        (2, "failed", error),
        (3, "posted", ""),
    ]
    failed = RegistryLine.objects.get(line_no=2)
    assert failed.account_id is None
    assert [e[8] for e in entries()] == ["registry:sber:R1", "registry:sber:R3"]
    file = RegistryFile.objects.get()
    assert (file.lines_total, file.lines_posted, file.lines_failed, file.amount_posted) == (3, 2, 1, D("1260.50"))
    assert not LedgerEntry.objects.filter(account__supplier=yantar).exists()


def test_the_values_of_a_failed_line_are_kept_as_far_as_they_were_read(
    supplier: Supplier, accounts: list[PersonalAccount]
) -> None:
    load(supplier, registry(line("R1"), line("R2", "500000000099", "15,5", period="09.2026", payer="Петров")))

    failed = RegistryLine.objects.get(line_no=2)
    assert (
        failed.reference, failed.account_id, failed.account_number, failed.paid_at, failed.amount, failed.period,
        failed.payer, failed.status,
    ) == ("R2", None, "500000000099", dt.datetime(2026, 11, 5, 11, 23, 5, tzinfo=dt.UTC), D("15.50"), Period(2026, 9),
          "Петров", "failed")  # fmt: skip


def test_the_first_and_last_days_a_payment_may_have(supplier: Supplier, accounts: list[PersonalAccount]) -> None:
    report = load(
        supplier,
        registry(
            line("R1", date="19.11.2025", period=""),  # 366 days before today
            line("R2", date="20.11.2026", time="23:59:59", period="12.2026"),  # today, the month after next is far
            line("R3", date="05.11.2026", period="11.2023"),  # 36 months back
            line("R4", amount="500000,00"),
        ),
    )

    assert (report.posted, report.failed, report.problems) == (4, 0, [])


def test_the_largest_payment_is_the_setting(supplier: Supplier, accounts: list[PersonalAccount], settings: Any) -> None:
    settings.PAYMENT_MAX_AMOUNT = "1000.00"

    report = load(supplier, registry(line("R1", amount="1000,00"), line("R2", amount="1000,01")))

    assert (report.posted, report.problems) == (
        1,
        [Problem(2, "failed", "сумма: не больше 1\u202f000,00 ₽ одним платежом")],
    )


# --- Repeats -----------------------------------------------------------------------------


def test_a_reference_repeated_in_the_file(supplier: Supplier, accounts: list[PersonalAccount]) -> None:
    report = load(
        supplier,
        registry(
            line("R1"),
            line("R1", amount="1250,5", payer="другой плательщик", time="15:00"),  # the same payment
            line("R1", amount="1250,51"),
            line("R1", SECOND),
        ),
    )

    assert (report.posted, report.duplicates, report.failed, report.amount_posted) == (1, 1, 2, D("1250.50"))
    assert report.problems == [
        Problem(2, "duplicate", "повтор: платёж R1 уже проведён (строка 1 этого файла)"),
        Problem(
            3,
            "failed",
            conflict("R1", "строка 1 этого файла", FIRST, "1 250,50"),
        ),
        Problem(
            4,
            "failed",
            conflict("R1", "строка 1 этого файла", FIRST, "1 250,50"),
        ),
    ]
    assert [status for _, _, _, _, status, _ in stored_lines()] == ["posted", "duplicate", "failed", "failed"]
    assert [(e[0], e[3]) for e in entries()] == [(FIRST, D("-1250.50"))]
    file = RegistryFile.objects.get()
    assert (file.lines_total, file.lines_posted, file.lines_duplicate, file.lines_failed) == (4, 1, 1, 2)


def test_a_second_file_repeating_lines_of_the_first(supplier: Supplier, accounts: list[PersonalAccount]) -> None:
    first, second = accounts
    load(supplier, registry(line("R1"), line("R2", SECOND, "300,00"), line("R3", "500000000099")))

    report = load(
        supplier,
        registry(
            line("R1"),  # posted by the first file
            line("R2", SECOND, "301,00"),  # the reference, with another amount
            line("R3"),  # failed in the first file: now corrected
            line("R4", SECOND, "1,00"),
        ),
        name="sber-2.txt",
    )

    assert (report.lines, report.posted, report.duplicates, report.failed, report.amount_posted) == (
        4,
        2,
        1,
        1,
        D("1251.50"),
    )
    assert report.problems == [
        Problem(1, "duplicate", "повтор: платёж R1 уже проведён (файл sber-1.txt, строка 1)"),
        Problem(
            2,
            "failed",
            conflict("R2", "файл sber-1.txt, строка 2", SECOND, "300,00"),
        ),
    ]
    assert stored_lines() == [
        ("sber-1.txt", 1, "R1", FIRST, "posted", ""),
        ("sber-1.txt", 2, "R2", SECOND, "posted", ""),
        ("sber-1.txt", 3, "R3", "500000000099", "failed", "лицевого счёта 500000000099 нет у поставщика gaz-msk"),
        ("sber-2.txt", 1, "R1", FIRST, "duplicate", report.problems[0].message),
        ("sber-2.txt", 2, "R2", SECOND, "failed", report.problems[1].message),
        ("sber-2.txt", 3, "R3", FIRST, "posted", ""),
        ("sber-2.txt", 4, "R4", SECOND, "posted", ""),
    ]
    assert [(e[0], e[3], e[8]) for e in entries()] == [
        (FIRST, D("-1250.50"), "registry:sber:R1"),
        (SECOND, D("-300.00"), "registry:sber:R2"),
        (FIRST, D("-1250.50"), "registry:sber:R3"),
        (SECOND, D("-1.00"), "registry:sber:R4"),
    ]
    assert balances_get(account=first)["gas"] == D("-2501.00")
    assert balances_get(account=second)["gas"] == D("-301.00")
    assert ledger_verify() == []


def test_references_are_the_banks_own(supplier: Supplier, accounts: list[PersonalAccount]) -> None:
    load(supplier, registry(line("R1")))

    report = load(supplier, registry(line("R1"), line("R2")), source="vtb", name="vtb.txt")

    assert (report.posted, report.duplicates) == (2, 0)
    assert [e[8] for e in entries()] == ["registry:sber:R1", "registry:vtb:R1", "registry:vtb:R2"]


def test_the_same_file_again_is_refused(supplier: Supplier, accounts: list[PersonalAccount]) -> None:
    content = registry(line("R1"), line("R2", SECOND), line("R3", "1"))
    load(supplier, content)

    with pytest.raises(RegistryAlreadyLoaded) as error:
        load(supplier, content, name="renamed.txt")
    with pytest.raises(RegistryAlreadyLoaded):
        load(supplier, content, dry_run=True)

    assert error.value.text == "Этот файл уже загружен 20.11.2026 12:00: проведено строк 2"
    assert error.value.code == "registry_already_loaded"
    assert RegistryFile.objects.count() == 1
    assert RegistryLine.objects.count() == 3
    assert LedgerEntry.objects.count() == 2
    assert AuditRecord.objects.filter(action="registry_import").count() == 1


# --- Files refused ----------------------------------------------------------------------

MISMATCH = (
    "Итоговая строка не сходится с файлом: в ней {count} платежей на {amount}, в файле — {lines} на {read}. "
    "Файл не загружен: попросите банк прислать его снова"
)
TWO = (line("R1"), line("R2", SECOND, "99,90"))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            ("\n".join(TWO) + "\n").encode(),
            "В конце файла нет итоговой строки «=количество;сумма»: файл мог быть обрезан. Попросите банк прислать "
            "его снова",
        ),
        (
            "\n".join(TWO).encode(),
            "В конце файла нет итоговой строки «=количество;сумма»: файл мог быть обрезан. Попросите банк прислать "
            "его снова",
        ),
        (("\n".join(TWO) + "\n=2\n").encode(), "итоговая строка 3 — не «=количество;сумма»: «2»"),
        (("\n".join(TWO) + "\n=два;1350,40\n").encode(), "итоговая строка 3 — не «=количество;сумма»: «два;1350,40»"),
        (
            registry(*TWO, count=3),
            MISMATCH.format(count=3, amount=rub("1 350,40"), lines=2, read=rub("1 350,40")),
        ),
        (
            registry(*TWO, total="1350,41"),
            MISMATCH.format(count=2, amount=rub("1 350,41"), lines=2, read=rub("1 350,40")),
        ),
        (
            registry(*TWO) + (line("R3") + "\n").encode(),
            "После итоговой строки есть ещё строки (4): итог должен быть последним",
        ),
        (
            registry(*TWO) + b"=1;1,00\n\n" + (line("R3") + "\n").encode(),
            "После итоговой строки есть ещё строки (4, 6): итог должен быть последним",
        ),
        (b"=0;0,00\n", "В файле нет строк с платежами"),
        (b"", "В файле нет строк с платежами"),
        (b"\n\n  \n", "В файле нет строк с платежами"),
    ],
)
def test_a_file_whose_summary_does_not_add_up_writes_nothing(
    supplier: Supplier, accounts: list[PersonalAccount], content: bytes, message: str
) -> None:
    for dry_run in (True, False):
        with pytest.raises(RegistryFileInvalid) as error:
            load(supplier, content, dry_run=dry_run)

        assert (error.value.code, error.value.text, error.value.errors) == (
            "registry_file_invalid",
            message,
            {"file": [message]},
        )
    nothing_written()
    assert balances_get(account=accounts[0])["gas"] == D("0.00")


def test_an_unreadable_amount_leaves_the_total_unchecked_but_not_the_count(
    supplier: Supplier, accounts: list[PersonalAccount]
) -> None:
    lines = (line("R1"), line("R2", amount="много"), line("R3", SECOND, "10,00"))

    with pytest.raises(RegistryFileInvalid) as error:
        load(supplier, registry(*lines, count=4, total="1260,50"))

    assert error.value.text == MISMATCH.format(count=4, amount=rub("1 260,50"), lines=3, read=rub("1 260,50"))
    nothing_written()

    report = load(supplier, registry(*lines, total="9999,99"))

    assert (report.lines, report.posted, report.failed, report.amount_read, report.amounts_unread) == (
        3,
        2,
        1,
        D("1260.50"),
        1,
    )
    assert (report.summary_count, report.summary_amount) == (3, D("9999.99"))
    assert report.problems == [Problem(2, "failed", "сумма «много» — не число рублей")]
    file = RegistryFile.objects.get()
    assert (file.summary_count, file.summary_amount, file.amount_posted) == (3, D("9999.99"), D("1260.50"))


@pytest.mark.parametrize("total", ["100000000000000", "1e30"])
def test_a_summary_no_file_can_hold_is_refused(supplier: Supplier, accounts: list[PersonalAccount], total: str) -> None:
    content = (line("R1") + "\n" + line("R2", amount="много") + f"\n=2;{total}\n").encode()

    with pytest.raises(RegistryFileInvalid) as error:
        load(supplier, content)

    assert error.value.text == f"итоговая строка 3 — не «=количество;сумма»: «2;{total}»"
    nothing_written()


def test_a_file_bigger_than_the_limit_is_refused(
    supplier: Supplier, accounts: list[PersonalAccount], settings: Any
) -> None:
    settings.PAYMENT_REGISTRY_MAX_MB = 1
    content = registry(line("R1"))
    too_big = content + b"\n" * (2**20 - len(content) + 1)
    assert len(too_big) == 2**20 + 1

    with pytest.raises(RegistryFileInvalid) as error:
        load(supplier, too_big)

    assert error.value.text == "Файл больше 1 МБ: разделите его"
    nothing_written()
    assert load(supplier, too_big[:-1]).posted == 1  # exactly the limit is not over it


@pytest.mark.parametrize(
    "content",
    [
        b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00",  # an Excel workbook
        b"\x00\x01\x02\x03",
        registry(line("R1")) + b"\x00",
    ],
)
def test_binary_content_is_refused(supplier: Supplier, accounts: list[PersonalAccount], content: bytes) -> None:
    with pytest.raises(RegistryFileInvalid) as error:
        load(supplier, content)

    assert error.value.text == "Файл не читается как текст в кодировке UTF-8 или Windows-1251"
    nothing_written()


def test_text_not_in_the_encoding_of_the_profile_is_refused(
    supplier: Supplier, accounts: list[PersonalAccount], settings: Any
) -> None:
    settings.PAYMENT_REGISTRY_PROFILES = '{"utf8": {"encoding": "utf-8"}}'

    with pytest.raises(RegistryFileInvalid) as error:
        load(supplier, registry(line("R1")).decode().encode("cp1251"), profile="utf8")

    assert error.value.text == "Файл не читается как текст в кодировке utf-8"
    nothing_written()


@pytest.mark.parametrize("source", ["", "Сбер", "sber bank", "-sber", "s" * 65, "sber/1"])
def test_a_bad_source_code_is_refused(supplier: Supplier, accounts: list[PersonalAccount], source: str) -> None:
    with pytest.raises(RegistryFileInvalid) as error:
        load(supplier, registry(line("R1")), source=source)

    assert error.value.text == (
        "Код банка или агента — латинские буквы, цифры, «-», «_» или «.», до 64 знаков, например sber"
    )
    nothing_written()


def test_an_unknown_profile_is_refused(supplier: Supplier, accounts: list[PersonalAccount], settings: Any) -> None:
    settings.PAYMENT_REGISTRY_PROFILES = '{"agent": {"delimiter": ","}, "qr": {"channel": "qr"}}'

    with pytest.raises(RegistryFileInvalid) as error:
        load(supplier, registry(line("R1")), profile="vtb")

    assert error.value.text == "Формата «vtb» нет; есть: agent, default, qr"
    nothing_written()


def test_a_bad_profile_setting_refuses_every_file(
    supplier: Supplier, accounts: list[PersonalAccount], settings: Any
) -> None:
    settings.PAYMENT_REGISTRY_PROFILES = '{"agent": {"channel": "online"}}'

    with pytest.raises(RegistryFileInvalid) as error:
        load(supplier, registry(line("R1")))

    assert error.value.text == "Форматы реестров настроены с ошибкой: agent: channel is one of bank, agent, qr"
    nothing_written()


# --- Modes ---------------------------------------------------------------------------------


def test_whole_with_a_bad_line_writes_nothing(supplier: Supplier, accounts: list[PersonalAccount]) -> None:
    content = registry(line("R1"), line("R2", "500000000099"), line("R3", SECOND), line("R1", amount="1,00"))

    report = load(supplier, content, mode=RegistryMode.WHOLE)

    assert (report.applied, report.file_id, report.lines, report.posted, report.duplicates, report.failed) == (
        False,
        None,
        4,
        2,
        0,
        2,
    )
    assert report.problems == [
        Problem(2, "failed", "лицевого счёта 500000000099 нет у поставщика gaz-msk"),
        Problem(
            4,
            "failed",
            conflict("R1", "строка 1 этого файла", FIRST, "1 250,50"),
        ),
    ]
    nothing_written()
    # the file may come again, corrected or not
    assert load(supplier, content).posted == 2


def test_whole_without_errors_is_posted(supplier: Supplier, accounts: list[PersonalAccount]) -> None:
    load(supplier, registry(line("R1")))

    report = load(supplier, registry(line("R1"), line("R2", SECOND)), mode=RegistryMode.WHOLE, name="sber-2.txt")

    assert (report.applied, report.posted, report.duplicates, report.failed) == (True, 1, 1, 0)  # a repeat is no error
    assert [e[8] for e in entries()] == ["registry:sber:R1", "registry:sber:R2"]
    assert (AuditRecord.objects.filter(action="registry_import").latest("pk").after or {}).get("mode") == "whole"


def report_fields(report: RegistryReport) -> dict[str, Any]:
    fields = dataclasses.asdict(report)
    for name in ("dry_run", "applied", "file_id"):
        fields.pop(name)
    return fields


@pytest.mark.parametrize("mode", list(RegistryMode))
def test_a_dry_run_writes_nothing_and_tells_what_the_import_does(
    supplier: Supplier, accounts: list[PersonalAccount], mode: RegistryMode
) -> None:
    load(supplier, registry(line("R1"), line("R2", SECOND, "300,00")))
    before = (RegistryFile.objects.count(), RegistryLine.objects.count(), entries())
    content = registry(
        line("R1"),  # posted before
        line("R2", SECOND, "1,00"),  # posted before with other data
        line("R3"),
        line("R3"),
        line("R4", "500000000099"),
        line("R5", SECOND, "10"),
    )

    check = load(supplier, content, name="sber-2.txt", dry_run=True, mode=mode)

    assert (RegistryFile.objects.count(), RegistryLine.objects.count(), entries()) == before
    assert AuditRecord.objects.filter(action="registry_import").count() == 1
    assert (check.dry_run, check.applied, check.file_id) == (True, False, None)
    assert (check.lines, check.posted, check.duplicates, check.failed) == (6, 2, 2, 2)

    real = load(supplier, content, name="sber-2.txt", mode=mode)

    assert report_fields(real) == report_fields(check)
    assert real.applied is (mode == RegistryMode.VALID_LINES)


def test_a_profile_without_a_summary(supplier: Supplier, accounts: list[PersonalAccount], settings: Any) -> None:
    settings.PAYMENT_REGISTRY_PROFILES = '{"qr": {"summary": false, "channel": "qr"}}'
    content = (line("R1") + "\n" + line("R2", SECOND, "10,00") + "\n").encode()

    report = load(supplier, content, profile="qr", source="sbp")

    assert (report.profile, report.posted, report.summary_count, report.summary_amount) == ("qr", 2, None, None)
    file = RegistryFile.objects.get()
    assert (file.profile, file.channel, file.summary_count, file.summary_amount) == ("qr", "qr", None, None)
    assert {e[9] for e in entries()} == {"Оплата: приложение банка по QR-коду"}


# --- Chunks and progress ---------------------------------------------------------------------


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"])
def test_progress_is_told_the_lines_read(
    supplier: Supplier, accounts: list[PersonalAccount], monkeypatch: pytest.MonkeyPatch, newline: bytes
) -> None:
    monkeypatch.setattr(registries, "CHUNK", 3)
    calls: list[tuple[int, int]] = []
    content = registry(*(line(f"R{i}", amount="1,00") for i in range(1, 8)))  # 8 lines and the last line break

    report = load(supplier, content.replace(b"\n", newline), progress=lambda done, total: calls.append((done, total)))

    assert report.posted == 7

    assert calls == [(3, 9), (6, 9), (9, 9)]
    assert all(done <= total for done, total in calls)


def test_without_chunks_progress_is_told_the_end(supplier: Supplier, accounts: list[PersonalAccount]) -> None:
    calls: list[tuple[int, int]] = []

    load(supplier, registry(line("R1"), line("R2")).rstrip(b"\n"), progress=lambda *call: calls.append(call))

    assert calls == [(3, 3)]


CHUNKED = (
    line("R1"),
    line("R2", SECOND, "10,00"),
    line("R3", SECOND, "20,00"),
    line("R1"),  # chunk 2: a repeat of chunk 1
    line("R4", SECOND, "30,00"),
    line("R2", SECOND, "11,00"),  # another payment under R2
    line("R5", SECOND, "40,00"),
    line("R5", SECOND, "40,00"),  # chunk 3: a repeat in the same chunk
    line("R4", SECOND, "30,00"),  # and of chunk 2
)


@pytest.mark.parametrize("dry_run", [True, False])
def test_repeats_across_chunks_are_found(
    supplier: Supplier, accounts: list[PersonalAccount], monkeypatch: pytest.MonkeyPatch, dry_run: bool
) -> None:
    monkeypatch.setattr(registries, "CHUNK", 3)

    report = load(supplier, registry(*CHUNKED), dry_run=dry_run)

    assert (report.lines, report.posted, report.duplicates, report.failed, report.amount_posted) == (
        9,
        5,
        3,
        1,
        D("1350.50"),
    )
    assert report.problems == [
        Problem(4, "duplicate", "повтор: платёж R1 уже проведён (строка 1 этого файла)"),
        Problem(
            6,
            "failed",
            conflict("R2", "строка 2 этого файла", SECOND, "10,00"),
        ),
        Problem(8, "duplicate", "повтор: платёж R5 уже проведён (строка 7 этого файла)"),
        Problem(9, "duplicate", "повтор: платёж R4 уже проведён (строка 5 этого файла)"),
    ]
    if dry_run:
        nothing_written()
        return
    assert [(e[8], e[3]) for e in entries()] == [
        ("registry:sber:R1", D("-1250.50")),
        ("registry:sber:R2", D("-10.00")),
        ("registry:sber:R3", D("-20.00")),
        ("registry:sber:R4", D("-30.00")),
        ("registry:sber:R5", D("-40.00")),
    ]
    assert [(n, status) for _, n, _, _, status, _ in stored_lines()] == [
        (1, "posted"), (2, "posted"), (3, "posted"), (4, "duplicate"), (5, "posted"), (6, "failed"), (7, "posted"),
        (8, "duplicate"), (9, "duplicate"),
    ]  # fmt: skip


def test_whole_stops_writing_at_the_first_bad_chunk(
    supplier: Supplier, accounts: list[PersonalAccount], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registries, "CHUNK", 3)

    report = load(supplier, registry(*CHUNKED), mode=RegistryMode.WHOLE)

    assert (report.applied, report.posted, report.duplicates, report.failed) == (False, 5, 3, 1)
    nothing_written()


def crash_on(call: int, then: Callable[..., Any] | None = None) -> Callable[..., Any]:
    """A stand-in that fails on its ``call``-th call (as a lost connection or a killed
    process would), and before it does what ``then`` does."""
    calls: list[int] = []

    def stand_in(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == call:
            raise ConnectionError("the database went away")
        return then(*args, **kwargs) if then is not None else None

    return stand_in


def loaded_again(supplier: Supplier, content: bytes) -> None:
    report = load(supplier, content)

    assert (report.applied, report.posted, report.duplicates, report.failed) == (True, 5, 3, 1)
    assert (RegistryFile.objects.count(), RegistryLine.objects.count(), LedgerEntry.objects.count()) == (1, 9, 5)
    assert AuditRecord.objects.filter(action="registry_import").count() == 1
    assert ledger_verify() == []


def test_a_crash_while_reading_leaves_nothing_and_the_file_can_be_loaded_again(
    supplier: Supplier, accounts: list[PersonalAccount], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registries, "CHUNK", 3)
    content = registry(*CHUNKED)

    with pytest.raises(ConnectionError):
        load(supplier, content, progress=crash_on(2))  # after 6 lines of 9

    nothing_written()
    loaded_again(supplier, content)


def test_a_crash_while_posting_leaves_nothing_and_the_file_can_be_loaded_again(
    supplier: Supplier, accounts: list[PersonalAccount], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registries, "CHUNK", 3)
    # the ledger's posting as the import calls it: once per chunk, or once for the whole file
    name = "entries_post" if hasattr(registries, "entries_post") else "entries_post_select"
    posting = getattr(registries, name)
    monkeypatch.setattr(registries, name, crash_on(2 if name == "entries_post" else 1, posting))
    content = registry(*CHUNKED)

    with pytest.raises(ConnectionError):
        load(supplier, content)

    nothing_written()
    monkeypatch.setattr(registries, name, posting)
    loaded_again(supplier, content)


def test_a_crash_at_the_end_leaves_nothing_and_the_file_can_be_loaded_again(
    supplier: Supplier, accounts: list[PersonalAccount], monkeypatch: pytest.MonkeyPatch
) -> None:
    audit = registries.audit_record
    monkeypatch.setattr(registries, "audit_record", crash_on(1))  # the last write of an import
    content = registry(*CHUNKED)

    with pytest.raises(ConnectionError):
        load(supplier, content)

    nothing_written()
    monkeypatch.setattr(registries, "audit_record", audit)
    loaded_again(supplier, content)


def test_texts_are_stored_as_they_are(supplier: Supplier, accounts: list[PersonalAccount]) -> None:
    payer = 'ООО "Ромашка"\tбух.\\касса\r\nвторая строка'
    quoted = '"' + payer.replace('"', '""') + '"'
    content = registry(line("R\\1"), line("R2", payer=quoted), line("R\\N", SECOND, payer="\\N"))

    report = load(supplier, content, name="реестр\t№1.txt")

    assert (report.posted, report.failed) == (3, 0), report.problems
    assert list(RegistryLine.objects.order_by("line_no").values_list("line_no", "reference", "payer")) == [
        (1, "R\\1", "Иванова Мария Петровна"),
        (3, "R2", payer),
        (4, "R\\N", "\\N"),
    ]
    assert [e[8] for e in entries()] == ["registry:sber:R2", "registry:sber:R\\1", "registry:sber:R\\N"]
    assert RegistryFile.objects.get().name == "реестр\t№1.txt"
