"""Use cases of meter readings: a subscriber submits (and corrects) readings in the
supplier's window, an operator enters one on a subscriber's behalf, reviews readings that
look wrong and rejects one with a reason, imports a file of readings.

Which period a reading counts for (ПП РФ №549 п.21, DESIGN.md §5): a reading taken on a
day of month M up to the last day of M's window counts for M, after it for M+1; the days are
the supplier's local days. A period has at most one reading that stands; a new one for the
same period supersedes it (a correction) and both stay in the history.

Every reading is recorded with its meter's row locked, so two submissions for one meter at
the same moment are put in an order: the second sees the first. The same submission sent
twice stores one reading: a client's submission key that was seen before answers with the
reading it made, and a value equal to the one standing for the period changes nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import enum
import hashlib
import io
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from abonent.core.audit import audit_record
from abonent.core.errors import DomainError, NotFound, ValidationFailed
from abonent.core.models import Supplier, SupplierTerms
from abonent.core.money import format_number
from abonent.core.periods import Period
from abonent.core.selectors import supplier_local_date, supplier_terms_on
from abonent.core.text import NotText, text_decode
from abonent.customers.enums import AccountStatus
from abonent.customers.models import AccountLink, PersonalAccount
from abonent.customers.services import account_number_normalize
from abonent.identity.models import User
from abonent.metering.enums import MeterStatus, ReadingChannel, ReadingStatus, ReviewReason
from abonent.metering.models import STANDING, Meter, Reading

#: A reading is looked at by an operator when the month's consumption is above this many
#: times the meter's average month over the last year, and above ``HIGH_FLOOR`` m³.
HIGH_FACTOR = Decimal(3)
HIGH_FLOOR = Decimal(50)
#: … when this many readings in a row (this one included) show no consumption.
ZERO_STREAK = 3
#: Readings of a meter the review looks back on (a year and the one before it).
HISTORY = 13
REASON_MIN_LENGTH = 5
REASON_MAX_LENGTH = 500
KEY_MAX_LENGTH = 64
IMPORT_MAX_LINES = 50_000
ID_MAX = 2**63 - 1
IMPORT_MAX_BYTES = 10 * 2**20

_VALUE_RE = re.compile(r"^(\d+)(?:[.,](\d+))?$", re.ASCII)
_SPACES = re.compile(r"[\s\u00a0\u202f]+")


# --- Errors ---------------------------------------------------------------------------


class MeterNotFound(NotFound):
    code = "meter_not_found"
    message = _("Счётчик не найден на этом лицевом счёте")


class ReadingNotFound(NotFound):
    code = "reading_not_found"
    message = _("Показание не найдено")


class ReadingInvalid(DomainError):
    """A reading that breaks a rule of its meter or of the supplier (HTTP 422)."""

    code = "reading_invalid"
    message = _("Показание не принято")


class ReadingNotANumber(ReadingInvalid):
    code = "reading_not_a_number"
    message = _("Введите показание цифрами, например 1234 или 1234,567")


class ReadingNegative(ReadingInvalid):
    code = "reading_negative"
    message = _("Показание не может быть отрицательным: введите число со счётчика без знака «минус»")


class ReadingTooManyDigits(ReadingInvalid):
    code = "reading_too_many_digits"
    message = _("У этого счётчика {digits} цифр до запятой: показание не может быть больше {largest}")


class ReadingTooManyDecimals(ReadingInvalid):
    code = "reading_too_many_decimals"
    message = _("Для этого счётчика укажите не больше {decimals} знаков после запятой")


class ReadingNotWhole(ReadingTooManyDecimals):
    code = "reading_too_many_decimals"
    message = _("Для этого счётчика укажите только целые кубометры, без цифр после запятой")


class ReadingBelowPrevious(ReadingInvalid):
    code = "reading_below_previous"
    message = _(
        "Показание меньше предыдущего ({previous} м³ за {period}). Проверьте цифры до запятой; "
        "если счётчик заменён или обнулился, сообщите поставщику"
    )


class ReadingBelowInitial(ReadingBelowPrevious):
    message = _(
        "Показание меньше того, что счётчик показывал при установке ({previous} м³). Проверьте цифры до запятой; "
        "если счётчик заменён, сообщите поставщику"
    )


class ReadingAboveNext(ReadingInvalid):
    code = "reading_above_next"
    message = _("Показание больше следующего, уже принятого ({next} м³ за {period})")


class ReadingTooHigh(ReadingInvalid):
    code = "reading_too_high"
    message = _(
        "Расход {consumption} м³ больше допустимого: не более {largest} м³ с предыдущего показания. "
        "Проверьте, нет ли лишней цифры"
    )


class ReadingZeroConsumption(ReadingInvalid):
    code = "reading_zero_consumption"
    message = _(
        "Показание равно предыдущему ({previous} м³), а поставщик не принимает нулевой расход. "
        "Если газом не пользовались, сообщите об этом поставщику"
    )


class ReadingDateInvalid(ReadingInvalid):
    code = "reading_date_invalid"
    message = _("Дата показания не может быть позже сегодняшней и раньше установки счётчика ({installed})")


class SubmissionKeyReused(ReadingInvalid):
    code = "submission_key_reused"
    message = _("Этот ключ передачи уже использован для другого показания; для новой передачи нужен новый ключ")


class MeterNotInService(DomainError):
    code = "meter_not_in_service"
    message = _("Счётчик № {serial} {state}: показания по нему не принимаются. Обратитесь к поставщику")


class AccountClosedForReadings(DomainError):
    code = "account_closed"
    message = _("Лицевой счёт {number} закрыт: показания по нему не принимаются")


class ReadingsNotAccepted(DomainError):
    code = "readings_not_accepted"
    message = _("Поставщик «{supplier}» не принимает показания через личный кабинет")


class ReadingNotStanding(DomainError):
    code = "reading_not_standing"
    message = _("Показание уже заменено исправленным или отклонено: решение по нему не требуется")


class ReadingAlreadyReviewed(DomainError):
    code = "reading_already_reviewed"
    message = _("Показание уже проверено: {who}, {at}")


class RejectionReasonTooLong(DomainError):
    code = "rejection_reason_too_long"
    message = _("Причина отклонения — не длиннее {max} символов")


class ReadingsInvalid(ValidationFailed):
    """Values of a form that cannot be read as readings of their meters; ``by_meter``
    holds each meter's error."""

    code = "readings_invalid"
    message = _("Исправьте показания, отмеченные в errors")

    def __init__(self, by_meter: dict[int, ReadingInvalid]) -> None:
        super().__init__({f"readings.{meter_id}.value": [exc.text] for meter_id, exc in by_meter.items()})
        self.by_meter = by_meter


