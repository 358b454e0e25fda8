from __future__ import annotations

from pathlib import Path
from typing import Any, NoReturn

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from abonent.cli.progress import LineProgress
from abonent.core import clock
from abonent.core.errors import NotFound
from abonent.core.money import format_rubles
from abonent.core.selectors import supplier_by_code
from abonent.payments.registries import (
    RegistryAlreadyLoaded,
    RegistryFileInvalid,
    RegistryMode,
    RegistryReport,
    registry_import,
)
from abonent.payments.services import payments_reconcile

ACTIONS = (
    "укажите действие: reconcile — спросить у платёжного сервиса о платежах, которые долго ждут ответа; "
    "import-registry ФАЙЛ — загрузить реестр платежей банка или платёжного агента"
)
MODES = {"valid-lines": RegistryMode.VALID_LINES, "whole": RegistryMode.WHOLE}
#: A file this long takes a second or more: below it a progress bar would only flicker.
PROGRESS_FROM_LINES = 20_000
PROBLEMS_SHOWN = 50


class Command(BaseCommand):
    help = (
        "Платежи. reconcile — спросить у платёжного сервиса о платежах, оставшихся без ответа дольше "
        "PAYMENT_RECONCILE_AFTER минут, и провести оплаченные (то же делает Celery beat каждые 5 минут). "
        "import-registry ФАЙЛ --supplier КОД --source БАНК [--profile default] [--mode valid-lines|whole] "
        "[--dry-run] — загрузить реестр платежей: верные строки проводятся на лицевые счета, повторы уже "
        "проведённых платежей пропускаются, строки с ошибками выводятся; файл, итог которого не сходится, "
        "не загружается. Код выхода: 0 — загружено (или проверка без ошибок), 1 — в строках есть ошибки, "
        "2 — файл не загружен или неверны аргументы."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", nargs="?", default=None, help="reconcile | import-registry")
        parser.add_argument("file", nargs="?", default=None, help="файл реестра (для import-registry)")
        parser.add_argument("--supplier", default=None, help="код поставщика, на чьи лицевые счета платежи")
        parser.add_argument("--source", default=None, help="код банка или агента, например sber")
        parser.add_argument("--profile", default="default", help="формат файла (default или из настроек)")
        parser.add_argument(
            "--mode",
            default="valid-lines",
            help="valid-lines — провести верные строки, остальные вывести (по умолчанию); whole — весь файл, "
            "только если в нём нет ошибок",
        )
        parser.add_argument("--dry-run", action="store_true", help="только проверить: ничего не проводить")
        parser.add_argument("--no-progress", action="store_true", help="не показывать индикатор выполнения")

    def handle(self, *args: Any, action: str | None, file: str | None, **options: Any) -> None:
        if action == "reconcile":
            self._reconcile()
        elif action == "import-registry":
            self._import(file, options)
        else:
            self._fail(ACTIONS if action is None else f"неизвестное действие {action!r}: {ACTIONS}")

    def _reconcile(self) -> None:
        result = payments_reconcile(now=clock.now())
        if not result.asked:
            self.stdout.write("Спрашивать не о чем: все платежи получили ответ платёжного сервиса.")
            return
        self.stdout.write(
            f"Спрошено о платежах: {result.asked}; оплачено: {result.succeeded}, отменено: {result.canceled}, "
            f"ещё ждут оплаты: {result.still_pending}, сервис не ответил: {result.failed}."
        )

    def _import(self, file: str | None, options: dict[str, Any]) -> None:
        usage = "abonent payments import-registry ФАЙЛ --supplier КОД --source БАНК"
        if file is None:
            self._fail(f"укажите файл: {usage}")
        if not options["supplier"]:
            self._fail(f"--supplier: укажите код поставщика: {usage}")
        if not options["source"]:
            self._fail(f"--source: укажите код банка или агента, приславшего реестр: {usage}")
        if options["mode"] not in MODES:
            self._fail("--mode: укажите valid-lines или whole")
        try:
            supplier = supplier_by_code(code=options["supplier"])
        except NotFound as exc:
            self._fail(f"--supplier: {exc.text}")
        path = Path(file)
        content = self._read(path)
        advance = LineProgress(
            self.stderr, show=not options["no_progress"] and options["verbosity"] > 0, from_lines=PROGRESS_FROM_LINES
        )
        try:
            report = registry_import(
                supplier=supplier,
                source=options["source"],
                content=content,
                file_name=path.name,
                now=clock.now(),
                profile=options["profile"],
                mode=MODES[options["mode"]],
                dry_run=options["dry_run"],
                progress=advance,
            )
        except (RegistryFileInvalid, RegistryAlreadyLoaded) as exc:
            self._fail(f"{path.name}: {exc.text}")
        finally:
            advance.close()
        self._print(report)
        if report.failed:
            raise SystemExit(1)

    def _read(self, path: Path) -> bytes:
        limit = settings.PAYMENT_REGISTRY_MAX_MB
        try:
            if path.stat().st_size > limit * 2**20:  # before reading it all
                self._fail(f"{path.name}: файл больше {limit} МБ: разделите его на части")
            return path.read_bytes()
        except IsADirectoryError:
            self._fail(f"{path}: это папка, а не файл")
        except FileNotFoundError:
            self._fail(f"{path}: файла нет")
        except OSError as exc:
            self._fail(f"{path}: файл не читается: {exc.strerror or exc}")

    def _print(self, report: RegistryReport) -> None:
        out = self.stdout
        for problem in report.problems[:PROBLEMS_SHOWN]:
            out.write(f"Строка {problem.line}: {problem.message}")
        hidden = report.duplicates + report.failed - min(len(report.problems), PROBLEMS_SHOWN)
        if hidden:
            where = "в бэк-офисе, в разделе «Реестры платежей»" if report.applied else "после загрузки в бэк-офисе"
            out.write(f"… и ещё строк: {hidden} (все строки — {where})")
        if report.problems:
            out.write("")
        counts = (
            f"строк: {report.lines}; проведено: {report.posted} на {format_rubles(report.amount_posted)}, "
            f"повторов: {report.duplicates}, с ошибками: {report.failed}"
        )
        if report.summary_count is not None and report.summary_amount is not None:
            counts += f"; итог файла сошёлся: {report.summary_count} на {format_rubles(report.summary_amount)}"
        name = report.file_name
        if report.dry_run:
            verdict = "ошибок нет" if not report.failed else "есть строки с ошибками"
            out.write(f"Проверка {name}, ничего не проведено: {verdict}; {counts}.")
            if report.held_back:
                out.write("С --mode whole файл не загрузится, пока строки с ошибками не исправлены.")
        elif not report.applied:
            out.write(
                f"{name} не загружен, ничего не проведено: с --mode whole файл загружается только целиком; {counts}."
            )
        elif report.failed:
            out.write(self.style.WARNING(f"{name}: проведены верные строки; {counts}."))
            out.write(
                "Строки с ошибками не проведены: пусть банк пришлёт их исправленными — проведённые не повторятся."
            )
        else:
            out.write(self.style.SUCCESS(f"{name} загружен; {counts}."))

    def _fail(self, message: str) -> NoReturn:
        self.stderr.write(message)
        raise SystemExit(2)
