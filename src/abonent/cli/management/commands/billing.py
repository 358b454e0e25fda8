from __future__ import annotations

import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NoReturn

from celery.backends.base import DisabledBackend
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Max
from tqdm import tqdm

from abonent.billing.enums import RunStatus, VolumeMethod
from abonent.billing.models import BillingChunk, BillingPeriod, BillingRun
from abonent.billing.services import (
    CHUNK_SIZE,
    ChunkStats,
    PeriodClosed,
    RunInProgress,
    billing_period_close,
    billing_run,
)
from abonent.billing.tasks import billing_run_task
from abonent.cli.management.commands.seed import _Stream, _whole, duration, number, plural
from abonent.core import clock
from abonent.core.errors import DomainError
from abonent.core.models import Supplier
from abonent.core.money import format_number, format_rubles
from abonent.core.periods import Period, PeriodFormatError
from abonent.core.selectors import SupplierNotFound, supplier_by_code, supplier_local_date, suppliers_active

ACTIONS = "укажите действие: run — рассчитать период, close — закрыть период"
MAX_CHUNK_SIZE = 100_000
#: How long ``--workers`` waits for a worker to take the run before it gives up waiting.
START_WAIT_SECONDS = 120
POLL_SECONDS = 1.0
_ACCOUNTS = ("лицевой счёт", "лицевых счёта", "лицевых счетов")


@dataclass(frozen=True)
class MethodLine:
    label: str
    accounts: int
    volume: Decimal
    amount: Decimal


def _method_lines(summary: dict[str, Any]) -> list[MethodLine]:
    lines = [
        MethodLine(
            str(VolumeMethod(method).label) if method in VolumeMethod.values else method,
            int(count),
            Decimal(volume),
            Decimal(amount),
        )
        for method, (count, volume, amount) in (summary.get("by_method") or {}).items()
    ]
    return sorted(lines, key=lambda line: (-line.accounts, line.label))


def m3(value: Decimal | str) -> str:
    return f"{format_number(value)}\u00a0м³"