class RejectionReasonRequired(DomainError):
    code = "rejection_reason_required"
    message = _("Напишите причину, по которой показание отклонено: её увидит абонент")


# --- Values ---------------------------------------------------------------------------


def reading_value_parse(*, meter: Meter, text: str | Decimal | int) -> Decimal:
    """The value of a reading written by a person: digits (spaces between them are
    ignored) with a comma or a dot before the decimals, within the meter's digits and
    decimals. Raises the ``ReadingInvalid`` that says what to fix."""
    if isinstance(text, bool) or not isinstance(text, (str, Decimal, int)):
        raise ReadingNotANumber(field="value")
    cleaned = _SPACES.sub("", str(text))
    if cleaned.startswith("-") and _VALUE_RE.match(cleaned[1:]):
        raise ReadingNegative(field="value")
    match = _VALUE_RE.match(cleaned)  # linear in the length: no backtracking
    if match is None:
        raise ReadingNotANumber(field="value")
    whole, decimals = match[1], (match[2] or "").rstrip("0")
    if len(whole.lstrip("0")) > meter.digits:
        raise ReadingTooManyDigits(field="value", digits=meter.digits, largest=_largest(meter))
    if len(decimals) > meter.decimals:
        if meter.decimals == 0:
            raise ReadingNotWhole(field="value")
        raise ReadingTooManyDecimals(field="value", decimals=meter.decimals)
    return Decimal(f"{whole}.{decimals or 0}")


