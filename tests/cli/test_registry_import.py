"""``abonent payments import-registry FILE --supplier CODE --source BANK [--profile]
[--mode valid-lines|whole] [--dry-run] [--no-progress]``: a bank's registry of payments loaded
with a report per line and a summary; exit codes 0 (loaded, or a clean check), 1 (lines with
errors), 2 (a file refused or bad arguments, with the reason on the error output)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from abonent.core.models import AuditRecord, Supplier
from abonent.customers.models import PersonalAccount
from abonent.ledger.models import LedgerEntry
from abonent.ledger.selectors import balances_get
from abonent.payments.models import RegistryFile, RegistryLine
from tests.factories import account_make

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
GOOD = "05.11.2026;14:23:05;500000000017;1250,50;10.2026;Иванова Мария Петровна;8800123456\n"
SECOND = "06.11.2026;09:00:00;500000000017;99,90;;Иванова Мария Петровна;8800123457\n"
UNKNOWN = "06.11.2026;09:00:00;500000000099;10,00;;Петров;8800123458\n"
FUTURE = "21.11.2026;09:00:00;500000000017;5,00;;Петров;8800123459\n"
USAGE = "abonent payments import-registry ФАЙЛ --supplier КОД --source БАНК"


def rub(text: str) -> str:
    return text.replace(" ", "\u202f") + "\u00a0₽"


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("abonent.core.clock.now", lambda: NOW)


@pytest.fixture
def account(supplier: Supplier) -> PersonalAccount:
    return account_make(supplier=supplier, number="500000000017")


def write(tmp_path: Path, text: str | bytes, name: str = "sber-20261120.txt") -> str:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return str(path)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """The command's exit code, standard output and error output."""
    try:
        call_command("payments", *args)
    except SystemExit as exc:
        code = int(exc.code or 0)
    else:
        code = 0
    out, err = capsys.readouterr()
    return code, out, err


def load(capsys: pytest.CaptureFixture[str], file: str, *extra: str) -> tuple[int, str, str]:
    return run(capsys, "import-registry", file, "--supplier", "gaz-msk", "--source", "sber", "--no-progress", *extra)


def nothing_written() -> None:
    assert not RegistryFile.objects.exists()
    assert not RegistryLine.objects.exists()
    assert not LedgerEntry.objects.exists()
    assert not AuditRecord.objects.filter(action="registry_import").exists()


def test_a_clean_file_is_loaded(tmp_path: Path, account: PersonalAccount, capsys: pytest.CaptureFixture[str]) -> None:
    file = write(tmp_path, GOOD + SECOND + "=2;1350,40\n")

    result = load(capsys, file)

    assert result == (
        0,
        f"sber-20261120.txt загружен; строк: 2; проведено: 2 на {rub('1 350,40')}, повторов: 0, с ошибками: 0; "
        f"итог файла сошёлся: 2 на {rub('1 350,40')}.\n",
        "",
    )
    assert balances_get(account=account)["gas"] == Decimal("-1350.40")
    assert sorted(LedgerEntry.objects.values_list("source_key", flat=True)) == [
        "registry:sber:8800123456",
        "registry:sber:8800123457",
    ]
    registry = RegistryFile.objects.get()
    assert (registry.name, registry.source, registry.loaded_at, registry.lines_posted) == (
        "sber-20261120.txt",
        "sber",
        NOW,
        2,
    )
    assert AuditRecord.objects.get(action="registry_import").channel == "cli"


def test_the_same_file_again_is_refused(
    tmp_path: Path, account: PersonalAccount, capsys: pytest.CaptureFixture[str]
) -> None:
    file = write(tmp_path, GOOD + SECOND + "=2;1350,40\n")
    assert load(capsys, file)[0] == 0

    result = load(capsys, file)

    assert result == (
        2,
        "",
        "sber-20261120.txt: Этот файл уже загружен 20.11.2026 12:00: проведено строк 2\n",
    )
    assert LedgerEntry.objects.count() == 2


def test_repeats_of_a_file_loaded_before_are_not_errors(
    tmp_path: Path, account: PersonalAccount, capsys: pytest.CaptureFixture[str]
) -> None:
    assert load(capsys, write(tmp_path, GOOD + "=1;1250,50\n", "first.txt"))[0] == 0

    result = load(capsys, write(tmp_path, GOOD + SECOND + "=2;1350,40\n", "second.txt"))

    assert result == (
        0,
        "Строка 1: повтор: платёж 8800123456 уже проведён (файл first.txt, строка 1)\n"
        "\n"
        f"second.txt загружен; строк: 2; проведено: 1 на {rub('99,90')}, повторов: 1, с ошибками: 0; "
        f"итог файла сошёлся: 2 на {rub('1 350,40')}.\n",
        "",
    )
    assert LedgerEntry.objects.count() == 2


