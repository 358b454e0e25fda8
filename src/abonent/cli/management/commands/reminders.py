from __future__ import annotations

import datetime as dt
import time
import zoneinfo
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from abonent.cli.management.commands.seed import duration, number
from abonent.core import clock
from abonent.core.models import Supplier
from abonent.core.selectors import SupplierNotFound, supplier_by_code, supplier_local_date, suppliers_active
from abonent.notifications.enums import Channel, Kind
from abonent.notifications.policy import QUIET_FROM
from abonent.reminders.enums import RunStatus
from abonent.reminders.models import ReminderRun
from abonent.reminders.services import RUN_FROM, reminders_run

ACTIONS = "укажите действие: run — разослать напоминания дня, list — последние рассылки"
_CHANNELS = (Channel.EMAIL, Channel.SMS, Channel.PUSH)
_CHANNEL_NAMES = {Channel.EMAIL: "e-mail", Channel.SMS: "SMS", Channel.PUSH: "push"}


def _kind(kind: str) -> str:
    return str(Kind(kind).label) if kind in Kind.values else kind


def _told(told: dict[str, Any]) -> str:
    """«уведомлено 12 (уже были уведомлены 1); e-mail 8, push 3»."""
    text = f"уведомлено {number(int(told.get('notified', 0)))}"
    if told.get("repeated"):
        text += f" (уже были уведомлены {number(int(told['repeated']))})"
    sent = [f"{_CHANNEL_NAMES[c]} {number(int(told[c]))}" for c in _CHANNELS if told.get(c)]
    return f"{text}; {', '.join(sent)}" if sent else text


def _when(moment: dt.datetime | None) -> str:
    return timezone.localtime(moment).strftime("%d.%m.%Y %H:%M") if moment else "—"


class Command(BaseCommand):
    help = (
        "Напоминания дня: run [--supplier КОД] [--force] — разослать напоминания поставщика (или всех) за его "
        "сегодняшний день: открытие и последний день приёма показаний, квитанция, срок оплаты, задолженность, "
        "поверка, окончание договора. Каждому абоненту каждое напоминание уходит один раз; день рассылается "
        "один раз, с 10:00 до 21:00 по местному времени поставщика (--force — сразу, в любое время). То же "
        "делает Celery beat каждый час. list — последние рассылки и их итоги."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", nargs="?", default=None, help="run или list")
        parser.add_argument("--supplier", default=None, help="код поставщика, например stolgaz (по умолчанию все)")
        parser.add_argument(
            "--force", action="store_true", help="run: разослать сейчас, даже вне часов рассылки (10:00–21:00)"
        )
        parser.add_argument("-n", "--limit", type=int, default=20, help="list: сколько рассылок показать (20)")

    def handle(self, *args: Any, action: str | None, **options: Any) -> None:
        if action not in {"run", "list"}:
            raise CommandError(ACTIONS if action is None else f"неизвестное действие «{action}»: {ACTIONS}")
        suppliers = self._suppliers(options["supplier"])
        if action == "list":
            if options["force"]:
                raise CommandError("--force относится к run, не к list")
            if options["limit"] < 1:
                raise CommandError("--limit: укажите число от 1")
            self._list(suppliers, options["limit"])
            return
        failed = [supplier for supplier in suppliers if not self._run(supplier, force=options["force"])]
        if failed:
            names = ", ".join(supplier.code for supplier in failed)
            raise CommandError(
                f"Не разосланы напоминания: {names}. Причина записана в рассылке дня (abonent reminders list); "
                f"следующий запуск продолжит с того, что не разослано"
            )

    def _suppliers(self, code: str | None) -> list[Supplier]:
        active = list(suppliers_active().order_by("code"))
        if code is None:
            if not active:
                raise CommandError("Поставщиков пока нет: загрузите их (abonent seed) или добавьте в бэк-офисе")
            return active
        known = ", ".join(s.code for s in active) or "пока ни одного"
        if not code.strip():
            raise CommandError(f"--supplier: укажите код поставщика (есть: {known})")
        try:
            return [supplier_by_code(code=code.strip())]
        except SupplierNotFound:
            raise CommandError(f"--supplier: поставщика с кодом «{code.strip()}» нет (есть: {known})") from None

    # --- run --------------------------------------------------------------------------

    def _run(self, supplier: Supplier, *, force: bool) -> bool:
        """Run the supplier's day and say what came of it; False when it failed."""
        now = clock.now()
        today = supplier_local_date(supplier=supplier, now=now)
        head = f"{supplier.short_name} ({supplier.code}), {today:%d.%m.%Y}"
        earlier = ReminderRun.objects.filter(supplier=supplier, day=today).first()
        if earlier is not None and earlier.status == RunStatus.DONE:
            self.stdout.write(f"{head}: уже разосланы в {_when(earlier.finished_at)}, повторно не рассылаются.")
            self._summary(earlier)
            return True
        started = time.perf_counter()
        try:
            run = reminders_run(supplier=supplier, now=now, force=force)
        except Exception as exc:  # noqa: BLE001 - recorded on the run; the other suppliers go on
            self.stderr.write(f"{head}: ошибка — {type(exc).__name__}: {exc}")
            return False
        if run is None:
            self.stdout.write(f"{head}: {self._why_not(supplier, today, now)}")
            return True
        self.stdout.write(self.style.SUCCESS(f"{head}: разосланы за {duration(time.perf_counter() - started)}."))
        if run.error:
            self.stdout.write(f"  {run.error}")
        self._summary(run)
        return True

    @staticmethod
    def _why_not(supplier: Supplier, today: dt.date, now: dt.datetime) -> str:
        run = ReminderRun.objects.filter(supplier=supplier, day=today).first()
        if run is not None and run.status == RunStatus.RUNNING:
            return f"рассылка идёт в другом процессе (занята до {_when(run.lease_until)})."
        local = now.astimezone(zoneinfo.ZoneInfo(supplier.time_zone))
        return (
            f"сейчас {local:%H:%M} по местному времени, а напоминания рассылаются с {RUN_FROM:%H:%M} до "
            f"{QUIET_FROM:%H:%M}; --force разошлёт сразу."
        )

    def _summary(self, run: ReminderRun) -> None:
        if not run.summary:
            self.stdout.write("  Напоминать было не о чем.")
            return
        for kind, told in run.summary.items():
            self.stdout.write(f"  {_kind(kind)}: {_told(told)}")

    # --- list -------------------------------------------------------------------------

    def _list(self, suppliers: list[Supplier], limit: int) -> None:
        runs = list(
            ReminderRun.objects.select_related("supplier")
            .filter(supplier__in=suppliers)
            .order_by("-day", "supplier__short_name")[:limit]
        )
        if not runs:
            self.stdout.write("Рассылок напоминаний ещё не было.")
            return
        for run in runs:
            line = f"{run.day:%d.%m.%Y}  {run.supplier.short_name} ({run.supplier.code})  {run.get_status_display()}"
            self.stdout.write(f"{line}, начата {_when(run.started_at)}, закончена {_when(run.finished_at)}")
            if run.error:
                self.stdout.write(f"  Ошибка: {run.error}")
            if run.status != RunStatus.RUNNING:
                self._summary(run)