def _largest(meter: Meter) -> str:
    nines = "9" * meter.digits
    return f"{nines},{'9' * meter.decimals}" if meter.decimals else nines


def _m3(value: Decimal) -> str:
    """«1 234,5» — a volume the Russian way, with no trailing zeros."""
    return format_number(value)


# --- The period of a reading ----------------------------------------------------------


def reading_period(*, terms: SupplierTerms, day: dt.date) -> Period:
    """The period a reading taken on the supplier's local ``day`` counts for: that month's
    up to the last day of its window, the next one after it."""
    month = Period.of(day)
    return month if day <= month.day(terms.reading_window_end_day) else month.next()


# --- Recording one reading ------------------------------------------------------------


@dataclass(frozen=True)
class Recorded:
    """What became of a submission: the reading that stands for it (``created`` is False
    when the same submission had been recorded before) and the one it corrected."""

    reading: Reading
    created: bool
    replaced: Reading | None = None

    @property
    def used_for_billing(self) -> bool:
        """The reading stands and counts for billing (False when it is kept but not used
        because the meter's verification has expired, and for a repeat of a submission
        whose reading has since been corrected or rejected)."""
        return self.reading.status == ReadingStatus.ACCEPTED


@dataclass(frozen=True)
class _Entry:
    meter_id: int
    value: str | Decimal | int  # as written: parsed by the rules of the meter once it is locked
    read_on: dt.date
    channel: str
    key: str | None
    user_id: int | None
    operator_name: str = ""
    ip: str | None = None
    checks_next: bool = False  # a reading entered for an earlier period must not exceed a later one