def test_lines_with_errors_exit_with_1_and_are_listed(
    tmp_path: Path, account: PersonalAccount, capsys: pytest.CaptureFixture[str]
) -> None:
    file = write(tmp_path, GOOD + UNKNOWN + SECOND + FUTURE + "=4;1365,40\n")

    result = load(capsys, file)

    assert result == (
        1,
        "Строка 2: лицевого счёта 500000000099 нет у поставщика gaz-msk\n"
        "Строка 4: дата 21.11.2026 ещё не наступила\n"
        "\n"
        f"sber-20261120.txt: проведены верные строки; строк: 4; проведено: 2 на {rub('1 350,40')}, повторов: 0, "
        f"с ошибками: 2; итог файла сошёлся: 4 на {rub('1 365,40')}.\n"
        "Строки с ошибками не проведены: пусть банк пришлёт их исправленными — проведённые не повторятся.\n",
        "",
    )
    assert sorted(LedgerEntry.objects.values_list("source_key", flat=True)) == [
        "registry:sber:8800123456",
        "registry:sber:8800123457",
    ]
    assert list(RegistryLine.objects.order_by("line_no").values_list("line_no", "status")) == [
        (1, "posted"),
        (2, "failed"),
        (3, "posted"),
        (4, "failed"),
    ]


def test_only_the_first_50_problems_are_printed(
    tmp_path: Path, account: PersonalAccount, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = [f"06.11.2026;;5100000000{n:02};1,00;;;R{n}\n" for n in range(60)]
    file = write(tmp_path, GOOD + "".join(lines) + "=61;1310,50\n")

    code, out, err = load(capsys, file)

    printed = out.splitlines()
    assert (code, err, len(printed)) == (1, "", 54)
    assert printed[0] == "Строка 2: лицевого счёта 510000000000 нет у поставщика gaz-msk"
    assert printed[49] == "Строка 51: лицевого счёта 510000000049 нет у поставщика gaz-msk"
    assert printed[50] == "… и ещё строк: 10 (все строки — в бэк-офисе, в разделе «Реестры платежей»)"
    assert printed[52].startswith("sber-20261120.txt: проведены верные строки; строк: 61; проведено: 1 на ")


def test_a_dry_run_writes_nothing(tmp_path: Path, account: PersonalAccount, capsys: pytest.CaptureFixture[str]) -> None:
    clean = write(tmp_path, GOOD + SECOND + "=2;1350,40\n", "clean.txt")
    broken = write(tmp_path, GOOD + UNKNOWN + "=2;1260,50\n", "broken.txt")

    assert load(capsys, clean, "--dry-run") == (
        0,
        f"Проверка clean.txt, ничего не проведено: ошибок нет; строк: 2; проведено: 2 на {rub('1 350,40')}, "
        f"повторов: 0, с ошибками: 0; итог файла сошёлся: 2 на {rub('1 350,40')}.\n",
        "",
    )
    assert load(capsys, broken, "--dry-run", "--mode", "whole") == (
        1,
        "Строка 2: лицевого счёта 500000000099 нет у поставщика gaz-msk\n"
        "\n"
        f"Проверка broken.txt, ничего не проведено: есть строки с ошибками; строк: 2; проведено: 1 на "
        f"{rub('1 250,50')}, повторов: 0, с ошибками: 1; итог файла сошёлся: 2 на {rub('1 260,50')}.\n"
        "С --mode whole файл не загрузится, пока строки с ошибками не исправлены.\n",
        "",
    )
    nothing_written()
    assert load(capsys, clean)[0] == 0  # a check is not a load: the file is loaded after it


def test_whole_with_a_bad_line_loads_nothing(
    tmp_path: Path, account: PersonalAccount, capsys: pytest.CaptureFixture[str]
) -> None:
    file = write(tmp_path, GOOD + UNKNOWN + "=2;1260,50\n")

    result = load(capsys, file, "--mode", "whole")

    assert result == (
        1,
        "Строка 2: лицевого счёта 500000000099 нет у поставщика gaz-msk\n"
        "\n"
        "sber-20261120.txt не загружен, ничего не проведено: с --mode whole файл загружается только целиком; "
        f"строк: 2; проведено: 1 на {rub('1 250,50')}, повторов: 0, с ошибками: 1; итог файла сошёлся: 2 на "
        f"{rub('1 260,50')}.\n",
        "",
    )
    nothing_written()


def test_whole_without_errors_is_loaded(
    tmp_path: Path, account: PersonalAccount, capsys: pytest.CaptureFixture[str]
) -> None:
    file = write(tmp_path, GOOD + "=1;1250,50\n")

    code, out, err = load(capsys, file, "--mode", "whole")

    assert (code, out.startswith("sber-20261120.txt загружен; строк: 1; проведено: 1 на "), err) == (0, True, "")
    assert AuditRecord.objects.get(action="registry_import").after == {
        "source": "sber",
        "file": "sber-20261120.txt",
        "mode": "whole",
        "posted": 1,
        "amount": "1250.50",
        "duplicates": 0,
        "failed": 0,
    }


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (
            GOOD + SECOND,
            "В конце файла нет итоговой строки «=количество;сумма»: файл мог быть обрезан. Попросите банк прислать "
            "его снова",
        ),
        (
            GOOD + SECOND + "=3;1350,40\n",
            f"Итоговая строка не сходится с файлом: в ней 3 платежей на {rub('1 350,40')}, в файле — 2 на "
            f"{rub('1 350,40')}. Файл не загружен: попросите банк прислать его снова",
        ),
        (b"PK\x03\x04\x14\x00\x06\x00", "Файл не читается как текст в кодировке UTF-8 или Windows-1251"),
        ("", "В файле нет строк с платежами"),
    ],
)
def test_a_refused_file_exits_with_2_and_says_why(
    tmp_path: Path, account: PersonalAccount, capsys: pytest.CaptureFixture[str], content: str | bytes, reason: str
) -> None:
    file = write(tmp_path, content)

    assert load(capsys, file) == (2, "", f"sber-20261120.txt: {reason}\n")
    nothing_written()


