from __future__ import annotations

import zoneinfo
from pathlib import Path
from typing import Any, NoReturn

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from abonent.cli.management.commands.seed import _Stream, _whole, duration, number
from abonent.core import clock
from abonent.core.errors import DomainError
from abonent.core.models import Supplier
from abonent.core.money import format_rubles
from abonent.core.periods import Period, PeriodFormatError
from abonent.core.selectors import SupplierNotFound, supplier_by_code, suppliers_active
from abonent.customers.models import PersonalAccount
from abonent.customers.services import account_number_normalize
from abonent.documents.models import BillRun
from abonent.documents.services import CHUNK_SIZE, BillRunInProgress, ChunkStats, bill_get, bills_generate

ACTIONS = (
    "укажите действие: generate — сформировать квитанции поставщика за период, "
    "show — записать в файл квитанцию одного лицевого счёта"
)
MAX_CHUNK_SIZE = 100_000
#: Exit codes: 1 — the service refused or the run failed; 2 — a bad argument, nothing done.
BAD_INPUT = 2


def file_size(size: int) -> str:
    """«48 КБ» below a megabyte, «1 234,5 МБ» from one."""
    if size < 1024 * 1024:
        return f"{number(round(size / 1024))}\u00a0КБ"
    return f"{size / 1024 / 1024:,.1f}".replace(",", "\u00a0").replace(".", ",") + "\u00a0МБ"


def per_second(count: int, seconds: float) -> str:
    if count <= 0 or seconds <= 0:
        return "—"
    return f"{count / seconds:,.1f}".replace(",", "\u00a0").replace(".", ",")