def _record(entry: _Entry, *, now: dt.datetime, account_id: int | None = None) -> Recorded:
    """Record one reading with its meter locked. Raises MeterNotFound, MeterNotInService,
    ReadingsNotAccepted (subscribers' channels only), ReadingInvalid."""
    meters = Meter.objects.select_for_update(of=("self",)).select_related("account__supplier")
    if account_id is not None:
        meters = meters.filter(account_id=account_id)
    meter = meters.filter(pk=entry.meter_id).first() if id_valid(entry.meter_id) else None
    if meter is None:
        raise MeterNotFound(field="meter")
    value = reading_value_parse(meter=meter, text=entry.value)
    supplier = meter.account.supplier
    terms = supplier_terms_on(supplier=supplier, day=entry.read_on)
    if entry.channel in (ReadingChannel.WEB, ReadingChannel.APP) and not terms.readings_allowed:
        raise ReadingsNotAccepted(supplier=supplier.short_name)
    if meter.account.status == AccountStatus.CLOSED:
        raise AccountClosedForReadings(number=meter.account.number)
    if meter.status != MeterStatus.ACTIVE:
        raise MeterNotInService(serial=meter.serial, state=MeterStatus(meter.status).label)
    if not meter.installed_on <= entry.read_on <= supplier_local_date(supplier=supplier, now=now):
        raise ReadingDateInvalid(field="date", installed=f"{meter.installed_on:%d.%m.%Y}")
    period = reading_period(terms=terms, day=entry.read_on)

    if entry.key is not None:
        seen = meter.readings.filter(submission_key=entry.key).first()
        if seen is not None:
            if seen.value != value:
                raise SubmissionKeyReused(field="value")
            return Recorded(reading=seen, created=False)

    standing = list(meter.readings.filter(status__in=STANDING, period__lte=period).order_by("-period")[: HISTORY + 1])
    current = standing[0] if standing and standing[0].period == period else None
    if current is not None and current.value == value:
        return Recorded(reading=current, created=False)
    history = standing[1:] if current is not None else standing
    previous = history[0] if history else None

    capacity = Decimal(10) ** meter.digits
    base = previous.value if previous is not None else meter.initial_value
    base_period = previous.period if previous is not None else Period.of(meter.installed_on)
    months = max(period.months_since(base_period), 1)
    consumption = value - base
    review = ""
    if consumption < 0:
        if not terms.rollover_allowed:
            if previous is None:
                raise ReadingBelowInitial(field="value", previous=_m3(base))
            raise ReadingBelowPrevious(field="value", previous=_m3(base), period=base_period.label())
        consumption += capacity
        review = ReviewReason.DROP
    largest = terms.max_monthly_consumption * months
    if consumption > largest:
        raise ReadingTooHigh(field="value", consumption=_m3(consumption), largest=_m3(largest))
    if consumption == 0 and not terms.zero_consumption_allowed:
        raise ReadingZeroConsumption(field="value", previous=_m3(base))
    if entry.checks_next:
        later = meter.readings.filter(status__in=STANDING, period__gt=period).order_by("period").first()
        if later is not None and later.value < value and not terms.rollover_allowed:
            raise ReadingAboveNext(field="value", next=_m3(later.value), period=later.period.label())
    if not review:
        review = _review(history, consumption=consumption, months=months)

    status = ReadingStatus.ACCEPTED if entry.read_on <= meter.verification_due_on else ReadingStatus.NOT_FOR_BILLING
    if current is not None:
        current.status = ReadingStatus.SUPERSEDED
        current.save(update_fields=["status"])
    reading = Reading.objects.create(
        meter=meter,
        period=period,
        value=value,
        consumption=consumption,
        read_on=entry.read_on,
        submitted_at=now,
        channel=entry.channel,
        submitted_by_id=entry.user_id,
        operator_name=entry.operator_name,
        status=status,
        submission_key=entry.key or uuid.uuid4().hex,
        replaces=current,
        review=review,
    )
    audit_record(
        at=now,
        actor_id=entry.user_id,
        channel=entry.channel,
        action="reading_correct" if current is not None else "reading_submit",
        object_type="reading",
        object_id=reading.pk,
        before={"reading": current.pk, "value": str(current.value)} if current is not None else None,
        after={
            "account": meter.account.number,
            "meter": meter.serial,
            "period": str(period),
            "value": str(value),
            "status": status.value,
        },
        ip=entry.ip,
    )
    return Recorded(reading=reading, created=True, replaced=current)


def _review(history: list[Reading], *, consumption: Decimal, months: int) -> str:
    """Whether an accepted reading looks wrong enough for an operator to look at."""
    if consumption == 0:
        streak = 1
        for earlier in history:
            if earlier.consumption != 0:
                break
            streak += 1
        if streak >= ZERO_STREAK:
            return ReviewReason.ZERO
        return ""
    if len(history) >= 4:
        newest, oldest = history[0], history[-1]
        span = newest.period.months_since(oldest.period)
        used = newest.value - oldest.value
        if span > 0 and used >= 0:
            average = used / span
            if consumption / months > max(average * HIGH_FACTOR, HIGH_FLOOR):
                return ReviewReason.HIGH
    return ""


def _key(raw: str | None) -> str | None:
    """A client's submission key, stored as given when it fits, else as its digest."""
    if raw is None:
        return None
    raw = raw.strip()
    if not raw:
        return None
    return raw if len(raw) <= KEY_MAX_LENGTH else hashlib.sha256(raw.encode()).hexdigest()


# --- Subscribers ----------------------------------------------------------------------


