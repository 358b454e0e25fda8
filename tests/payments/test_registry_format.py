"""Reading bank registries: the built-in profile's dates, times, amounts and periods as
banks write them, the physical line numbers, the summary line, and the profiles of the
setting PAYMENT_REGISTRY_PROFILES — with a message that names what is wrong in a bad one."""

from __future__ import annotations

import codecs
import datetime as dt
import json
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from abonent.core.models import Supplier
from abonent.core.periods import Period
from abonent.customers.models import PersonalAccount
from abonent.ledger.models import LedgerEntry
from abonent.payments.models import RegistryFile, RegistryLine
from abonent.payments.registries import registry_import
from abonent.payments.registry_format import (
    DEFAULT,
    Line,
    ProfileError,
    Reading,
    RegistryProfile,
    Summary,
    amount_read,
    lines_read,
    profiles,
)
from tests.factories import account_make

MSK = ZoneInfo("Europe/Moscow")
FIRST = "05.11.2026;14:23:05;500000000017;1250,50;10.2026;Иванова Мария Петровна;8800123456\n"


def read(text: str, profile: RegistryProfile = DEFAULT) -> tuple[list[Line], Reading]:
    reading = Reading()
    lines = list(lines_read(text, profile, time_zone="Europe/Moscow", reading=reading))
    return lines, reading


def one(text: str, profile: RegistryProfile = DEFAULT) -> Line:
    (line,) = read(text, profile)[0]
    return line


def test_a_line_of_the_default_profile() -> None:
    lines, reading = read(FIRST + "=1;1250,50\n")

    assert lines == [
        Line(
            number=1,
            account="500000000017",
            reference="8800123456",
            payer="Иванова Мария Петровна",
            paid_at=dt.datetime(2026, 11, 5, 14, 23, 5, tzinfo=MSK),
            amount=Decimal("1250.50"),
            period=Period(2026, 10),
            error="",
        )
    ]
    assert reading == Reading(summary=Summary(2, 1, Decimal("1250.50")), after_summary=[])


def test_the_time_zone_is_the_suppliers() -> None:
    reading = Reading()
    (line,) = lines_read(FIRST, DEFAULT, time_zone="Europe/Kaliningrad", reading=reading)

    assert line.paid_at == dt.datetime(2026, 11, 5, 14, 23, 5, tzinfo=ZoneInfo("Europe/Kaliningrad"))
    assert line.paid_at.astimezone(dt.UTC) == dt.datetime(2026, 11, 5, 12, 23, 5, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("05.11.2026", dt.date(2026, 11, 5)),
        ("05-11-2026", dt.date(2026, 11, 5)),
        ("05/11/2026", dt.date(2026, 11, 5)),
        ("2026-11-05", dt.date(2026, 11, 5)),
        ("29.02.2028", dt.date(2028, 2, 29)),
    ],
)
def test_dates(text: str, day: dt.date) -> None:
    line = one(f"{text};10:00:00;500000000017;1;;;R1\n")

    assert (line.paid_at, line.error) == (dt.datetime.combine(day, dt.time(10), tzinfo=MSK), "")


@pytest.mark.parametrize("text", ["31.11.2026", "29.02.2026", "5.11.2026", "05.11-2026", "2026/11/05", "20261105", ""])
def test_not_a_date(text: str) -> None:
    line = one(f"{text};10:00:00;500000000017;1;;;R1\n")

    assert (line.paid_at, line.error) == (None, f"дата «{text}» — не дата ДД.ММ.ГГГГ")


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("14:23:05", dt.time(14, 23, 5)),
        ("14-23-05", dt.time(14, 23, 5)),
        ("14.23.05", dt.time(14, 23, 5)),
        ("14:23", dt.time(14, 23)),
        ("00:00:00", dt.time(0)),
        ("", dt.time(0)),  # no time: the start of the day
    ],
)
def test_times(text: str, moment: dt.time) -> None:
    line = one(f"05.11.2026;{text};500000000017;1;;;R1\n")

    assert (line.paid_at, line.error) == (dt.datetime.combine(dt.date(2026, 11, 5), moment, tzinfo=MSK), "")


