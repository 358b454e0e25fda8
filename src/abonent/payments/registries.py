"""Importing bank registries: each valid line posted to the ledger once, the rest reported.

A file is imported in one transaction, so it is never half-posted: a crash, a summary that
does not add up or a whole-file import with a bad line leaves nothing. Lines are read in
chunks and written in bulk (COPY on PostgreSQL), the accounts and the references posted
before looked up per chunk. Registries of one bank are imported one at a time (a lock per
bank on PostgreSQL; SQLite has one writer anyway), so a payment repeated in two files is
found whichever comes first; the ledger's source key ``registry:<bank>:<reference>`` stands
behind it.

The bank's reference of the operation makes a payment: a line whose reference was posted
before (from this file or an earlier one) with the same account and amount is a repeat, one
with other data is an error. Banks resend corrected files; the lines posted already are
repeats, the corrected ones go in.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from abonent.core.audit import audit_record
from abonent.core.bulk import rows_insert, rows_select, table
from abonent.core.errors import DomainError, ValidationFailed
from abonent.core.models import Supplier
from abonent.core.money import format_rubles
from abonent.core.periods import Period
from abonent.core.selectors import supplier_local_date
from abonent.core.text import NotText, text_decode
from abonent.customers.models import PersonalAccount
from abonent.identity.models import User
from abonent.ledger.enums import EntryKind, Service
from abonent.ledger.services import NewEntry, entries_post
from abonent.payments.enums import Channel
from abonent.payments.models import RegistryFile, RegistryLine
from abonent.payments.registry_format import (
    ACCOUNT_DIGITS,
    KOPECK,
    Line,
    ProfileError,
    Reading,
    RegistryProfile,
    lines_read,
    profiles,
)
from abonent.payments.services import amount_parse, max_amount

CHUNK = 20_000
PROBLEMS_KEPT = 1_000  # the problems a report lists; the stored lines keep them all
SOURCE_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$", re.ASCII)
OLDEST = dt.timedelta(days=366)  # a payment older than this is not one a registry brings
PERIODS_BACK = 36  # months: how far back a line may name the period it pays
Status = RegistryLine.Status


class RegistryMode(enum.StrEnum):
    VALID_LINES = "valid_lines"  # the valid lines are posted, the others reported
    WHOLE = "whole"  # the file is posted only when no line has an error


class RegistryFileInvalid(ValidationFailed):
    """A file that cannot be imported at all; the message says why and nothing is posted."""

    code = "registry_file_invalid"
    message = _("Реестр не может быть загружен")

    def __init__(self, text: str) -> None:
        super().__init__({"file": [text]}, message=text)


class RegistryAlreadyLoaded(DomainError):
    code = "registry_already_loaded"
    message = _("Этот файл уже загружен {loaded}: проведено строк {posted}")


@dataclass(frozen=True)
class Problem:
    line: int
    status: str  # RegistryLine.Status: duplicate or failed
    message: str


@dataclass
class RegistryReport:
    """What an import did (or, on a dry run, would do)."""

    file_name: str
    source: str
    profile: str
    dry_run: bool
    mode: RegistryMode
    applied: bool = False
    file_id: int | None = None
    lines: int = 0
    posted: int = 0
    duplicates: int = 0
    failed: int = 0
    amount_posted: Decimal = Decimal("0.00")
    amount_read: Decimal = Decimal("0.00")  # of every line whose amount could be read
    amounts_unread: int = 0
    summary_count: int | None = None
    summary_amount: Decimal | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def problems_left_out(self) -> int:
        return self.duplicates + self.failed - len(self.problems)


@dataclass(frozen=True, slots=True)
class _Posted:
    where: str
    account: str
    amount: Decimal | None


@dataclass(frozen=True)
class _Context:
    supplier: Supplier
    source: str
    today: dt.date
    oldest: dt.date
    maximum: Decimal
    channel: str


def registry_import(
    *,
    supplier: Supplier,
    source: str,
    content: bytes,
    file_name: str,
    now: dt.datetime,
    profile: str = "default",
    mode: RegistryMode = RegistryMode.VALID_LINES,
    dry_run: bool = False,
    operator: User | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RegistryReport:
    """Import a registry of ``source`` (the bank's or agent's code, as the profile reads its
    references) with payments to ``supplier``'s accounts. ``progress(done, total)`` is told
    the lines read. Raises RegistryFileInvalid (not text, too big, an unknown profile, no
    payment lines, no summary or one that does not match the lines) and RegistryAlreadyLoaded."""
    source = source.strip().lower()
    if not SOURCE_RE.match(source):
        raise RegistryFileInvalid(
            gettext("Код банка или агента — латинские буквы, цифры, «-», «_» или «.», до 64 знаков, например sber")
        )
    try:
        chosen = profiles().get(profile)
    except ProfileError as exc:
        raise RegistryFileInvalid(gettext("Форматы реестров настроены с ошибкой: %(error)s") % {"error": exc}) from None
    if chosen is None:
        raise RegistryFileInvalid(
            gettext("Формата «%(name)s» нет; есть: %(known)s")
            % {"name": profile, "known": ", ".join(sorted(profiles()))}
        )
    limit = settings.PAYMENT_REGISTRY_MAX_MB * 2**20
    if len(content) > limit:
        raise RegistryFileInvalid(
            gettext("Файл больше %(mb)s МБ: разделите его") % {"mb": settings.PAYMENT_REGISTRY_MAX_MB}
        )
    try:
        text = content.decode(chosen.encoding) if chosen.encoding else text_decode(content)
    except (NotText, UnicodeDecodeError):
        raise RegistryFileInvalid(
            gettext("Файл не читается как текст в кодировке %(encoding)s")
            % {"encoding": chosen.encoding or "UTF-8 или Windows-1251"}
        ) from None
    digest = hashlib.sha256(content).hexdigest()
    earlier = RegistryFile.objects.filter(source=source, sha256=digest).first()
    if earlier is not None:
        raise RegistryAlreadyLoaded(
            loaded=earlier.loaded_at.astimezone(dt.UTC).strftime("%d.%m.%Y %H:%M UTC"), posted=earlier.lines_posted
        )
    today = supplier_local_date(supplier=supplier, now=now)
    context = _Context(supplier, source, today, today - OLDEST, max_amount(), chosen.channel)
    report = RegistryReport(file_name=file_name, source=source, profile=chosen.name, dry_run=dry_run, mode=mode)
    try:
        with transaction.atomic():
            _import(text, chosen, context, report, now=now, operator=operator, digest=digest, progress=progress)
            if dry_run or (mode == RegistryMode.WHOLE and report.failed):
                raise _Rollback()
            report.applied = True
    except _Rollback:
        report.file_id = None
    return report


class _Rollback(Exception):
    pass


def _import(
    text: str,
    profile: RegistryProfile,
    context: _Context,
    report: RegistryReport,
    *,
    now: dt.datetime,
    operator: User | None,
    digest: str,
    progress: Callable[[int, int], None] | None,
) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"payments.registry:{context.source}"])
    registry = None
    if not report.dry_run:
        registry = RegistryFile.objects.create(
            source=context.source,
            name=report.file_name[:255],
            sha256=digest,
            profile=profile.name,
            channel=context.channel,
            supplier=context.supplier,
            loaded_at=now,
            loaded_by=operator,
        )
        report.file_id = registry.pk
    total = text.count("\n") + 1
    reading = Reading()
    seen: dict[str, _Posted] = {}  # references posted by this file and not yet written
    chunk: list[Line] = []
    writing = not report.dry_run
    for line in lines_read(text, profile, time_zone=context.supplier.time_zone, reading=reading):
        chunk.append(line)
        if len(chunk) == CHUNK:
            writing = _chunk(chunk, context, report, registry, seen, now=now, writing=writing)
            chunk = []
            if progress is not None:
                progress(line.number, total)
    if chunk:
        _chunk(chunk, context, report, registry, seen, now=now, writing=writing)
    if progress is not None:
        progress(total, total)
    _summary_check(reading, report, profile)
    if registry is not None:
        registry.lines_total = report.lines
        registry.lines_posted = report.posted
        registry.lines_duplicate = report.duplicates
        registry.lines_failed = report.failed
        registry.amount_posted = report.amount_posted
        registry.summary_count = report.summary_count
        registry.summary_amount = report.summary_amount
        registry.save()
        audit_record(
            at=now,
            actor_id=operator.pk if operator else None,
            channel="backoffice" if operator else "cli",
            action="registry_import",
            object_type="registry_file",
            object_id=registry.pk,
            after={
                "source": context.source,
                "file": report.file_name,
                "mode": report.mode.value,
                "posted": report.posted,
                "amount": str(report.amount_posted),
                "duplicates": report.duplicates,
                "failed": report.failed,
            },
        )


def _summary_check(reading: Reading, report: RegistryReport, profile: RegistryProfile) -> None:
    if reading.after_summary:
        raise RegistryFileInvalid(
            gettext("После итоговой строки есть ещё строки (%(lines)s): итог должен быть последним")
            % {"lines": ", ".join(str(n) for n in reading.after_summary[:5])}
        )
    if not report.lines:
        raise RegistryFileInvalid(gettext("В файле нет строк с платежами"))
    summary = reading.summary
    if not profile.summary:
        return
    if summary is None:
        raise RegistryFileInvalid(
            gettext(
                "В конце файла нет итоговой строки «=количество;сумма»: файл мог быть обрезан. Попросите банк "
                "прислать его снова"
            )
        )
    if summary.error:
        raise RegistryFileInvalid(summary.error)
    assert summary.count is not None
    assert summary.amount is not None
    report.summary_count, report.summary_amount = summary.count, summary.amount
    count_differs = summary.count != report.lines
    # a line whose amount is unreadable is reported; the total can then be checked no further
    amount_differs = not report.amounts_unread and summary.amount != report.amount_read
    if count_differs or amount_differs:
        raise RegistryFileInvalid(
            gettext(
                "Итоговая строка не сходится с файлом: в ней %(count)s платежей на %(amount)s, в файле — %(lines)s "
                "на %(read)s. Файл не загружен: попросите банк прислать его снова"
            )
            % {
                "count": summary.count,
                "amount": format_rubles(summary.amount),
                "lines": report.lines,
                "read": format_rubles(report.amount_read),
            }
        )


def _chunk(
    lines: Sequence[Line],
    context: _Context,
    report: RegistryReport,
    registry: RegistryFile | None,
    seen: dict[str, _Posted],
    *,
    now: dt.datetime,
    writing: bool,
) -> bool:
    """Check a chunk's lines, and write them while ``writing``; returns whether the next
    chunk is written (a whole-file import stops writing at its first bad line)."""
    for line in lines:
        report.lines += 1
        if line.amount is not None:
            report.amount_read += line.amount
        else:
            report.amounts_unread += 1
        if not line.error:
            line.error = _meaning(line, context)
    accounts = _accounts(context.supplier, {line.account for line in lines if not line.error})
    posted_before = _posted(context.source, {line.reference for line in lines if not line.error})
    rows: list[tuple[object, ...]] = []
    entries: list[NewEntry] = []
    file_id = registry.pk if registry is not None else None
    note = gettext("Оплата: %(channel)s") % {"channel": Channel(context.channel).label}
    for line in lines:
        account_id = None
        status = Status.FAILED
        if not line.error:
            account_id = accounts.get(line.account)
            if account_id is None:
                line.error = gettext("лицевого счёта %(number)s нет у поставщика %(supplier)s") % {
                    "number": line.account,
                    "supplier": context.supplier.code,
                }
        if not line.error:
            before = seen.get(line.reference) or posted_before.get(line.reference)
            if before is None:
                status = Status.POSTED
            elif (before.account, before.amount) == (line.account, line.amount):
                status = Status.DUPLICATE
                line.error = gettext("повтор: платёж %(reference)s уже проведён (%(where)s)") % {
                    "reference": line.reference,
                    "where": before.where,
                }
            else:
                line.error = gettext(
                    "номер операции %(reference)s уже проведён с другими данными (%(where)s: лицевой счёт "
                    "%(account)s, %(amount)s)"
                ) % {
                    "reference": line.reference,
                    "where": before.where,
                    "account": before.account,
                    "amount": format_rubles(before.amount) if before.amount is not None else "—",
                }
        if status == Status.DUPLICATE:
            report.duplicates += 1
            _problem(report, line, status)
        elif status == Status.FAILED:
            report.failed += 1
            _problem(report, line, status)
        else:
            assert line.amount is not None
            assert line.paid_at is not None
            assert account_id is not None
            report.posted += 1
            report.amount_posted += line.amount
            seen[line.reference] = _Posted(
                gettext("строка %(line)s этого файла") % {"line": line.number}, line.account, line.amount
            )
            day = line.paid_at.date()
            entries.append(
                NewEntry(
                    account_id=account_id,
                    service=Service.GAS,
                    kind=EntryKind.PAYMENT,
                    period=line.period or Period.of(day),
                    billed_in=Period.of(day),
                    amount=-line.amount,
                    posted_on=day,
                    source_key=f"registry:{context.source}:{line.reference}",
                    pays_period=line.period,
                    note=note,
                )
            )
        rows.append(
            (
                file_id,
                line.number,
                context.source,
                line.reference,
                account_id,
                line.account,
                line.paid_at,
                line.amount if line.amount is not None and abs(line.amount) < 10**12 else None,
                line.period.to_int() if line.period else None,
                line.payer,
                status,
                line.error[:300],
            )
        )
    if not writing or registry is None or (report.mode == RegistryMode.WHOLE and report.failed):
        return False
    rows_insert(RegistryLine, _LINE_FIELDS, rows)
    entries_post(entries=entries, now=now)
    seen.clear()  # what is written is found in the table from now on
    return True


_LINE_FIELDS = (
    "file_id",
    "line_no",
    "source",
    "reference",
    "account_id",
    "account_number",
    "paid_at",
    "amount",
    "period",
    "payer",
    "status",
    "error",
)


def _problem(report: RegistryReport, line: Line, status: str) -> None:
    if len(report.problems) < PROBLEMS_KEPT:
        report.problems.append(Problem(line.number, status, line.error))


def _meaning(line: Line, context: _Context) -> str:
    """What is wrong with a well-formed line's values, or ""."""
    errors = []
    if not (len(line.account) == ACCOUNT_DIGITS and line.account.isdigit() and line.account.isascii()):
        errors.append(gettext("лицевой счёт «%(text)s» — не 12 цифр") % {"text": line.account[:20]})
    assert line.paid_at is not None
    assert line.amount is not None
    day = line.paid_at.date()
    if day > context.today:
        errors.append(gettext("дата %(day)s ещё не наступила") % {"day": f"{day:%d.%m.%Y}"})
    elif day < context.oldest:
        errors.append(gettext("дата %(day)s — больше года назад") % {"day": f"{day:%d.%m.%Y}"})
    if not (0 < line.amount <= context.maximum and line.amount == line.amount.quantize(KOPECK)):
        try:
            amount_parse(line.amount, maximum=context.maximum)
        except ValueError as exc:
            text = str(exc)
            errors.append(gettext("сумма: %(error)s") % {"error": text[:1].lower() + text[1:]})
    if line.period is not None:
        month = Period.of(day)
        if line.period > month.next() or line.period < month - PERIODS_BACK:
            errors.append(
                gettext("период %(period)s далёк от даты платежа")
                % {"period": f"{line.period.month:02}.{line.period.year}"}
            )
    return "; ".join(errors)