def reading_submit(
    *,
    link: AccountLink,
    meter_id: int,
    value: str | Decimal | int,
    channel: str,
    submission_key: str | None,
    now: dt.datetime,
    ip: str | None = None,
) -> Recorded:
    """A subscriber's reading of one meter of their linked account, for the period it
    counts for now (correcting the one sent before for that period).

    Raises MeterNotFound (not this account's meter), MeterNotInService, ReadingsNotAccepted,
    ReadingInvalid and its subclasses (what is wrong with the value)."""
    today = supplier_local_date(supplier=link.account.supplier, now=now)
    entry = _Entry(meter_id, value, today, channel, _key(submission_key), link.user_id, ip=ip)
    with transaction.atomic():
        return _record(entry, now=now, account_id=link.account_id)


@dataclass(frozen=True)
class MeterOutcome:
    """The result of one meter of a form: recorded, or refused with the error."""

    meter_id: int
    recorded: Recorded | None = None
    error: DomainError | None = None


def readings_submit(
    *,
    link: AccountLink,
    values: dict[int, str],
    channel: str,
    submission_key: str | None,
    now: dt.datetime,
    ip: str | None = None,
) -> list[MeterOutcome]:
    """A subscriber's readings of several meters of one account at once (a meter with an
    empty value is left out), each recorded or refused on its own.

    Nothing is stored when a meter is not this account's (MeterNotFound) or a value cannot
    be read as a reading of its meter (ReadingsInvalid, with an error per meter):
    those are mistakes in the request, not in the readings."""
    values = {meter_id: text for meter_id, text in values.items() if not (isinstance(text, str) and not text.strip())}
    if not values:
        raise ValidationFailed({"readings": [str(_("Введите показание хотя бы одного счётчика"))]})
    wanted = [meter_id for meter_id in values if id_valid(meter_id)]
    meters = {m.pk: m for m in Meter.objects.filter(account_id=link.account_id, pk__in=wanted)}
    if missing := [meter_id for meter_id in values if meter_id not in meters]:
        raise MeterNotFound(field=f"readings.{missing[0]}.meter_id")
    parsed: dict[int, Decimal] = {}
    errors: dict[int, ReadingInvalid] = {}
    for meter_id, text in values.items():
        try:
            parsed[meter_id] = reading_value_parse(meter=meters[meter_id], text=text)
        except ReadingInvalid as exc:
            errors[meter_id] = exc
    if errors:
        raise ReadingsInvalid(errors)
    today = supplier_local_date(supplier=link.account.supplier, now=now)
    key = _key(submission_key)
    outcomes = []
    for meter_id, value in parsed.items():
        meter_key = _key(f"{key}:{meter_id}") if key is not None else None
        entry = _Entry(meter_id, value, today, channel, meter_key, link.user_id, ip=ip)
        try:
            with transaction.atomic():
                outcomes.append(MeterOutcome(meter_id, recorded=_record(entry, now=now, account_id=link.account_id)))
        except DomainError as exc:
            outcomes.append(MeterOutcome(meter_id, error=exc))
    return outcomes


def id_valid(value: int) -> bool:
    """Whether ``value`` can be a row's id at all (a bigger number is not found, not an error)."""
    return 1 <= value <= ID_MAX


# --- Operators ------------------------------------------------------------------------


def operator_name(user: User) -> str:
    return user.get_full_name().strip() or user.get_username()


def reading_enter_by_operator(
    *,
    operator: User,
    meter_id: int,
    value: str | Decimal | int,
    read_on: dt.date,
    now: dt.datetime,
    ip: str | None = None,
) -> Recorded:
    """A reading an operator takes from a subscriber (by phone, at the office), recorded
    with the operator's name, for the period its date counts for. The same rules as for a
    subscriber, except that the supplier's switch for the portal does not apply.

    Raises MeterNotFound, MeterNotInService, ReadingInvalid (ReadingDateInvalid for a date
    in the future or before the meter was installed)."""
    entry = _Entry(
        meter_id,
        value,
        read_on,
        ReadingChannel.OPERATOR,
        None,
        operator.pk,
        operator_name=operator_name(operator),
        ip=ip,
        checks_next=True,
    )
    with transaction.atomic():
        return _record(entry, now=now)


