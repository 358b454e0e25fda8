"""Entry point of ``abonent …`` and ``python -m abonent``: Django's management commands
(migrate, runserver, createsuperuser …) with abonent's own (seed, outbox) among them."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "abonent.config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["abonent", *(argv if argv is not None else sys.argv[1:])])