def _accounts(supplier: Supplier, numbers: set[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    wanted = sorted(numbers)
    step = len(wanted) if connection.vendor == "postgresql" else 900
    for at in range(0, len(wanted), step or 1):
        part = wanted[at : at + step]
        if connection.vendor == "postgresql":
            rows = rows_select(
                f"SELECT number, id FROM {table(PersonalAccount)} WHERE supplier_id = %s AND number = ANY(%s)",
                [supplier.pk, part],
            )
        else:
            marks = ", ".join("%s" for _ in part)
            rows = rows_select(
                f"SELECT number, id FROM {table(PersonalAccount)} WHERE supplier_id = %s AND number IN ({marks})",
                [supplier.pk, *part],
            )
        found.update(rows)
    return found


def _posted(source: str, references: set[str]) -> dict[str, _Posted]:
    """The references of ``source`` posted before: where (file and line), account, amount."""
    found: dict[str, _Posted] = {}
    wanted = sorted(references)
    step = len(wanted) if connection.vendor == "postgresql" else 900
    lines, files = table(RegistryLine), table(RegistryFile)
    select = (
        f"SELECT l.reference, l.account_number, l.amount, f.name, l.line_no FROM {lines} l "
        f"JOIN {files} f ON f.id = l.file_id WHERE l.source = %s AND l.status = 'posted' AND "
    )
    for at in range(0, len(wanted), step or 1):
        part = wanted[at : at + step]
        if connection.vendor == "postgresql":
            rows = rows_select(select + "l.reference = ANY(%s)", [source, part], decimals={2: 2})
        else:
            marks = ", ".join("%s" for _ in part)
            rows = rows_select(select + f"l.reference IN ({marks})", [source, *part], decimals={2: 2})
        for reference, account, amount, name, line_no in rows:
            where = gettext("файл %(name)s, строка %(line)s") % {"name": name, "line": line_no}
            found[reference] = _Posted(where, account, amount)
    return found