class Command(BaseCommand):
    help = (
        "Квитанции (ЕПД). generate --supplier КОД --period ГГГГ-ММ [--chunk-size N] — сформировать квитанции "
        "за период всем лицевым счетам поставщика, у которых в периоде есть начисления или движения; уже "
        "актуальные не формируются заново, так что прерванный запуск просто повторяют. "
        "show --account НОМЕР --period ГГГГ-ММ --out ФАЙЛ.pdf [--supplier КОД] — записать квитанцию одного "
        "лицевого счёта в файл (сформировать, если её нет или она устарела). "
        "Код выхода: 0 — готово, 1 — отказ или ошибка при формировании, 2 — неверные аргументы."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", nargs="?", default=None, help="generate или show")
        parser.add_argument("--supplier", default=None, help="код поставщика, например gaz-msk")
        parser.add_argument("--period", default=None, help="период квитанции: ГГГГ-ММ (2026-10) или ММ.ГГГГ")
        parser.add_argument(
            "--chunk-size",
            default=str(CHUNK_SIZE),
            help=f"сколько лицевых счетов в одной части (generate), по умолчанию {CHUNK_SIZE}",
        )
        parser.add_argument("--account", default=None, help="номер лицевого счёта, 12 цифр (show)")
        parser.add_argument("--out", default=None, help="куда записать квитанцию в PDF (show)")
        parser.add_argument("--no-progress", action="store_true", help="не показывать индикатор выполнения")

    def handle(self, *args: Any, action: str | None, **options: Any) -> None:
        if action not in {"generate", "show"}:
            self._bad(ACTIONS if action is None else f"неизвестное действие «{action}»: {ACTIONS}")
        if action == "show":
            self._show(options)
            return
        supplier = self._supplier(options["supplier"])
        period = self._period(options["period"])
        try:
            chunk_size = _whole(options["chunk_size"], option="--chunk-size", low=1, high=MAX_CHUNK_SIZE)
        except CommandError as exc:
            self._bad(str(exc))
        show = not options["no_progress"] and options["verbosity"] > 0
        run = self._generate(supplier, period, chunk_size, show=show)
        self._print(run)

    # --- Arguments ----------------------------------------------------------------------

    def _bad(self, message: str) -> NoReturn:
        raise CommandError(message, returncode=BAD_INPUT)

    def _known(self) -> str:
        return ", ".join(suppliers_active().order_by("code").values_list("code", flat=True)) or "пока ни одного"

    def _supplier(self, code: str | None) -> Supplier:
        if not code or not code.strip():
            self._bad(f"--supplier: укажите код поставщика (есть: {self._known()})")
        try:
            return supplier_by_code(code=code.strip())
        except SupplierNotFound:
            self._bad(f"--supplier: поставщика с кодом «{code.strip()}» нет (есть: {self._known()})")

    def _period(self, text: str | None) -> Period:
        if not text or not text.strip():
            self._bad("--period: укажите период, например --period 2026-10")
        try:
            return Period.parse(text)
        except PeriodFormatError:
            self._bad(f"--period: «{text.strip()}» — не период; пишите год и месяц: 2026-10 (или 10.2026)")

    # --- generate -----------------------------------------------------------------------

    def _bar(self, total: int) -> tqdm[Any]:
        return tqdm(
            total=total,
            desc="Части",
            bar_format="{desc}: {percentage:3.0f}% |{bar}| {n_fmt} из {total_fmt} [прошло {elapsed}, ещё {remaining}]",
            file=_Stream(self.stderr),
            mininterval=0.5,
            leave=False,
        )

    def _generate(self, supplier: Supplier, period: Period, chunk_size: int, *, show: bool) -> BillRun:
        bar: tqdm[Any] | None = None
        last = BillRun.objects.filter(supplier=supplier, period=period).order_by("-pk").values_list("pk", flat=True)
        before = last.first() or 0

        def start(total: int) -> None:
            nonlocal bar
            if show and total:
                bar = self._bar(total)

        def advance(stats: ChunkStats | None) -> None:
            if bar is not None:
                bar.update(1)

        try:
            return bills_generate(
                supplier=supplier,
                period=period,
                now=lambda: clock.now(),
                channel="cli",
                chunk_size=chunk_size,
                on_start=start,
                on_chunk=advance,
            )
        except DomainError as exc:
            hint = ""
            if isinstance(exc, BillRunInProgress):
                hint = ". Ход формирования виден в бэк-офисе, раздел «Формирование квитанций»"
            raise CommandError(f"{exc.text}{hint}") from None
        except Exception as exc:
            failed = BillRun.objects.filter(supplier=supplier, period=period, pk__gt=before).order_by("-pk").first()
            which = f"Формирование квитанций №{failed.pk}" if failed is not None else "Формирование квитанций"
            raise CommandError(
                f"{which} прервано ошибкой: {type(exc).__name__}: {exc}. Устраните её и запустите снова: "
                f"готовые квитанции заново не формируются"
            ) from exc
        finally:
            if bar is not None:
                bar.close()

    def _print(self, run: BillRun) -> None:
        out = self.stdout
        supplier = run.supplier
        took = (run.finished_at - run.started_at).total_seconds() if run.finished_at else 0.0
        s = run.summary
        accounts, drawn, current = int(s.get("accounts", 0)), int(s.get("drawn", 0)), int(s.get("current", 0))
        out.write(
            self.style.SUCCESS(
                f"Квитанции за {run.period.label()} ({supplier.short_name}), запуск №{run.pk}: готово за "
                f"{duration(took)}."
            )
        )
        lines = [
            ("Лицевых счетов с квитанцией", number(accounts)),
            ("Сформировано", number(drawn)),
            ("Уже были актуальны", number(current)),
            ("Объём файлов", file_size(int(s.get("bytes", 0)))),
            ("Квитанций в секунду", per_second(drawn, took)),
        ]
        width = max(len(label) for label, _value in lines) + 1
        for label, value in lines:
            out.write(f"  {label + ':':<{width}} {value}")
        if not accounts:
            out.write(
                f"За {run.period.label()} у лицевых счетов поставщика нет ни начислений, ни движений: "
                f"квитанций за этот период нет."
            )

    # --- show ---------------------------------------------------------------------------

    def _show(self, options: dict[str, Any]) -> None:
        account = self._account(options["account"], options["supplier"])
        period = self._period(options["period"])
        out = self._out(options["out"])
        now = clock.now()
        try:
            bill_file = bill_get(account=account, period=period, now=now)
        except DomainError as exc:
            raise CommandError(exc.text) from None
        try:
            out.write_bytes(bill_file.pdf)
        except OSError as exc:
            self._bad(f"--out: {out} не записывается: {exc.strerror or exc}")
        bill = bill_file.bill
        zone = zoneinfo.ZoneInfo(account.supplier.time_zone)
        made = (
            "сформирована сейчас"
            if bill.rendered_at == now
            else f"сформирована {bill.rendered_at.astimezone(zone):%d.%m.%Y %H:%M}, с тех пор не изменилась"
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Квитанция за {period.label()} по лицевому счёту {account.number} ({account.supplier.short_name}) "
                f"записана в {out} ({file_size(len(bill_file.pdf))}; {made})."
            )
        )
        self.stdout.write(f"  К оплате: {format_rubles(bill.amount_due)} до {bill.due_on:%d.%m.%Y}")

    def _account(self, text: str | None, supplier_code: str | None) -> PersonalAccount:
        if not text or not text.strip():
            self._bad("--account: укажите номер лицевого счёта — 12 цифр, как в квитанции")
        try:
            normalized = account_number_normalize(text.strip())
        except DomainError:
            self._bad(f"--account: «{text.strip()}» — не номер лицевого счёта; нужно 12 цифр, как в квитанции")
        found = PersonalAccount.objects.filter(number=normalized).select_related("supplier")
        if supplier_code is not None:
            supplier = self._supplier(supplier_code)
            found = found.filter(supplier=supplier)
        accounts = list(found.order_by("supplier__code")[:10])
        if not accounts:
            at = f" у поставщика «{supplier_code.strip()}»" if supplier_code is not None else ""
            self._bad(f"--account: лицевого счёта {normalized}{at} нет")
        if len(accounts) > 1:
            codes = ", ".join(a.supplier.code for a in accounts)
            self._bad(
                f"--account: лицевой счёт {normalized} есть у {len(accounts)} поставщиков ({codes}): "
                f"укажите, чей, в --supplier"
            )
        return accounts[0]

    def _out(self, text: str | None) -> Path:
        if not text or not text.strip():
            self._bad("--out: укажите файл, куда записать квитанцию, например --out kvitanciya.pdf")
        path = Path(text.strip())
        if path.is_dir():
            self._bad(f"--out: {path} — это папка; укажите имя файла, например {path / 'kvitanciya.pdf'}")
        if not path.parent.is_dir():
            self._bad(f"--out: папки {path.parent} нет")
        return path