@pytest.mark.parametrize(
    "text", ["24:00:00", "14:60", "14", "1:23:05", "+1:23:05", "1 :23:05", "1_:23:05", "14:23:05:01", "обед"]
)
def test_not_a_time(text: str) -> None:
    line = one(f"05.11.2026;{text};500000000017;1;;;R1\n")

    assert line.error == f"время «{text}» — не время ЧЧ:ММ:СС"
    assert line.paid_at == dt.datetime(2026, 11, 5, tzinfo=MSK)  # the date is still read


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("1250,50", Decimal("1250.50")),
        ("1250.50", Decimal("1250.50")),
        ("1250", Decimal("1250")),
        ("0,5", Decimal("0.5")),
        ("1 250,50", Decimal("1250.50")),
        ("1\u00a0250,50", Decimal("1250.50")),
        ("-10,00", Decimal("-10.00")),  # a number: whether it can be paid is the import's business
        ("1,005", Decimal("1.005")),
    ],
)
def test_amounts(text: str, amount: Decimal) -> None:
    line = one(f"05.11.2026;;500000000017;{text};;;R1\n")

    assert (line.amount, line.error) == (amount, "")
    assert str(line.amount) == str(amount)


@pytest.mark.parametrize("text", ["abc", "", "1,250,50", "NaN", "Infinity", "12р"])
def test_not_an_amount(text: str) -> None:
    line = one(f"05.11.2026;;500000000017;{text};;;R1\n")

    assert (line.amount, line.error) == (None, f"сумма «{text}» — не число рублей")
    assert amount_read(text) is None


@pytest.mark.parametrize(
    ("text", "period"),
    [
        ("10.2026", Period(2026, 10)),
        ("102026", Period(2026, 10)),
        ("10/2026", Period(2026, 10)),
        ("2026-10", Period(2026, 10)),
        ("01.2027", Period(2027, 1)),
        ("", None),
    ],
)
def test_periods(text: str, period: Period | None) -> None:
    line = one(f"05.11.2026;;500000000017;1;{text};;R1\n")

    assert (line.period, line.error) == (period, "")


@pytest.mark.parametrize("text", ["13.2026", "2026", "октябрь", "1.2026x", "00.2026"])
def test_not_a_period(text: str) -> None:
    line = one(f"05.11.2026;;500000000017;1;{text};;R1\n")

    assert (line.period, line.error) == (None, f"период «{text}» — не месяц ММ.ГГГГ")


def test_every_error_of_a_line_is_told_at_once() -> None:
    line = one("31.11.2026;25:00;500000000017;много;13.2026;;\n")

    assert line == Line(
        number=1,
        account="500000000017",
        reference="",
        payer="",
        paid_at=None,
        amount=None,
        period=None,
        error="дата «31.11.2026» — не дата ДД.ММ.ГГГГ; время «25:00» — не время ЧЧ:ММ:СС; сумма «много» — не "
        "число рублей; период «13.2026» — не месяц ММ.ГГГГ; нет номера операции",
    )


def test_a_reference_longer_than_64_is_refused() -> None:
    line = one(f"05.11.2026;;500000000017;1;;;{'7' * 65}\n")

    assert (line.reference, line.error) == ("7" * 64, "номер операции длиннее 64 знаков")


def test_too_few_fields() -> None:
    line = one("05.11.2026;500000000017;1250,50\n")

    assert line == Line(
        number=1,
        account="1250,50",  # the third field: the file's columns are not where the profile says
        reference="",
        payer="",
        paid_at=None,
        amount=None,
        period=None,
        error="3 полей вместо 7 (разделитель «;»)",
    )


def test_more_fields_than_the_profile_has_are_ignored() -> None:
    line = one("05.11.2026;;500000000017;1;;Петров;R1;лишнее;ещё\n")

    assert (line.account, line.amount, line.payer, line.reference, line.error) == (
        "500000000017",
        Decimal("1"),
        "Петров",
        "R1",
        "",
    )


def test_fields_are_stripped_of_spaces() -> None:
    line = one(" 05.11.2026 ; 14:23 ; 500000000017 ; 100,00 ; 10.2026 ; Петров П. ; R1 \n")

    assert (line.paid_at, line.account, line.amount, line.period, line.payer, line.reference, line.error) == (
        dt.datetime(2026, 11, 5, 14, 23, tzinfo=MSK),
        "500000000017",
        Decimal("100.00"),
        Period(2026, 10),
        "Петров П.",
        "R1",
        "",
    )