def _standing_locked(reading_id: int) -> Reading:
    reading = Reading.objects.select_for_update().filter(pk=reading_id).first() if id_valid(reading_id) else None
    if reading is None:
        raise ReadingNotFound()
    if reading.status not in STANDING:
        raise ReadingNotStanding()
    return reading


def reading_reject(*, operator: User, reading_id: int, reason: str, now: dt.datetime, ip: str | None = None) -> Reading:
    """An operator rejects a reading that stands, saying why; the subscriber sees the
    reason in the meter's history and the period is left with no reading.

    Raises ReadingNotFound, ReadingNotStanding, RejectionReasonRequired, RejectionReasonTooLong."""
    reason = " ".join(reason.split())
    if len(reason) < REASON_MIN_LENGTH:
        raise RejectionReasonRequired(field="reason")
    if len(reason) > REASON_MAX_LENGTH:
        raise RejectionReasonTooLong(field="reason", max=REASON_MAX_LENGTH)
    with transaction.atomic():
        reading = _standing_locked(reading_id)
        before = reading.status
        reading.status = ReadingStatus.REJECTED
        reading.rejection_reason = reason
        reading.reviewed_at, reading.reviewed_by = now, operator
        reading.save(update_fields=["status", "rejection_reason", "reviewed_at", "reviewed_by"])
        audit_record(
            at=now,
            actor_id=operator.pk,
            channel="backoffice",
            action="reading_reject",
            object_type="reading",
            object_id=reading.pk,
            before={"status": before},
            after={"status": reading.status, "reason": reading.rejection_reason},
            ip=ip,
        )
    return reading


def reading_review_confirm(*, operator: User, reading_id: int, now: dt.datetime, ip: str | None = None) -> Reading:
    """An operator has looked at a flagged reading and lets it stand.

    Raises ReadingNotFound, ReadingNotStanding, ReadingAlreadyReviewed."""
    with transaction.atomic():
        reading = _standing_locked(reading_id)
        if reading.reviewed_at is not None:
            raise ReadingAlreadyReviewed(
                who=operator_name(reading.reviewed_by) if reading.reviewed_by else "—",
                at=f"{reading.reviewed_at:%d.%m.%Y %H:%M} UTC",
            )
        reading.reviewed_at, reading.reviewed_by = now, operator
        reading.save(update_fields=["reviewed_at", "reviewed_by"])
        audit_record(
            at=now,
            actor_id=operator.pk,
            channel="backoffice",
            action="reading_review_confirm",
            object_type="reading",
            object_id=reading.pk,
            after={"review": reading.review},
            ip=ip,
        )
    return reading


# --- Import ---------------------------------------------------------------------------


class ImportMode(enum.StrEnum):
    WHOLE = "whole"  # the file is applied only if every line is valid
    VALID_LINES = "valid_lines"  # the valid lines are applied, the others reported


class LineOutcome(enum.StrEnum):
    RECORDED = "recorded"
    UNCHANGED = "unchanged"  # already on record (the same file again)
    ERROR = "error"


@dataclass(frozen=True)
class ImportLine:
    number: int  # the line of the file, the header being line 1
    outcome: LineOutcome
    message: str = ""
    reading: Reading | None = None


@dataclass
class ImportReport:
    lines: list[ImportLine] = field(default_factory=list)
    applied: bool = False
    dry_run: bool = False

    def count(self, outcome: LineOutcome) -> int:
        return sum(1 for line in self.lines if line.outcome == outcome)

    @property
    def errors(self) -> list[ImportLine]:
        return [line for line in self.lines if line.outcome == LineOutcome.ERROR]


class ImportFileInvalid(ValidationFailed):
    """A file that cannot be read as readings at all; the message says why."""

    code = "import_file_invalid"
    message = _("Файл не может быть загружен")

    def __init__(self, text: str | Promise) -> None:
        super().__init__({"file": [str(text)]}, message=text)


