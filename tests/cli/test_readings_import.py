"""``abonent readings import FILE --mode whole|valid-lines [--dry-run] --operator LOGIN``:
a file of readings loaded whole or by its valid lines, never half; the errors per line and a
summary; exit codes 0 (loaded, or a clean check), 1 (lines with errors), 2 (a bad file or
bad arguments)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from abonent.core.models import AuditRecord, Supplier
from abonent.core.periods import Period
from abonent.identity.models import User
from abonent.identity.roles import OPERATOR
from abonent.metering.enums import ReadingChannel
from abonent.metering.models import Meter, Reading
from tests.factories import account_make, meter_make

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
HEADER = "supplier;account;serial;value;date\n"
GOOD = "gaz-msk;770000000001;0412345;1300,5;18.11.2026\n"
SECOND = "gaz-msk;770000000001;S2;500;18.11.2026\n"
BAD = "gaz-msk;770000000001;нет-такого;1300;18.11.2026\n"
WORSE = "gaz-msk;770000000001;S2;abc;18.11.2026\n"


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("abonent.core.clock.now", lambda: NOW)


@pytest.fixture
def meters(supplier: Supplier) -> list[Meter]:
    account = account_make(supplier=supplier)
    meter = meter_make(account=account, serial="0412345", initial_value=Decimal("3.2"))
    Reading.objects.create(
        meter=meter,
        period=Period(2026, 10),
        value=Decimal("1234.5"),
        read_on=dt.date(2026, 10, 20),
        submitted_at=dt.datetime(2026, 10, 20, 9, tzinfo=dt.UTC),
        channel=ReadingChannel.WEB,
        submission_key="seed",
    )
    return [meter, meter_make(account=account, serial="S2", initial_value=Decimal("400"))]


@pytest.fixture
def olga(db: None) -> User:
    member = User.objects.create(username="olga", is_staff=True, first_name="Ольга", last_name="Смирнова")
    member.groups.add(Group.objects.get(name=OPERATOR))
    return member


def write(tmp_path: Path, text: str | bytes, name: str = "november.csv") -> str:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return str(path)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """The command's exit code, standard output and error output."""
    try:
        call_command("readings", *args)
    except SystemExit as exc:
        code = int(exc.code or 0)
    else:
        code = 0
    out, err = capsys.readouterr()
    return code, out, err


def november() -> list[tuple[str, Decimal, str, str]]:
    readings = Reading.objects.filter(period=Period(2026, 11)).select_related("meter").order_by("pk")
    return [(r.meter.serial, r.value, r.channel, r.operator_name) for r in readings]


def test_a_clean_file_is_loaded(
    tmp_path: Path, meters: list[Meter], olga: User, capsys: pytest.CaptureFixture[str]
) -> None:
    file = write(tmp_path, HEADER + GOOD + SECOND)

    result = run(capsys, "import", file, "--mode", "whole", "--operator", "olga")

    assert result == (0, "november.csv загружен; строк: 2; новых показаний: 2, уже есть: 0, с ошибками: 0.\n", "")
    assert november() == [
        ("0412345", Decimal("1300.5"), ReadingChannel.IMPORT, "Ольга Смирнова"),
        ("S2", Decimal("500"), ReadingChannel.IMPORT, "Ольга Смирнова"),
    ]
    audit = AuditRecord.objects.get(action="readings_import")
    assert (audit.actor_id, audit.after) == (
        olga.pk,
        {"file": "november.csv", "mode": "whole", "recorded": 2, "unchanged": 0, "errors": 0},
    )
    again = run(capsys, "import", file, "--mode", "whole", "--operator", "olga")
    assert again == (0, "november.csv загружен; строк: 2; новых показаний: 0, уже есть: 2, с ошибками: 0.\n", "")
    assert len(november()) == 2


def test_a_dry_run_stores_nothing(
    tmp_path: Path, meters: list[Meter], olga: User, capsys: pytest.CaptureFixture[str]
) -> None:
    file = write(tmp_path, HEADER + GOOD + SECOND)

    result = run(capsys, "import", file, "--mode", "whole", "--dry-run", "--operator", "olga")

    assert result == (
        0,
        "Проверка november.csv (--mode whole), ничего не записано: ошибок нет; "
        "строк: 2; новых показаний: 2, уже есть: 0, с ошибками: 0.\n",
        "",
    )
    assert november() == []
    assert not AuditRecord.objects.exists()


def test_a_dry_run_with_errors_exits_with_1(
    tmp_path: Path, meters: list[Meter], olga: User, capsys: pytest.CaptureFixture[str]
) -> None:
    file = write(tmp_path, HEADER + GOOD + BAD)

    result = run(capsys, "import", file, "--mode", "whole", "--dry-run", "--operator", "olga")

    assert result == (
        1,
        "Строка 3: На счёте 770000000001 нет счётчика № нет-такого\n"
        "\n"
        "Проверка november.csv (--mode whole), ничего не записано: есть строки с ошибками; "
        "строк: 2; новых показаний: 1, уже есть: 0, с ошибками: 1.\n"
        "С --mode whole файл не загрузится, пока строки с ошибками не исправлены.\n",
        "",
    )
    assert november() == []