def test_blank_lines_are_skipped_and_lines_keep_their_physical_numbers() -> None:
    text = (
        "\n"
        "05.11.2026;;500000000017;1;;;R1\r\n"
        "   \r\n"
        ";;;;;;\n"
        '05.11.2026;;500000000018;2;;"Петров; Пётр\nПетрович";R2\n'  # a quoted field with ; and a line break
        "05.11.2026;;500000000019;3;;;R3\n"
        "\n"
        "=3;6,00\n"
        "\n"
    )

    lines, reading = read(text)

    assert [(line.number, line.account, line.payer, line.reference, line.error) for line in lines] == [
        (2, "500000000017", "", "R1", ""),
        (6, "500000000018", "Петров; Пётр\nПетрович", "R2", ""),  # the line where the record ends
        (7, "500000000019", "", "R3", ""),
    ]
    assert reading == Reading(summary=Summary(9, 3, Decimal("6.00")), after_summary=[])


def test_a_quoted_field_with_the_delimiter() -> None:
    line = one('05.11.2026;;"500000000017";"1250,50";;"ООО ""Ромашка""; бухгалтерия";R1\n')

    assert (line.account, line.amount, line.payer, line.error) == (
        "500000000017",
        Decimal("1250.50"),
        'ООО "Ромашка"; бухгалтерия',
        "",
    )


@pytest.mark.parametrize(
    ("text", "summary"),
    [
        ("=2;3,50", Summary(2, 2, Decimal("3.50"))),
        ("= 2 ; 3.50 ", Summary(2, 2, Decimal("3.50"))),
        ("=2", Summary(2, 2, None, "итоговая строка 2 — не «=количество;сумма»: «2»")),
        ("=два;3,50", Summary(2, None, Decimal("3.50"), "итоговая строка 2 — не «=количество;сумма»: «два;3,50»")),
        ("=2;много", Summary(2, 2, None, "итоговая строка 2 — не «=количество;сумма»: «2;много»")),
        ("=-2;3,50", Summary(2, None, Decimal("3.50"), "итоговая строка 2 — не «=количество;сумма»: «-2;3,50»")),
        ("=2;99999999999999,99", Summary(2, 2, Decimal("99999999999999.99"))),
        ("=2;100000000000000", Summary(2, 2, None, "итоговая строка 2 — не «=количество;сумма»: «2;100000000000000»")),
        ("=2;1e30", Summary(2, 2, None, "итоговая строка 2 — не «=количество;сумма»: «2;1e30»")),
    ],
)
def test_the_summary_line(text: str, summary: Summary) -> None:
    lines, reading = read("05.11.2026;;500000000017;3,50;;;R1\n" + text + "\n")

    assert [line.number for line in lines] == [1]
    assert reading == Reading(summary=summary, after_summary=[])


def test_lines_after_the_summary_are_not_payments() -> None:
    lines, reading = read(FIRST + "=1;1250,50\n05.11.2026;;500000000018;2;;;R2\n\n=2;1252,50\n")

    assert [line.number for line in lines] == [1]
    assert reading == Reading(summary=Summary(2, 1, Decimal("1250.50")), after_summary=[3, 5])


def test_without_a_summary_a_line_starting_with_the_prefix_is_a_payment() -> None:
    profile = RegistryProfile("nosum", summary=False)

    lines, reading = read(FIRST + "=1;1250,50\n", profile)

    assert [(line.number, line.error) for line in lines] == [
        (1, ""),
        (2, "2 полей вместо 7 (разделитель «;»)"),
    ]
    assert reading == Reading(summary=None, after_summary=[])


# --- Profiles -----------------------------------------------------------------------------

AGENT: dict[str, Any] = {
    "agent": {
        "columns": ["reference", "date", "account", "", "amount", "period"],
        "delimiter": ",",
        "header_lines": 2,
        "channel": "agent",
    }
}