_COLUMNS: dict[str, tuple[str, ...]] = {
    "supplier": ("supplier", "поставщик", "код поставщика"),
    "account": ("account", "лицевой счёт", "лицевой счет", "лс", "номер лицевого счёта", "номер лицевого счета"),
    "serial": ("serial", "meter", "заводской номер", "номер счётчика", "номер счетчика", "счётчик", "счетчик"),
    "value": ("value", "показание", "показания"),
    "date": ("date", "дата", "дата показания"),
}
_DATE_RU = re.compile(r"^(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4})$", re.ASCII)
_DATE_ISO = re.compile(r"^(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})$", re.ASCII)


class _Rollback(Exception):
    pass


def _decode(content: bytes) -> str:
    try:
        return text_decode(content)
    except NotText:
        raise ImportFileInvalid(
            _(
                "Файл не читается как текст CSV в кодировке UTF-8, UTF-16 или Windows-1251: сохраните его из таблицы как CSV"
            )
        ) from None


def _columns(header: list[str]) -> dict[str, int]:
    names = [" ".join(h.strip().lower().replace("ё", "е").split()) for h in header]
    found: dict[str, int] = {}
    for column, spellings in _COLUMNS.items():
        for index, name in enumerate(names):
            if name in {s.replace("ё", "е") for s in spellings}:
                found[column] = index
                break
    missing = [column for column in _COLUMNS if column not in found]
    if missing:
        raise ImportFileInvalid(
            _(
                "В первой строке нет столбцов: %(missing)s. Нужны столбцы supplier, account, serial, "
                "value, date (или поставщик, лицевой счёт, заводской номер, показание, дата)"
            )
            % {"missing": ", ".join(missing)}
        )
    return found