def test_whole_with_a_bad_line_stores_nothing(
    tmp_path: Path, meters: list[Meter], olga: User, capsys: pytest.CaptureFixture[str]
) -> None:
    file = write(tmp_path, HEADER + GOOD + BAD + SECOND + WORSE)

    result = run(capsys, "import", file, "--mode", "whole", "--operator", "olga")

    assert result == (
        1,
        "Строка 3: На счёте 770000000001 нет счётчика № нет-такого\n"
        "Строка 5: Введите показание цифрами, например 1234 или 1234,567\n"
        "\n"
        "november.csv не загружен, ничего не записано: в режиме whole файл загружается только целиком; "
        "строк: 4; новых показаний: 2, уже есть: 0, с ошибками: 2.\n",
        "",
    )
    assert november() == []
    assert not AuditRecord.objects.exists()


def test_valid_lines_store_the_good_lines(
    tmp_path: Path, meters: list[Meter], olga: User, capsys: pytest.CaptureFixture[str]
) -> None:
    file = write(tmp_path, HEADER + GOOD + BAD + SECOND)

    result = run(capsys, "import", file, "--mode", "valid-lines", "--operator", "olga")

    assert result == (
        1,
        "Строка 3: На счёте 770000000001 нет счётчика № нет-такого\n"
        "\n"
        "november.csv: загружены верные строки; строк: 3; новых показаний: 2, уже есть: 0, с ошибками: 1.\n"
        "Строки с ошибками не загружены: исправьте их и загрузите файл ещё раз — записанные не повторятся.\n",
        "",
    )
    assert november() == [
        ("0412345", Decimal("1300.5"), ReadingChannel.IMPORT, "Ольга Смирнова"),
        ("S2", Decimal("500"), ReadingChannel.IMPORT, "Ольга Смирнова"),
    ]
    assert AuditRecord.objects.get(action="readings_import").after["errors"] == 1


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x98\x98",
            "photo.csv: Файл не читается как текст CSV в кодировке UTF-8, UTF-16 или Windows-1251: сохраните его из таблицы как CSV",
        ),
        (
            b"supplier;account;serial;value\ngaz-msk;770000000001;0412345;1300\n",
            "photo.csv: В первой строке нет столбцов: date. Нужны столбцы supplier, account, serial, value, date "
            "(или поставщик, лицевой счёт, заводской номер, показание, дата)",
        ),
        (b"", "photo.csv: Файл пуст"),
        (
            (HEADER + '"' + "x" * 200_000 + "\n").encode(),
            "photo.csv: Строка 2 не читается как CSV (field larger than field limit (131072)): проверьте кавычки",
        ),
        (b" " * (10 * 2**20 + 1), "photo.csv: файл больше 10 МБ: разделите его на части"),
    ],
)
def test_a_file_that_cannot_be_read_exits_with_2(
    tmp_path: Path, meters: list[Meter], olga: User, capsys: pytest.CaptureFixture[str], content: bytes, error: str
) -> None:
    file = write(tmp_path, content, "photo.csv")

    result = run(capsys, "import", file, "--mode", "valid-lines", "--operator", "olga")

    assert result == (2, "", error + "\n")
    assert november() == []
    assert not AuditRecord.objects.exists()


def test_bad_arguments_exit_with_2(
    tmp_path: Path, meters: list[Meter], olga: User, capsys: pytest.CaptureFixture[str]
) -> None:
    file = write(tmp_path, HEADER + GOOD)
    User.objects.create(username="maria", phone="+79161234567")
    User.objects.create(username="gone", is_staff=True, is_active=False)
    User.objects.create(username="clerk", is_staff=True)
    modes = "whole — весь файл, только если все строки верны; valid-lines — верные строки, остальные в отчёт"
    cases = [
        ((), "укажите действие: import — загрузить показания из файла CSV"),
        (
            ("export", file),
            "неизвестное действие 'export': укажите действие: import — загрузить показания из файла CSV",
        ),
        (("import",), "укажите файл: abonent readings import ФАЙЛ --mode whole|valid-lines --operator ЛОГИН"),
        (("import", file, "--operator", "olga"), f"--mode: укажите whole или valid-lines ({modes})"),
        (("import", file, "--mode", "half", "--operator", "olga"), f"--mode: укажите whole или valid-lines ({modes})"),
        (
            ("import", file, "--mode", "whole"),
            "--operator: укажите логин сотрудника, от имени которого записываются показания",
        ),
        (("import", file, "--mode", "whole", "--operator", "nobody"), "--operator: сотрудника с логином «nobody» нет"),
        (
            ("import", file, "--mode", "whole", "--operator", "maria"),
            "--operator: «maria» — не действующий сотрудник бэк-офиса",
        ),
        (
            ("import", file, "--mode", "whole", "--operator", "gone"),
            "--operator: «gone» — не действующий сотрудник бэк-офиса",
        ),
        (
            ("import", file, "--mode", "whole", "--operator", "clerk"),
            "--operator: у «clerk» нет права вводить показания",
        ),
        (
            ("import", str(tmp_path / "missing.csv"), "--mode", "whole", "--operator", "olga"),
            f"{tmp_path / 'missing.csv'}: файла нет",
        ),
        (("import", str(tmp_path), "--mode", "whole", "--operator", "olga"), f"{tmp_path}: это папка, а не файл"),
    ]
    for args, error in cases:
        assert run(capsys, *args) == (2, "", error + "\n"), args
    assert november() == []
    assert not AuditRecord.objects.exists()
