from __future__ import annotations

from pathlib import Path
from typing import Any, NoReturn

from django.core.management.base import BaseCommand, CommandParser

from abonent.cli.progress import LineProgress
from abonent.core import clock
from abonent.identity.models import User
from abonent.metering.services import (
    IMPORT_MAX_BYTES,
    ImportFileInvalid,
    ImportMode,
    ImportReport,
    LineOutcome,
    readings_import,
)

ACTIONS = "укажите действие: import — загрузить показания из файла CSV"
MODES = {"whole": ImportMode.WHOLE, "valid-lines": ImportMode.VALID_LINES}
MODE_HELP = "whole — весь файл, только если все строки верны; valid-lines — верные строки, остальные в отчёт"
#: Recording readings in someone's name needs the permission the back office's import needs.
IMPORT_PERMISSION = "metering.add_reading"
#: A file this long takes seconds: below it a progress bar would only flicker.
PROGRESS_FROM_LINES = 500


class Command(BaseCommand):
    help = (
        "Показания счётчиков: import ФАЙЛ --mode whole|valid-lines --operator ЛОГИН [--dry-run] — загрузить "
        "показания из файла CSV (столбцы supplier;account;serial;value;date). Файл загружается целиком или "
        "только верными строками, как выбрано, и никогда наполовину. Код выхода: 0 — загружено (или проверка "
        "без ошибок), 1 — в строках есть ошибки, 2 — файл не читается или неверны аргументы."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", nargs="?", default=None, help="import")
        parser.add_argument("file", nargs="?", default=None, help="файл CSV: UTF-8 или Windows-1251, не больше 10 МБ")
        parser.add_argument("--mode", default=None, help=MODE_HELP)
        parser.add_argument(
            "--dry-run", action="store_true", help="только проверить: ничего не записывать, показать, что будет"
        )
        parser.add_argument(
            "--operator", default=None, help="логин сотрудника, от имени которого записываются показания"
        )
        parser.add_argument("--no-progress", action="store_true", help="не показывать индикатор выполнения")

    def handle(
        self,
        *args: Any,
        action: str | None,
        file: str | None,
        mode: str | None,
        dry_run: bool,
        operator: str | None,
        **options: Any,
    ) -> None:
        if action != "import":
            self._fail(ACTIONS if action is None else f"неизвестное действие {action!r}: {ACTIONS}")
        if file is None:
            self._fail("укажите файл: abonent readings import ФАЙЛ --mode whole|valid-lines --operator ЛОГИН")
        if mode not in MODES:
            self._fail(f"--mode: укажите whole или valid-lines ({MODE_HELP})")
        if not operator:
            self._fail("--operator: укажите логин сотрудника, от имени которого записываются показания")
        member = self._operator(operator)
        path = Path(file)
        content = self._read(path)
        advance = LineProgress(
            self.stderr,
            show=not options.get("no_progress") and options.get("verbosity", 1) > 0,
            from_lines=PROGRESS_FROM_LINES,
        )
        try:
            report = readings_import(
                operator=member,
                content=content,
                mode=MODES[mode],
                dry_run=dry_run,
                now=clock.now(),
                file_name=path.name,
                progress=advance,
            )
        except ImportFileInvalid as exc:
            self._fail(f"{path.name}: {exc.text}")
        finally:
            advance.close()
        self._print(report, name=path.name, mode=mode)
        if report.errors:
            raise SystemExit(1)

    def _fail(self, message: str) -> NoReturn:
        self.stderr.write(message)
        raise SystemExit(2)

    def _operator(self, username: str) -> User:
        member = User.objects.filter(username=username).first()
        if member is None:
            self._fail(f"--operator: сотрудника с логином «{username}» нет")
        if not (member.is_active and member.is_staff):
            self._fail(f"--operator: «{username}» — не действующий сотрудник бэк-офиса")
        if not member.has_perm(IMPORT_PERMISSION):
            self._fail(f"--operator: у «{username}» нет права вводить показания")
        return member

    def _read(self, path: Path) -> bytes:
        try:
            size = path.stat().st_size
            if size > IMPORT_MAX_BYTES:  # before reading it all
                self._fail(f"{path.name}: файл больше {IMPORT_MAX_BYTES // 2**20} МБ: разделите его на части")
            return path.read_bytes()
        except IsADirectoryError:
            self._fail(f"{path}: это папка, а не файл")
        except FileNotFoundError:
            self._fail(f"{path}: файла нет")
        except OSError as exc:
            self._fail(f"{path}: файл не читается: {exc.strerror or exc}")

    def _print(self, report: ImportReport, *, name: str, mode: str) -> None:
        out = self.stdout
        for line in report.errors:
            out.write(f"Строка {line.number}: {line.message}")
        recorded, unchanged, errors = (
            report.count(LineOutcome.RECORDED),
            report.count(LineOutcome.UNCHANGED),
            len(report.errors),
        )
        counts = (
            f"строк: {len(report.lines)}; новых показаний: {recorded}, уже есть: {unchanged}, с ошибками: {errors}."
        )
        if report.errors:
            out.write("")
        if not report.lines:
            out.write(f"{name}: в файле нет строк с показаниями, ничего не записано.")
        elif report.dry_run:
            verdict = "ошибок нет" if not errors else "есть строки с ошибками"
            out.write(f"Проверка {name} (--mode {mode}), ничего не записано: {verdict}; {counts}")
            if errors and mode == "whole":
                out.write("С --mode whole файл не загрузится, пока строки с ошибками не исправлены.")
        elif not report.applied:
            out.write(
                f"{name} не загружен, ничего не записано: в режиме whole файл загружается только целиком; {counts}"
            )
        elif errors:
            out.write(self.style.WARNING(f"{name}: загружены верные строки; {counts}"))
            out.write(
                "Строки с ошибками не загружены: исправьте их и загрузите файл ещё раз — записанные не повторятся."
            )
        else:
            out.write(self.style.SUCCESS(f"{name} загружен; {counts}"))
