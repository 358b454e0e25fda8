from __future__ import annotations

import datetime as dt
from typing import Any, NoReturn

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from abonent.core import clock
from abonent.notifications.enums import DeliveryStatus
from abonent.notifications.models import Delivery
from abonent.notifications.selectors import deliveries_latest
from abonent.notifications.services import SWEEP_LIMIT, deliveries_retry_due

ACTIONS = "укажите действие: list — последние сообщения журнала, retry — повторить те, чей срок подошёл"


def _when(moment: dt.datetime | None) -> str:
    return timezone.localtime(moment).strftime("%d.%m.%Y %H:%M:%S") if moment else "—"


class Command(BaseCommand):
    help = (
        "Журнал доставки e-mail и SMS: list — последние сообщения и их состояние, "
        "retry — отправить повторно те, чей срок подошёл (то же делает Celery beat каждую минуту)"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", nargs="?", default=None, help="list или retry")
        parser.add_argument(
            "-n",
            "--limit",
            type=int,
            default=None,
            help=f"list: сколько сообщений показать (по умолчанию 20); retry: сколько отправить за раз (по умолчанию {SWEEP_LIMIT})",
        )
        parser.add_argument(
            "--status", default=None, help="list: только в этом состоянии (pending, sent, retrying, failed)"
        )
        parser.add_argument("--to", default=None, help="list: только сообщения этому получателю")

    def handle(
        self, *args: Any, action: str | None, limit: int | None, status: str | None, to: str | None, **options: Any
    ) -> None:
        if action not in {"list", "retry"}:
            self._fail(ACTIONS if action is None else f"неизвестное действие {action!r}: {ACTIONS}")
        if limit is not None and limit < 1:
            self._fail("--limit: укажите число от 1")
        if status is not None and status not in DeliveryStatus.values:
            self._fail(f"--status: укажите одно из {', '.join(DeliveryStatus.values)}")
        if action == "retry":
            if status is not None or to is not None:
                self._fail("retry повторяет все сообщения, чей срок подошёл: --status и --to здесь не применяются")
            self._retry(limit or SWEEP_LIMIT)
        else:
            self._list(limit or 20, status, to)

    def _fail(self, message: str) -> NoReturn:
        self.stderr.write(message)
        raise SystemExit(2)

    def _retry(self, limit: int) -> None:
        summary = deliveries_retry_due(now=clock.now(), limit=limit)
        if not summary.attempted:
            self.stdout.write("Повторять нечего: ни у одного сообщения срок не подошёл.")
            return
        self.stdout.write(
            f"Попыток: {summary.attempted}; отправлено: {summary.sent}, "
            f"будет повторено: {summary.retrying}, не доставлено: {summary.failed}."
        )

    def _list(self, limit: int, status: str | None, to: str | None) -> None:
        deliveries = list(deliveries_latest(limit=limit, status=status, recipient=to))
        if not deliveries:
            self.stdout.write("В журнале доставки нет сообщений.")
            return
        for delivery in deliveries:
            self.stdout.write(
                f"№ {delivery.pk}  {_when(delivery.created_at)}  {delivery.get_channel_display()}  "
                f"{delivery.kind}  → {delivery.recipient}"
            )
            if delivery.subject:
                self.stdout.write(f"  Тема: {delivery.subject}")
            self.stdout.write(f"  {self._state(delivery)}")
            if delivery.last_error:
                self.stdout.write(f"  Ошибка: {delivery.last_error}")

    @staticmethod
    def _state(delivery: Delivery) -> str:
        attempts = f"попыток: {delivery.attempts}"
        via = f" через {delivery.get_provider_display()}" if delivery.provider else ""
        if delivery.status == DeliveryStatus.SENT:
            return f"отправлено {_when(delivery.sent_at)}{via}, {attempts}, id у провайдера: {delivery.provider_message_id}"
        if delivery.status == DeliveryStatus.FAILED:
            return f"не доставлено{via}, {attempts}"
        return f"{delivery.get_status_display()}, {attempts}, следующая попытка {_when(delivery.next_attempt_at)}"
