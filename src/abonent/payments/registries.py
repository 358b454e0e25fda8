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

import codecs
import csv
import datetime as dt
import enum
import hashlib
import io
import re
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from abonent.core.audit import audit_record
from abonent.core.bulk import table
from abonent.core.errors import DomainError, ValidationFailed
from abonent.core.models import Supplier
from abonent.core.money import format_rubles
from abonent.core.periods import Period
from abonent.core.selectors import supplier_local_date
from abonent.core.text import NotText, text_encoding
from abonent.customers.models import PersonalAccount
from abonent.identity.models import User
from abonent.ledger.enums import EntryKind, Service
from abonent.ledger.services import entries_post_select
from abonent.payments.enums import Channel
from abonent.payments.models import RegistryFile, RegistryLine
from abonent.payments.registry_format import (
    ACCOUNT_DIGITS,
    KOPECK,
    Line,
    ProfileError,
    Reading,
    RegistryProfile,
    Texts,
    lines_read,
    profiles,
)
from abonent.payments.services import amount_parse, max_amount

CHUNK = 20_000  # lines between two calls of ``progress``
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

    @property
    def held_back(self) -> bool:
        """A whole-file import that found a bad line: nothing of the file is posted."""
        return self.mode == RegistryMode.WHOLE and bool(self.failed)


@dataclass(frozen=True)
class _Context:
    supplier: Supplier
    source: str
    today: dt.date
    oldest: dt.date
    maximum: Decimal
    channel: str
    days: dict[dt.date, _Day] = field(default_factory=dict)  # what is known of each day met
    t: Texts = field(default_factory=Texts)


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
        encoding = chosen.encoding or text_encoding(content)
        if chosen.encoding:
            codecs.decode(content, encoding)  # the whole file is checked before anything is written
    except (NotText, UnicodeDecodeError, LookupError):
        raise RegistryFileInvalid(
            gettext("Файл не читается как текст в кодировке %(encoding)s")
            % {"encoding": chosen.encoding or gettext("UTF-8 или Windows-1251")}
        ) from None
    if codecs.lookup(encoding).name == "utf-8":
        encoding = "utf-8-sig"  # a BOM at the start is not part of the first line
    digest = hashlib.sha256(content).hexdigest()
    today = supplier_local_date(supplier=supplier, now=now)
    context = _Context(supplier, source, today, today - OLDEST, max_amount(), chosen.channel)
    report = RegistryReport(file_name=file_name, source=source, profile=chosen.name, dry_run=dry_run, mode=mode)
    try:
        with transaction.atomic():
            _import(
                content, encoding, chosen, context, report, now=now, operator=operator, digest=digest, progress=progress
            )
            if dry_run or report.held_back:
                raise _Rollback()
            report.applied = True
    except _Rollback:
        report.file_id = None
    return report


class _Rollback(Exception):
    pass