def _rows(content: bytes) -> list[tuple[int, list[str]]]:
    """The file's rows that are not blank, with their line numbers. Raises ImportFileInvalid."""
    text = _decode(content)
    first = text.split("\n", 1)[0]
    delimiter = max(";,\t", key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return [(reader.line_num, row) for row in reader if any(cell.strip() for cell in row)]
    except csv.Error as exc:
        raise ImportFileInvalid(
            _("Строка %(line)s не читается как CSV (%(error)s): проверьте кавычки")
            % {"line": reader.line_num, "error": exc}
        ) from None


def _line_error(number: int, message: str | Promise) -> ImportLine:
    return ImportLine(number, LineOutcome.ERROR, str(message))


def readings_import(
    *,
    operator: User,
    content: bytes,
    mode: ImportMode,
    dry_run: bool,
    now: dt.datetime,
    file_name: str = "",
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Readings from a CSV file with the columns supplier, account, serial, value, date
    (UTF-8 or Windows-1251; separated by ``;``, ``,`` or tabs; dates as 05.11.2026 or
    2026-11-05). Every line is checked by the rules of a reading entered by an operator,
    in the order of the file. A dry run applies nothing; otherwise in mode WHOLE the file is
    applied only when every line is valid, in mode VALID_LINES the valid lines are applied —
    either way in one transaction, never half. The same file imported again records nothing
    new. ``progress(done, total)`` is called after each line. Raises ImportFileInvalid (no
    header, missing columns, no lines, not text, broken quoting, too long)."""
    if len(content) > IMPORT_MAX_BYTES:
        raise ImportFileInvalid(_("Файл больше %(mb)s МБ: разделите его") % {"mb": IMPORT_MAX_BYTES // 2**20})
    rows = _rows(content)
    if not rows:
        raise ImportFileInvalid(_("Файл пуст"))
    columns = _columns(rows[0][1])
    lines = rows[1:]
    if not lines:
        raise ImportFileInvalid(_("В файле нет строк с показаниями: только заголовок"))
    if len(lines) > IMPORT_MAX_LINES:
        raise ImportFileInvalid(_("В файле больше %(max)s строк: разделите его") % {"max": IMPORT_MAX_LINES})
    digest = hashlib.sha256(content).hexdigest()
    report = ImportReport(dry_run=dry_run)
    seen: dict[tuple[int, Period], int] = {}
    suppliers: dict[str, Supplier | None] = {}
    try:
        with transaction.atomic():
            for done, (number, row) in enumerate(lines, start=1):
                report.lines.append(_import_line(number, row, columns, operator, digest, now, seen, suppliers))
                if progress is not None:
                    progress(done, len(lines))
            wanted = not dry_run and (mode == ImportMode.VALID_LINES or not report.errors)
            if not wanted:
                raise _Rollback()
            report.applied = True
            audit_record(
                at=now,
                actor_id=operator.pk,
                channel="backoffice",
                action="readings_import",
                object_type="file",
                object_id=digest[:16],
                after={
                    "file": file_name,
                    "mode": mode.value,
                    "recorded": report.count(LineOutcome.RECORDED),
                    "unchanged": report.count(LineOutcome.UNCHANGED),
                    "errors": len(report.errors),
                },
            )
    except _Rollback:
        pass
    return report


def _import_line(
    number: int,
    row: list[str],
    columns: dict[str, int],
    operator: User,
    digest: str,
    now: dt.datetime,
    seen: dict[tuple[int, Period], int],
    suppliers: dict[str, Supplier | None],
) -> ImportLine:
    cells = {name: (row[index].strip() if index < len(row) else "") for name, index in columns.items()}
    if not all(cells.values()):
        empty = ", ".join(name for name, value in cells.items() if not value)
        return _line_error(number, _("Не заполнено: %(columns)s") % {"columns": empty})
    code = cells["supplier"]
    if code not in suppliers:
        suppliers[code] = Supplier.objects.filter(code=code).first()
    supplier = suppliers[code]
    if supplier is None:
        return _line_error(number, _("Поставщик «%(code)s» не найден") % {"code": code})
    account = PersonalAccount.objects.filter(
        supplier=supplier, number=account_number_normalize(cells["account"])
    ).first()
    if account is None:
        return _line_error(number, _("Лицевой счёт %(number)s не найден у поставщика") % {"number": cells["account"]})
    meter = Meter.objects.filter(account=account, serial=cells["serial"]).first()
    if meter is None:
        return _line_error(
            number,
            _("На счёте %(account)s нет счётчика № %(serial)s")
            % {"account": account.number, "serial": cells["serial"]},
        )
    read_on = _date(cells["date"])
    if read_on is None:
        return _line_error(
            number, _("Дата «%(date)s» не распознана: пишите 05.11.2026 или 2026-11-05") % {"date": cells["date"]}
        )
    try:
        value = reading_value_parse(meter=meter, text=cells["value"])
        period = reading_period(terms=supplier_terms_on(supplier=supplier, day=read_on), day=read_on)
        if (meter.pk, period) in seen:
            return _line_error(
                number,
                _("В файле уже есть показание этого счётчика за %(period)s (строка %(line)s)")
                % {"period": period.label(), "line": seen[(meter.pk, period)]},
            )
        seen[(meter.pk, period)] = number
        key = hashlib.sha256(f"{digest}:{number}".encode()).hexdigest()
        entry = _Entry(
            meter.pk,
            value,
            read_on,
            ReadingChannel.IMPORT,
            key,
            operator.pk,
            operator_name=operator_name(operator),
            checks_next=True,
        )
        with transaction.atomic():
            recorded = _record(entry, now=now)
    except DomainError as exc:
        return _line_error(number, exc.text)
    outcome = LineOutcome.RECORDED if recorded.created else LineOutcome.UNCHANGED
    return ImportLine(number, outcome, reading=recorded.reading)


def _date(text: str) -> dt.date | None:
    """05.11.2026 or 2026-11-05."""
    match = _DATE_RU.match(text) or _DATE_ISO.match(text)
    if match is None:
        return None
    day, month, year = (match["d"], match["m"], match["y"])
    try:
        return dt.date(int(year), int(month), int(day))
    except ValueError:
        return None