def test_without_the_setting_there_is_the_default_profile(settings: Any) -> None:
    settings.PAYMENT_REGISTRY_PROFILES = ""

    found = profiles()

    assert list(found) == ["default"]
    assert found["default"] == RegistryProfile(
        name="default",
        columns=("date", "time", "account", "amount", "period", "payer", "reference"),
        delimiter=";",
        encoding="",
        header_lines=0,
        summary=True,
        summary_prefix="=",
        channel="bank",
    )


def test_a_profile_from_the_setting_reads_its_files(settings: Any) -> None:
    settings.PAYMENT_REGISTRY_PROFILES = json.dumps(AGENT)

    found = profiles()

    assert found == {
        "default": DEFAULT,
        "agent": RegistryProfile(
            name="agent",
            columns=("reference", "date", "account", "", "amount", "period"),
            delimiter=",",
            header_lines=2,
            channel="agent",
        ),
    }
    text = (
        "Реестр платежей ООО «Агент»\n"
        "номер,дата,лицевой счёт,ФИО,сумма,период\n"
        'A-1,2026-11-05,500000000017,"Иванова, М. П.","1250,50",10.2026\n'
        "A-2,06.11.2026,500000000018,Петров,99.90,\n"
        '=2,"1350,40"\n'
    )
    lines, reading = read(text, found["agent"])

    assert lines == [
        Line(3, "500000000017", "A-1", "", dt.datetime(2026, 11, 5, tzinfo=MSK), Decimal("1250.50"),
             Period(2026, 10)),
        Line(4, "500000000018", "A-2", "", dt.datetime(2026, 11, 6, tzinfo=MSK), Decimal("99.90"), None),
    ]  # fmt: skip
    assert reading == Reading(summary=Summary(5, 2, Decimal("1350.40")), after_summary=[])


def test_a_profile_may_be_given_as_a_mapping(settings: Any) -> None:
    settings.PAYMENT_REGISTRY_PROFILES = {"qr": {"channel": "qr", "encoding": "cp1251", "summary": False}}

    assert profiles()["qr"] == RegistryProfile("qr", channel="qr", encoding="cp1251", summary=False)


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        (
            '{"agent": {"columns": ["ref", "date", "account", "amount", "reference"]}}',
            "agent: unknown columns ['ref']; known: date, time, account, amount, period, payer, reference",
        ),
        ('{"agent": {"columns": ["date", "account"]}}', "agent: columns ['amount', 'reference'] are required"),
        (
            '{"agent": {"columns": ["date", "account", "amount", "reference", "date"]}}',
            "agent: columns ['date'] are given twice",
        ),
        (
            '{"agent": {"columns": ["date", "account", "amount", "reference"], "delim": ","}}',
            "agent: unknown options ['delim']; known: channel, columns, delimiter, encoding, header_lines, summary, "
            "summary_prefix",
        ),
        ('{"agent": {"channel": "online"}}', "agent: channel is one of bank, agent, qr"),
        ('{"agent": {"channel": "post"}}', "agent: channel is one of bank, agent, qr"),
        ('{"agent": {"delimiter": ";;"}}', "agent: the delimiter is one character, not a quote or a line break"),
        ('{"agent": {"delimiter": "\\""}}', "agent: the delimiter is one character, not a quote or a line break"),
        ('{"agent": {"encoding": "koi9"}}', "agent: unknown encoding 'koi9'"),
        ('{"agent": {"header_lines": -1}}', "agent: header_lines is not negative"),
        ('{"agent": {"summary_prefix": ""}}', "agent: summary_prefix is needed when summary is true"),
        ('{"agent": {"columns": 5}}', "agent: columns is a JSON list of field names"),
        ('{"agent": {"columns": "date;account;amount;reference"}}', "agent: columns is a JSON list of field names"),
        ('{"agent": ["date"]}', "agent: the options are a JSON object"),
        ('["agent"]', "PAYMENT_REGISTRY_PROFILES is a JSON object: name → options"),
        (
            '{"agent": {"delimiter": ","',
            "PAYMENT_REGISTRY_PROFILES is not JSON: Expecting ',' delimiter: line 1 column 28 (char 27)",
        ),
    ],
)
def test_a_bad_profile_setting_says_what_is_wrong(settings: Any, setting: str, message: str) -> None:
    settings.PAYMENT_REGISTRY_PROFILES = setting

    with pytest.raises(ProfileError) as error:
        profiles()

    assert str(error.value) == message