def _import(
    content: bytes,
    encoding: str,
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
    # under the lock: the same file sent twice at once is found here, not by the unique constraint
    earlier = RegistryFile.objects.filter(source=context.source, sha256=digest).first()
    if earlier is not None:
        loaded = earlier.loaded_at.astimezone(zoneinfo.ZoneInfo(context.supplier.time_zone))
        raise RegistryAlreadyLoaded(loaded=f"{loaded:%d.%m.%Y %H:%M}", posted=earlier.lines_posted)
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
    # the lines as the reader counts them
    total = content.count(b"\n") + content.count(b"\r") - content.count(b"\r\n") + 1
    # read as it is decoded: a million lines are never one string in memory
    text = io.TextIOWrapper(io.BytesIO(content), encoding=encoding, newline="")
    reading = Reading()
    with _Stage(context) as stage:
        for line in lines_read(text, profile, time_zone=context.supplier.time_zone, reading=reading, texts=context.t):
            report.lines += 1
            if line.amount is not None:
                report.amount_read += line.amount
            else:
                report.amounts_unread += 1
            if not line.error:
                line.error = _meaning(line, context)
            stage.add(line)
            if progress is not None and not report.lines % CHUNK:
                progress(line.number, total)
    _summary_check(reading, report, profile)
    _classify(context, report)
    if progress is not None:
        progress(total, total)
    if registry is not None and not report.held_back:
        _write(context, registry, now=now)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {_STAGE}")
        cursor.execute(f"DROP TABLE {_CLASSIFIED}")
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


def _meaning(line: Line, context: _Context) -> str:
    """What is wrong with a well-formed line's values, or ""."""
    errors = []
    if not (len(line.account) == ACCOUNT_DIGITS and line.account.isdigit() and line.account.isascii()):
        errors.append(context.t(gettext_noop("лицевой счёт «%(text)s» — не 12 цифр")) % {"text": line.account[:20]})
    assert line.paid_at is not None
    assert line.amount is not None
    day = line.paid_at.date()
    known = context.days.get(day)
    if known is None:
        known = context.days[day] = _day_check(day, context)
    if known.error:
        errors.append(known.error)
    if not (0 < line.amount <= context.maximum and line.amount == line.amount.quantize(KOPECK)):
        try:
            amount_parse(line.amount, maximum=context.maximum)
        except ValueError as exc:
            text = str(exc)
            errors.append(context.t(gettext_noop("сумма: %(error)s")) % {"error": text[:1].lower() + text[1:]})
    if line.period is not None and not known.earliest <= line.period.year * 100 + line.period.month <= known.latest:
        errors.append(
            context.t(gettext_noop("период %(period)s далёк от даты платежа"))
            % {"period": f"{line.period.month:02}.{line.period.year}"}
        )
    return "; ".join(errors)


@dataclass(frozen=True, slots=True)
class _Day:
    error: str
    earliest: int  # the periods a payment of the day may name, YYYYMM
    latest: int


def _day_check(day: dt.date, context: _Context) -> _Day:
    error = ""
    if day > context.today:
        error = gettext("дата %(day)s ещё не наступила") % {"day": f"{day:%d.%m.%Y}"}
    elif day < context.oldest:
        error = gettext("дата %(day)s — больше года назад") % {"day": f"{day:%d.%m.%Y}"}
    month = Period.of(day)
    return _Day(error, (month - PERIODS_BACK).to_int(), month.next().to_int())


# --- The set-based part: the lines staged, classified and written by SQL ------------------

_STAGE = "registry_stage"
_CLASSIFIED = "registry_classified"
_STAGE_COLUMNS = "line_no, account_number, reference, payer, paid_at, posted_on, month, kopecks, period, error"
_BATCH = 5_000
_KOPECKS_MAX = 10**14


class _Stage:
    """A temporary table the lines go into as they are read (COPY on PostgreSQL, batches of
    inserts on SQLite): the database then does the rest over all of them at once."""

    def __init__(self, context: _Context) -> None:
        self.context = context
        self.postgres = connection.vendor == "postgresql"
        self.rows: list[Any] = []
        self.copy: Any = None
        self.buffer = io.StringIO()
        self.writer = csv.writer(self.buffer, lineterminator="\n")
        self.count = 0

    def __enter__(self) -> _Stage:
        with connection.cursor() as cursor:
            if self.postgres:
                cursor.execute(
                    f"CREATE TEMP TABLE {_STAGE} (line_no integer NOT NULL, account_number text NOT NULL, "
                    "reference text NOT NULL, payer text NOT NULL, paid_at timestamptz, posted_on date, "
                    "month integer, kopecks bigint, period integer, error text NOT NULL) ON COMMIT DROP"
                )
            else:
                cursor.execute(
                    f"CREATE TEMP TABLE {_STAGE} (line_no integer PRIMARY KEY, account_number text NOT NULL, "
                    "reference text NOT NULL, payer text NOT NULL, paid_at datetime, posted_on date, "
                    "month integer, kopecks integer, period integer, error text NOT NULL)"
                )
        if self.postgres:
            connection.ensure_connection()
            raw: Any = connection.connection
            self._cursor = raw.cursor()
            self._copy_context = self._cursor.copy(
                f"COPY {_STAGE} ({_STAGE_COLUMNS}) FROM STDIN WITH (FORMAT csv, "
                "FORCE_NOT_NULL (account_number, reference, payer, error))"
            )
            self.copy = self._copy_context.__enter__()
        return self

    def add(self, line: Line) -> None:
        paid_at = line.paid_at
        day = paid_at.date() if paid_at is not None else None
        amount = line.amount
        kopecks = None
        if amount is not None and abs(amount) < _KOPECKS_MAX and amount == amount.quantize(KOPECK):
            kopecks = int(amount * 100)
        period = line.period
        row = (
            line.number,
            line.account,
            line.reference,
            line.payer,
            paid_at if self.postgres or paid_at is None else connection.ops.adapt_datetimefield_value(paid_at),
            day if self.postgres or day is None else day.isoformat(),
            day.year * 100 + day.month if day is not None else None,
            kopecks,
            period.year * 100 + period.month if period is not None else None,
            line.error,
        )
        if self.postgres:
            self.writer.writerow(row)  # CSV for COPY: an empty unquoted value is NULL
            self.count += 1
            if self.count >= _BATCH:
                self.copy.write(self.buffer.getvalue())
                self.buffer.seek(0)
                self.buffer.truncate()
                self.count = 0
        else:
            self.rows.append(row)
            if len(self.rows) >= _BATCH:
                self._flush()

    def _flush(self) -> None:
        if self.postgres:
            self.copy.write(self.buffer.getvalue())
            return
        if self.rows:
            with connection.cursor() as cursor:
                marks = ", ".join("%s" for _ in range(10))
                cursor.executemany(f"INSERT INTO {_STAGE} ({_STAGE_COLUMNS}) VALUES ({marks})", self.rows)
        self.rows = []

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        try:
            if error is None:
                self._flush()
        finally:
            if self.postgres:
                with connection.wrap_database_errors:
                    self._copy_context.__exit__(kind, error, trace)
                    self._cursor.close()


def _classify(context: _Context, report: RegistryReport) -> None:
    """Each staged line's fate, in one statement over the whole file: failed (a value that is
    wrong, an account the supplier does not have, a reference posted before with other data),
    a repeat of a payment posted before (by an earlier file, or an earlier line of this one) or
    to be posted. Fills the report's counts and problems."""
    t = context.t
    postgres = connection.vendor == "postgresql"
    accounts, lines, files = table(PersonalAccount), table(RegistryLine), table(RegistryFile)
    unknown = t(gettext_noop("лицевого счёта {number} нет у поставщика %(supplier)s")) % {
        "supplier": context.supplier.code
    }
    repeat_file = t(gettext_noop("повтор: платёж {reference} уже проведён (файл {file}, строка {line})"))
    repeat_here = t(gettext_noop("повтор: платёж {reference} уже проведён (строка {line} этого файла)"))
    other_file = t(
        gettext_noop(
            "номер операции {reference} уже проведён с другими данными (файл {file}, строка {line}: "
            "лицевой счёт {account}, {amount} ₽)"
        )
    )
    other_here = t(
        gettext_noop(
            "номер операции {reference} уже проведён с другими данными (строка {line} этого файла: "
            "лицевой счёт {account}, {amount} ₽)"
        )
    )

    def rubles(kopecks: str) -> str:  # 1250,50
        number = (
            f"to_char({kopecks} / 100.0, 'FM999999999990.00')" if postgres else f"printf('%%.2f', {kopecks} / 100.0)"
        )
        return f"replace({number}, '.', ',')"

    def fill(template: str, file: str, line: str, account: str, kopecks: str) -> str:
        return (
            f"replace(replace(replace(replace(replace({template}, '{{file}}', {file}), '{{line}}', "
            f"CAST({line} AS TEXT)), '{{account}}', {account}), '{{amount}}', {rubles(kopecks)}), "
            "'{reference}', f.reference)"
        )

    # the first valid line of each reference in the file is the one that may be posted
    window = (
        "WINDOW w AS (PARTITION BY reference ORDER BY CASE WHEN account_id IS NULL THEN 1 ELSE 0 END, line_no "
        "ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)"
    )
    same_before = "p.account_number = f.account_number AND round(p.amount * 100) = f.kopecks"
    same_first = "f.first_account = f.account_number AND f.first_kopecks = f.kopecks"
    sql = f"""
        CREATE TEMP TABLE {_CLASSIFIED} {"ON COMMIT DROP" if postgres else ""} AS
        WITH s AS (
            SELECT s.*, a.id AS account_id
            FROM {_STAGE} s LEFT JOIN {accounts} a
                ON s.error = '' AND a.supplier_id = %s AND a.number = s.account_number
        ), f AS (
            SELECT s.*, first_value(line_no) OVER w AS first_line, first_value(account_number) OVER w AS first_account,
                first_value(kopecks) OVER w AS first_kopecks
            FROM s {window}
        )
        SELECT f.line_no, f.account_number, f.reference, f.payer, f.paid_at, f.posted_on, f.month, f.kopecks,
            f.period, f.account_id,
            CASE
                WHEN f.error <> '' OR f.account_id IS NULL THEN 'failed'
                WHEN p.id IS NOT NULL THEN CASE WHEN {same_before} THEN 'duplicate' ELSE 'failed' END
                WHEN f.first_line <> f.line_no THEN CASE WHEN {same_first} THEN 'duplicate' ELSE 'failed' END
                ELSE 'posted'
            END AS status,
            CASE
                WHEN f.error <> '' THEN f.error
                WHEN f.account_id IS NULL THEN replace(%s, '{{number}}', f.account_number)
                WHEN p.id IS NOT NULL THEN CASE WHEN {same_before}
                    THEN {fill("%s", "pf.name", "p.line_no", "p.account_number", "round(p.amount * 100)")}
                    ELSE {fill("%s", "pf.name", "p.line_no", "p.account_number", "round(p.amount * 100)")} END
                WHEN f.first_line <> f.line_no THEN CASE WHEN {same_first}
                    THEN {fill("%s", "''", "f.first_line", "f.first_account", "f.first_kopecks")}
                    ELSE {fill("%s", "''", "f.first_line", "f.first_account", "f.first_kopecks")} END
                ELSE ''
            END AS error
        FROM f
        LEFT JOIN {lines} p ON f.account_id IS NOT NULL AND p.source = %s AND p.reference = f.reference
            AND p.status = 'posted'
        LEFT JOIN {files} pf ON pf.id = p.file_id
    """
    params: list[Any] = [context.supplier.pk, unknown, repeat_file, other_file, repeat_here, other_here, context.source]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        cursor.execute(f"SELECT status, count(*), sum(kopecks) FROM {_CLASSIFIED} GROUP BY status")
        for status, count, kopecks in cursor.fetchall():
            if status == Status.POSTED:
                report.posted = count
                report.amount_posted = (Decimal(int(kopecks or 0)) / 100).quantize(KOPECK)
            elif status == Status.DUPLICATE:
                report.duplicates = count
            else:
                report.failed = count
        cursor.execute(
            f"SELECT line_no, status, error FROM {_CLASSIFIED} WHERE status <> 'posted' ORDER BY line_no LIMIT %s",
            [PROBLEMS_KEPT],
        )
        report.problems = [Problem(line, status, error) for line, status, error in cursor.fetchall()]


def _write(context: _Context, registry: RegistryFile, *, now: dt.datetime) -> None:
    """The classified lines stored as the file's lines, the posted ones posted to the ledger."""
    amount = "CAST(kopecks AS NUMERIC) / 100.0"
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table(RegistryLine)} (file_id, line_no, source, reference, account_id, account_number, "
            "paid_at, amount, period, payer, status, error) "
            f"SELECT %s, line_no, %s, reference, account_id, account_number, paid_at, {amount}, period, payer, "
            f"status, error FROM {_CLASSIFIED}",
            [registry.pk, context.source],
        )
    note = context.t(gettext_noop("Оплата: %(channel)s")) % {"channel": Channel(context.channel).label}
    entries_post_select(
        select=(
            f"SELECT account_id, %s, %s, COALESCE(period, month), month, -({amount}), CAST(NULL AS NUMERIC), posted_on, "
            f"%s || reference, period, %s FROM {_CLASSIFIED} WHERE status = 'posted'"
        ),
        params=[Service.GAS, EntryKind.PAYMENT, f"registry:{context.source}:", note],
        now=now,
    )
