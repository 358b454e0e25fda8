from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from abonent.notifications.selectors import outbox_latest


class Command(BaseCommand):
    help = "Показать последние сообщения из исходящих (SMS и e-mail встроенного режима)"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("-n", "--limit", type=int, default=10, help="сколько сообщений показать (по умолчанию 10)")
        parser.add_argument("--to", default=None, help="только сообщения этому получателю")

    def handle(self, *args: Any, limit: int, to: str | None, **options: Any) -> None:
        if limit < 1:
            self.stderr.write("--limit: укажите число от 1")
            raise SystemExit(2)
        messages = list(outbox_latest(limit=limit, recipient=to))
        if not messages:
            self.stdout.write("Исходящих сообщений нет.")
            return
        for message in messages:
            when = timezone.localtime(message.created_at).strftime("%d.%m.%Y %H:%M:%S")
            self.stdout.write(f"— {when}  {message.get_channel_display()}  → {message.recipient}")
            if message.subject:
                self.stdout.write(f"  Тема: {message.subject}")
            for line in message.body.splitlines():
                self.stdout.write(f"  {line}")