def test_a_profile_without_a_summary_may_have_no_prefix(settings: Any) -> None:
    settings.PAYMENT_REGISTRY_PROFILES = '{"agent": {"summary": false, "summary_prefix": ""}}'

    assert profiles()["agent"] == RegistryProfile("agent", summary=False, summary_prefix="")


def test_a_profile_of_a_wrong_type_is_a_profile_error(settings: Any) -> None:
    settings.PAYMENT_REGISTRY_PROFILES = '{"agent": {"header_lines": "1"}}'

    with pytest.raises(ProfileError) as error:
        profiles()

    assert str(error.value).startswith("agent: ")


# --- Encodings, through the import -------------------------------------------------------

NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
CYRILLIC = "05.11.2026;14:23:05;500000000017;1250,50;10.2026;Иванова Мария Петровна;8800123456\r\n=1;1250,50\r\n"


@pytest.fixture
def account(supplier: Supplier) -> PersonalAccount:
    return account_make(supplier=supplier, number="500000000017")


def imported(supplier: Supplier, content: bytes, profile: str = "default") -> list[tuple[Any, ...]]:
    report = registry_import(
        supplier=supplier, source="sber", content=content, file_name="r.txt", now=NOW, profile=profile
    )
    assert (report.posted, report.failed) == (1, 0), report.problems
    return list(RegistryLine.objects.values_list("line_no", "account_number", "amount", "payer", "status"))


@pytest.mark.django_db
@pytest.mark.parametrize(
    "content",
    [CYRILLIC.encode("utf-8"), codecs.BOM_UTF8 + CYRILLIC.encode("utf-8"), CYRILLIC.encode("cp1251")],
    ids=["utf-8", "utf-8 with a BOM", "windows-1251"],
)
def test_the_default_profile_reads_utf8_and_windows_1251(
    supplier: Supplier, account: PersonalAccount, content: bytes
) -> None:
    assert imported(supplier, content) == [(1, "500000000017", Decimal("1250.50"), "Иванова Мария Петровна", "posted")]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("encoding", "content"),
    [
        ("cp1251", CYRILLIC.encode("cp1251")),
        ("utf-8", CYRILLIC.encode("utf-8")),
        ("utf-8", codecs.BOM_UTF8 + CYRILLIC.encode("utf-8")),
        ("utf-8-sig", codecs.BOM_UTF8 + CYRILLIC.encode("utf-8")),
        ("koi8-r", CYRILLIC.encode("koi8-r")),
    ],
)
def test_a_profile_names_its_encoding(
    supplier: Supplier, account: PersonalAccount, settings: Any, encoding: str, content: bytes
) -> None:
    settings.PAYMENT_REGISTRY_PROFILES = json.dumps({"bank": {"encoding": encoding}})

    assert imported(supplier, content, "bank") == [
        (1, "500000000017", Decimal("1250.50"), "Иванова Мария Петровна", "posted")
    ]


@pytest.mark.django_db
def test_a_profile_of_the_setting_imports_its_files(
    supplier: Supplier, account: PersonalAccount, settings: Any
) -> None:
    settings.PAYMENT_REGISTRY_PROFILES = json.dumps(AGENT)
    content = (
        "Реестр платежей ООО «Агент»\r\n"
        "номер,дата,лицевой счёт,ФИО,сумма,период\r\n"
        'A-1,2026-11-05,500000000017,"Иванова, М. П.","1250,50",10.2026\r\n'
        '=1,"1250,50"\r\n'
    ).encode("cp1251")

    report = registry_import(
        supplier=supplier, source="agent-1", content=content, file_name="a.csv", now=NOW, profile="agent"
    )

    assert (report.profile, report.lines, report.posted, report.summary_count) == ("agent", 1, 1, 1)
    assert list(RegistryLine.objects.values_list("line_no", "reference", "payer", "status")) == [
        (3, "A-1", "", "posted")
    ]
    assert RegistryFile.objects.get().channel == "agent"
    entry = LedgerEntry.objects.get()
    assert (entry.source_key, entry.amount, entry.posted_on, entry.note) == (
        "registry:agent-1:A-1",
        Decimal("-1250.50"),
        dt.date(2026, 11, 5),
        "Оплата: платёжный агент",
    )
