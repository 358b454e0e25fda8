from __future__ import annotations

from typing import Any, NoReturn

from django.core.management.base import BaseCommand, CommandParser

from abonent.core import clock
from abonent.payments.services import payments_reconcile

ACTIONS = "укажите действие: reconcile — спросить у платёжного сервиса о платежах, которые долго ждут ответа"


class Command(BaseCommand):
    help = (
        "Платежи: reconcile — спросить у платёжного сервиса о платежах, оставшихся без ответа дольше "
        "PAYMENT_RECONCILE_AFTER минут, и провести оплаченные (то же делает Celery beat каждые 5 минут)"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", nargs="?", default=None, help="reconcile")

    def handle(self, *args: Any, action: str | None, **options: Any) -> None:
        if action != "reconcile":
            self._fail(ACTIONS if action is None else f"неизвестное действие {action!r}: {ACTIONS}")
        result = payments_reconcile(now=clock.now())
        if not result.asked:
            self.stdout.write("Спрашивать не о чем: все платежи получили ответ платёжного сервиса.")
            return
        self.stdout.write(
            f"Спрошено о платежах: {result.asked}; оплачено: {result.succeeded}, отменено: {result.canceled}, "
            f"ещё ждут оплаты: {result.still_pending}, сервис не ответил: {result.failed}."
        )

    def _fail(self, message: str) -> NoReturn:
        self.stderr.write(message)
        raise SystemExit(2)