def test_a_file_over_the_limit_is_refused_before_it_is_read(
    tmp_path: Path, account: PersonalAccount, capsys: pytest.CaptureFixture[str], settings: Any
) -> None:
    settings.PAYMENT_REGISTRY_MAX_MB = 1
    file = write(tmp_path, GOOD + "=1;1250,50\n" + "\n" * 2**20)

    assert load(capsys, file) == (2, "", "sber-20261120.txt: файл больше 1 МБ: разделите его на части\n")
    nothing_written()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["import-registry"], f"укажите файл: {USAGE}"),
        (["import-registry", "{file}", "--source", "sber"], f"--supplier: укажите код поставщика: {USAGE}"),
        (
            ["import-registry", "{file}", "--supplier", "gaz-msk"],
            f"--source: укажите код банка или агента, приславшего реестр: {USAGE}",
        ),
        (
            ["import-registry", "{file}", "--supplier", "gaz-msk", "--source", "sber", "--mode", "all"],
            "--mode: укажите valid-lines или whole",
        ),
        (
            ["import-registry", "{file}", "--supplier", "nope", "--source", "sber"],
            "--supplier: Поставщик «nope» не найден",
        ),
        (
            ["import-registry", "{file}", "--supplier", "gaz-msk", "--source", "Сбербанк"],
            "sber-20261120.txt: Код банка или агента — латинские буквы, цифры, «-», «_» или «.», до 64 знаков, "
            "например sber",
        ),
        (
            ["import-registry", "{file}", "--supplier", "gaz-msk", "--source", "sber", "--profile", "vtb"],
            "sber-20261120.txt: Формата «vtb» нет; есть: default",
        ),
        (["import-registry", "{missing}", "--supplier", "gaz-msk", "--source", "sber"], "{missing}: файла нет"),
        (["import-registry", "{dir}", "--supplier", "gaz-msk", "--source", "sber"], "{dir}: это папка, а не файл"),
    ],
)
def test_bad_arguments_exit_with_2_and_say_what_to_fix(
    tmp_path: Path, account: PersonalAccount, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    paths = {
        "file": write(tmp_path, GOOD + "=1;1250,50\n"),
        "missing": str(tmp_path / "нет-такого.txt"),
        "dir": str(tmp_path),
    }

    result = run(capsys, *(arg.format(**paths) for arg in args))

    assert result == (2, "", message.format(**paths) + "\n")
    nothing_written()


def test_a_profile_of_the_settings_is_chosen_by_name(
    tmp_path: Path, account: PersonalAccount, capsys: pytest.CaptureFixture[str], settings: Any
) -> None:
    settings.PAYMENT_REGISTRY_PROFILES = (
        '{"agent": {"columns": ["reference", "date", "account", "amount"], "delimiter": ",", "header_lines": 1, '
        '"summary": false, "channel": "agent"}}'
    )
    file = write(tmp_path, 'номер,дата,счёт,сумма\nA-1,05.11.2026,500000000017,"12,00"\n', "agent.csv")

    code, out, err = run(
        capsys, "import-registry", file, "--supplier", "gaz-msk", "--source", "agent-1", "--profile", "agent",
        "--no-progress",
    )  # fmt: skip

    assert (code, out, err) == (
        0,
        f"agent.csv загружен; строк: 1; проведено: 1 на {rub('12,00')}, повторов: 0, с ошибками: 0.\n",
        "",
    )
    assert (RegistryFile.objects.get().channel, LedgerEntry.objects.get().source_key) == (
        "agent",
        "registry:agent-1:A-1",
    )


def test_a_long_file_shows_progress_unless_told_not_to(
    tmp_path: Path, account: PersonalAccount, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("abonent.cli.management.commands.payments.PROGRESS_FROM_LINES", 2)
    monkeypatch.setattr("abonent.payments.registries.CHUNK", 1)
    quiet = write(tmp_path, GOOD + SECOND + "=2;1350,40\n", "quiet.txt")
    shown = write(tmp_path, GOOD.replace("8800123456", "R3") + SECOND.replace("8800123457", "R4") + "=2;1350,40\n")

    code, out, err = load(capsys, quiet)
    assert (code, err) == (0, "")

    code, out, err = run(capsys, "import-registry", shown, "--supplier", "gaz-msk", "--source", "sber")

    assert code == 0
    assert "Строки: " in err
    assert out.startswith("sber-20261120.txt загружен; строк: 2;")