class Command(BaseCommand):
    help = (
        "Расчёт начислений: run --supplier КОД --period ГГГГ-ММ [--chunk-size N] [--workers] — рассчитать "
        "период поставщика (начисления, льготы, пени, перерасчёты) и провести их по лицевым счетам; повторный "
        "запуск доводит прерванный расчёт и ничего не проводит дважды. close --supplier КОД --period ГГГГ-ММ — "
        "закрыть период: расчёт за него больше не проводится."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", nargs="?", default=None, help="run или close")
        parser.add_argument("--supplier", default=None, help="код поставщика, например gaz-msk")
        parser.add_argument("--period", default=None, help="расчётный период: ГГГГ-ММ (2026-10) или ММ.ГГГГ")
        parser.add_argument(
            "--chunk-size",
            default=str(CHUNK_SIZE),
            help=f"сколько лицевых счетов в одной части расчёта (одна транзакция), по умолчанию {CHUNK_SIZE}",
        )
        parser.add_argument(
            "--workers",
            action="store_true",
            help="отдать расчёт исполнителям фоновых задач: части считаются параллельно на нескольких машинах",
        )
        parser.add_argument("--no-progress", action="store_true", help="не показывать индикатор выполнения")

    def handle(self, *args: Any, action: str | None, **options: Any) -> None:
        if action not in {"run", "close"}:
            raise CommandError(ACTIONS if action is None else f"неизвестное действие «{action}»: {ACTIONS}")
        supplier = self._supplier(options["supplier"])
        period = self._period(options["period"])
        if action == "close":
            self._close(supplier, period)
            return
        chunk_size = _whole(options["chunk_size"], option="--chunk-size", low=1, high=MAX_CHUNK_SIZE)
        show = not options["no_progress"] and options["verbosity"] > 0
        try:
            if options["workers"]:
                run = self._run_on_workers(supplier, period, chunk_size, show=show)
            else:
                run = self._run_here(supplier, period, chunk_size, show=show)
        except DomainError as exc:
            self._refuse(exc, period)
        self._print(run)
        if run.status != RunStatus.DONE:
            raise CommandError(
                f"Расчёт №{run.pk} прерван ошибкой: {run.error or 'причина не записана'}. Устраните её и запустите "
                f"расчёт снова: уже проведённое не повторится"
            )

    # --- Arguments ----------------------------------------------------------------------

    def _supplier(self, code: str | None) -> Supplier:
        known = ", ".join(suppliers_active().order_by("code").values_list("code", flat=True)) or "пока ни одного"
        if not code or not code.strip():
            raise CommandError(f"--supplier: укажите код поставщика (есть: {known})")
        try:
            return supplier_by_code(code=code.strip())
        except SupplierNotFound:
            raise CommandError(f"--supplier: поставщика с кодом «{code.strip()}» нет (есть: {known})") from None

    def _period(self, text: str | None) -> Period:
        if not text or not text.strip():
            raise CommandError("--period: укажите расчётный период, например --period 2026-10")
        try:
            return Period.parse(text)
        except PeriodFormatError:
            raise CommandError(
                f"--period: «{text.strip()}» — не период; пишите год и месяц: 2026-10 (или 10.2026)"
            ) from None

    def _refuse(self, exc: DomainError, period: Period) -> NoReturn:
        """A refusal of the billing service, with what to do about it."""
        hint = ""
        if isinstance(exc, PeriodClosed):
            hint = (
                f". Изменения за закрытый период войдут перерасчётом в расчёт следующего: "
                f"abonent billing run --period {period.next()}"
            )
        elif isinstance(exc, RunInProgress):
            hint = ". Ход расчёта виден в бэк-офисе, раздел «Расчёты»"
        # PeriodNotOver says from which day the period can be run; BillingDataMissing, what to fill in
        raise CommandError(f"{exc.text}{hint}") from None

    # --- Run --------------------------------------------------------------------------

    def _bar(self, total: int) -> tqdm[Any]:
        return tqdm(
            total=total,
            desc="Части расчёта",
            bar_format="{desc}: {percentage:3.0f}% |{bar}| {n_fmt} из {total_fmt} [прошло {elapsed}, ещё {remaining}]",
            file=_Stream(self.stderr),
            mininterval=0.5,
            leave=False,
        )

    def _run_here(self, supplier: Supplier, period: Period, chunk_size: int, *, show: bool) -> BillingRun:
        bar: tqdm[Any] | None = None

        def start(total: int) -> None:
            nonlocal bar
            if show and total:
                bar = self._bar(total)

        def advance(stats: ChunkStats | None) -> None:
            if bar is not None:
                bar.update(1)

        try:
            return billing_run(
                supplier=supplier,
                period=period,
                now=lambda: clock.now(),
                today=supplier_local_date(supplier=supplier, now=clock.now()),
                channel="cli",
                chunk_size=chunk_size,
                on_start=start,
                on_chunk=advance,
            )
        finally:
            if bar is not None:
                bar.close()

    def _run_on_workers(self, supplier: Supplier, period: Period, chunk_size: int, *, show: bool) -> BillingRun:
        """Send the run to the background workers and follow it by its chunks. Without a
        broker the tasks run in this process (and raise the service's refusals here)."""
        before = BillingRun.objects.aggregate(last=Max("pk"))["last"] or 0
        result = billing_run_task.delay(supplier.code, str(period), None, channel="cli", chunk_size=chunk_size)
        if billing_run_task.app.conf.task_always_eager:
            self.stdout.write("Исполнителей нет (CELERY_BROKER_URL не задан): расчёт выполнен в этом процессе.")
            return BillingRun.objects.get(pk=result.get())
        self.stdout.write(f"Расчёт отправлен исполнителям (задача {result.id}).")
        run = self._wait_for_start(result, supplier, period, before)
        bar = self._bar(run.chunks) if show and run.chunks else None
        try:
            while run.status == RunStatus.RUNNING:
                done = BillingChunk.objects.filter(run=run, done_at__isnull=False).count()
                if bar is not None:
                    bar.update(done - bar.n)
                time.sleep(POLL_SECONDS)
                run.refresh_from_db()
        except KeyboardInterrupt:
            raise CommandError(
                f"Ожидание прервано; расчёт №{run.pk} продолжается у исполнителей, итоги — в бэк-офисе, «Расчёты»"
            ) from None
        finally:
            if bar is not None:
                bar.close()
        return run

    def _wait_for_start(self, result: Any, supplier: Supplier, period: Period, before: int) -> BillingRun:
        deadline = time.monotonic() + START_WAIT_SECONDS
        while time.monotonic() < deadline:
            run = BillingRun.objects.filter(supplier=supplier, period=period, pk__gt=before).order_by("pk").first()
            if run is not None:
                return run
            # with a result backend, a refusal at the start is known; without one, only the run tells
            if not isinstance(result.backend, DisabledBackend) and result.failed():
                error = result.result
                if isinstance(error, DomainError):
                    self._refuse(error, period)
                raise CommandError(f"Расчёт не начат: {error}")
            time.sleep(POLL_SECONDS)
        raise CommandError(
            f"Исполнители не начали расчёт за {START_WAIT_SECONDS} с: проверьте, что они запущены и подключены к "
            f"CELERY_BROKER_URL. Задача осталась в очереди; если она не нужна, удалите её из очереди"
        )

    # --- Close ------------------------------------------------------------------------

    def _close(self, supplier: Supplier, period: Period) -> None:
        already = BillingPeriod.objects.filter(supplier=supplier, period=period, closed_at__isnull=False).exists()
        if already:
            self.stdout.write(f"Период {period.label()} ({supplier.short_name}) уже закрыт, ничего не изменено.")
            return
        try:
            billing_period_close(supplier=supplier, period=period, actor_id=None, now=clock.now(), channel="cli")
        except DomainError as exc:
            self._refuse(exc, period)
        self.stdout.write(
            self.style.SUCCESS(
                f"Период {period.label()} ({supplier.short_name}) закрыт: расчёт за него больше не проводится."
            )
        )

    # --- Summary ----------------------------------------------------------------------

    def _print(self, run: BillingRun) -> None:
        out = self.stdout
        supplier = run.supplier
        took = (run.finished_at - run.started_at).total_seconds() if run.finished_at else 0.0
        if run.status != RunStatus.DONE:
            out.write(f"Расчёт №{run.pk} за {run.period.label()} ({supplier.short_name}) не завершён.")
            return
        s = run.summary
        out.write(
            self.style.SUCCESS(
                f"Расчёт №{run.pk} за {run.period.label()} ({supplier.short_name}) завершён за {duration(took)}."
            )
        )
        accounts = int(s.get("accounts", 0))
        recalculated = int(s.get("recalculated_accounts", 0))
        lines = [
            ("Лицевых счетов", number(accounts)),
            ("Объём", m3(s.get("volume", "0"))),
            ("Начислено", format_rubles(s.get("amount", "0"))),
            ("Льготы", format_rubles(s.get("benefit", "0"))),
            ("Пени", format_rubles(s.get("penalty", "0"))),
            (
                "Перерасчёты",
                f"{format_rubles(s.get('recalculated', '0'))} ({number(recalculated)} {plural(recalculated, _ACCOUNTS)})",
            ),
            ("Проводок", number(int(s.get("entries", 0)))),
        ]
        width = max(len(label) for label, _value in lines) + 1
        for label, value in lines:
            out.write(f"  {label + ':':<{width}} {value}")
        methods = _method_lines(s)
        if methods:
            out.write("По способу расчёта:")
            for line in methods:
                out.write(
                    f"  {line.label}: {number(line.accounts)} {plural(line.accounts, _ACCOUNTS)}, "
                    f"{m3(line.volume)}, {format_rubles(line.amount)}"
                )
