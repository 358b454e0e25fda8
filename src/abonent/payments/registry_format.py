"""Bank registries of payments (реестр платежей): their formats and reading their lines.

A registry is text, one payment per line, fields separated by a character; the last line sums
the file up (``=количество;сумма``). Banks and payment agents differ in the order of the
fields, the separator, the encoding and a header: a *profile* names those. The built-in
``default`` is the common one::

    05.11.2026;14:23:05;500000000017;1250,50;10.2026;Иванова Мария Петровна;8800123456
    =1;1250,50

date (ДД.ММ.ГГГГ, ДД-ММ-ГГГГ or ГГГГ-ММ-ДД); time (ЧЧ:ММ:СС, ЧЧ-ММ-СС or ЧЧ:ММ); the personal
account; the amount in rubles (a comma or a point before the kopecks); the period paid for
(ММ.ГГГГ, ММГГГГ, ММ/ГГГГ, ГГГГ-ММ or empty); the payer; the bank's number of the operation,
unique within the bank, by which a payment sent again in another file is recognised.

More profiles come from the setting PAYMENT_REGISTRY_PROFILES (JSON), e.g.
``{"agent": {"columns": ["reference", "date", "account", "", "amount"], "delimiter": ",",
"header_lines": 1, "channel": "agent"}}`` — an empty column name skips that field.

This module only reads text; what a line means for an account is the import's business
(``abonent.payments.registries``).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TextIO

from django.conf import settings
from django.utils.translation import gettext, gettext_noop

from abonent.core.periods import Period, PeriodFormatError
from abonent.payments.enums import Channel

FIELDS = ("date", "time", "account", "amount", "period", "payer", "reference")
REQUIRED = ("date", "account", "amount", "reference")
REFERENCE_MAX = 64
PAYER_MAX = 200
ACCOUNT_DIGITS = 12
KOPECK = Decimal("0.01")
SUMMARY_LIMIT = Decimal(10) ** 14  # RegistryFile.summary_amount: 16 digits, 2 of them kopecks


class ProfileError(ValueError):
    """A profile that cannot be used; the message says what to fix."""


@dataclass(frozen=True)
class RegistryProfile:
    name: str
    columns: tuple[str, ...] = FIELDS  # the fields in the order of the file; "" skips one
    delimiter: str = ";"
    encoding: str = ""  # "": UTF-8 (with or without a BOM) or Windows-1251, whichever the file is in
    header_lines: int = 0  # lines at the top that are not payments
    summary: bool = True  # the file ends with «=количество;сумма»
    summary_prefix: str = "="
    channel: str = Channel.BANK

    def __post_init__(self) -> None:
        unknown = [c for c in self.columns if c and c not in FIELDS]
        if unknown:
            raise ProfileError(f"{self.name}: unknown columns {unknown}; known: {', '.join(FIELDS)}")
        missing = [c for c in REQUIRED if c not in self.columns]
        if missing:
            raise ProfileError(f"{self.name}: columns {missing} are required")
        repeated = sorted({c for c in self.columns if c and self.columns.count(c) > 1})
        if repeated:
            raise ProfileError(f"{self.name}: columns {repeated} are given twice")
        if len(self.delimiter) != 1 or self.delimiter in '\r\n"':
            raise ProfileError(f"{self.name}: the delimiter is one character, not a quote or a line break")
        if self.channel not in Channel.values or self.channel == Channel.ONLINE:
            raise ProfileError(f"{self.name}: channel is one of bank, agent, qr")
        if self.encoding:
            try:
                "".encode(self.encoding)
            except LookupError:
                raise ProfileError(f"{self.name}: unknown encoding {self.encoding!r}") from None
        if self.header_lines < 0:
            raise ProfileError(f"{self.name}: header_lines is not negative")
        if self.summary and not self.summary_prefix:
            raise ProfileError(f"{self.name}: summary_prefix is needed when summary is true")


DEFAULT = RegistryProfile("default")


def profiles() -> dict[str, RegistryProfile]:
    """The built-in profile and those of the setting PAYMENT_REGISTRY_PROFILES.
    Raises ProfileError when the setting is wrong."""
    found = {DEFAULT.name: DEFAULT}
    raw = settings.PAYMENT_REGISTRY_PROFILES
    if not raw:
        return found
    try:
        given = json.loads(raw) if isinstance(raw, str) else raw
    except json.JSONDecodeError as exc:
        raise ProfileError(f"PAYMENT_REGISTRY_PROFILES is not JSON: {exc}") from None
    if not isinstance(given, dict):
        raise ProfileError("PAYMENT_REGISTRY_PROFILES is a JSON object: name → options")
    for name, options in given.items():
        if not isinstance(options, dict):
            raise ProfileError(f"{name}: the options are a JSON object")
        allowed = set(RegistryProfile.__dataclass_fields__) - {"name"}
        extra = sorted(set(options) - allowed)
        if extra:
            raise ProfileError(f"{name}: unknown options {extra}; known: {', '.join(sorted(allowed))}")
        values = dict(options)
        if "columns" in values:
            if not isinstance(values["columns"], list):
                raise ProfileError(f"{name}: columns is a JSON list of field names")
            values["columns"] = tuple(values["columns"])
        try:
            found[name] = RegistryProfile(name=name, **values)
        except TypeError as exc:
            raise ProfileError(f"{name}: {exc}") from None
    return found


class Texts:
    """Messages translated once per import: Django's gettext looks the language up on every
    call (≈ 20 µs), too slow for a message on each of a million lines. Mark the message with
    gettext_noop where it is written, so that it is still found for the catalog."""

    def __init__(self) -> None:
        self._done: dict[str, str] = {}

    def __call__(self, message: str) -> str:
        found = self._done.get(message)
        if found is None:
            found = self._done[message] = gettext(message)
        return found


# --- Lines -------------------------------------------------------------------------------


@dataclass(slots=True)
class Line:
    """A payment line as read; ``error`` says what is wrong with it (then the values that
    could not be read are None)."""

    number: int  # the line of the file, from 1
    account: str
    reference: str
    payer: str
    paid_at: dt.datetime | None
    amount: Decimal | None
    period: Period | None
    error: str = ""


@dataclass(frozen=True)
class Summary:
    number: int
    count: int | None
    amount: Decimal | None
    error: str = ""


@dataclass
class Reading:
    """What a reader found besides the lines: the summary line and the file's problems."""

    summary: Summary | None = None
    after_summary: list[int] = field(default_factory=list)  # lines after the summary line


class _Dates:
    """Dates and times as the files write them, each distinct text parsed once."""

    def __init__(self) -> None:
        self.dates: dict[str, dt.date | None] = {}
        self.times: dict[str, dt.time | None] = {}
        self.periods: dict[str, Period | None] = {}

    def date(self, text: str) -> dt.date | None:
        if text not in self.dates:
            self.dates[text] = _date(text)
        return self.dates[text]

    def time(self, text: str) -> dt.time | None:
        if text not in self.times:
            self.times[text] = _time(text)
        return self.times[text]

    def period(self, text: str) -> Period | None:
        if text not in self.periods:
            self.periods[text] = _period(text)
        return self.periods[text]


def _date(text: str) -> dt.date | None:
    try:
        if len(text) == 10 and text[2] in ".-/" and text[5] == text[2]:
            return dt.date(int(text[6:]), int(text[3:5]), int(text[:2]))
        if len(text) == 10 and text[4] == "-" and text[7] == "-":
            return dt.date.fromisoformat(text)
    except ValueError:
        return None
    return None


def _time(text: str) -> dt.time | None:
    if len(text) == 8 and text[2] == text[5] and text[2] in ":-." and text.isascii():
        if not text.replace(text[2], "").isdigit():  # «+1:23:05», «1 :23:05»
            return None
        try:
            return dt.time(int(text[:2]), int(text[3:5]), int(text[6:]))
        except ValueError:
            return None
    parts = text.replace("-", ":").replace(".", ":").split(":")
    if len(parts) not in (2, 3) or not all(len(p) == 2 and p.isdigit() and p.isascii() for p in parts):
        return None
    try:
        return dt.time(int(parts[0]), int(parts[1]), int(parts[2]) if len(parts) == 3 else 0)
    except ValueError:
        return None


def _period(text: str) -> Period | None:
    text = text.replace("/", ".")
    if len(text) == 6 and text.isdigit():
        text = f"{text[:2]}.{text[2:]}"
    try:
        return Period.parse(text)
    except PeriodFormatError:
        return None


def amount_read(text: str) -> Decimal | None:
    """Rubles with a comma or a point before the kopecks, spaces between thousands allowed;
    None when it is not a number."""
    try:
        value = Decimal(text.replace(",", "."))
    except InvalidOperation:
        try:
            value = Decimal(text.replace(",", ".").replace(" ", "").replace("\u00a0", "").replace("\u202f", ""))
        except InvalidOperation:
            return None
    return value if value.is_finite() else None


def lines_read(
    text: str | TextIO, profile: RegistryProfile, *, time_zone: str, reading: Reading, texts: Texts | None = None
) -> Iterator[Line]:
    """The payment lines of ``text`` in the file's order, each read as far as it can be; the
    summary line and lines after it go to ``reading``. A line's values are checked for form
    only (a date that exists, a number); what they mean is checked by the import."""
    t = texts or Texts()
    zone = zoneinfo.ZoneInfo(time_zone)
    dates = _Dates()
    index = {name: i for i, name in enumerate(profile.columns) if name}
    width = len(profile.columns)
    i_date, i_account, i_amount, i_reference = index["date"], index["account"], index["amount"], index["reference"]
    i_time, i_period, i_payer = index.get("time"), index.get("period"), index.get("payer")
    stream = io.StringIO(text, newline="") if isinstance(text, str) else text
    reader = csv.reader(stream, delimiter=profile.delimiter)
    for row in reader:
        number = reader.line_num  # the physical line: a quoted field may hold a line break
        if number <= profile.header_lines or not row or (not row[0].strip() and not any(c.strip() for c in row)):
            continue
        first = row[0].strip()
        if profile.summary and first.startswith(profile.summary_prefix):
            if reading.summary is None:
                reading.summary = _summary(number, [first[len(profile.summary_prefix) :], *row[1:]])
            else:
                reading.after_summary.append(number)
            continue
        if reading.summary is not None:
            reading.after_summary.append(number)
            continue
        cells = [cell.strip() for cell in row]
        if len(cells) < width:
            yield _broken(
                number,
                cells,
                index,
                t(gettext_noop("%(found)s полей вместо %(width)s (разделитель «%(delimiter)s»)"))
                % {"found": len(cells), "width": width, "delimiter": profile.delimiter},
            )
            continue
        errors: list[str] = []
        day = dates.date(cells[i_date])
        if day is None:
            errors.append(t(gettext_noop("дата «%(text)s» — не дата ДД.ММ.ГГГГ")) % {"text": cells[i_date][:20]})
        moment = dt.time(0)
        if i_time is not None and cells[i_time]:
            found = dates.time(cells[i_time])
            if found is None:
                errors.append(t(gettext_noop("время «%(text)s» — не время ЧЧ:ММ:СС")) % {"text": cells[i_time][:20]})
            else:
                moment = found
        amount = amount_read(cells[i_amount])
        if amount is None:
            errors.append(t(gettext_noop("сумма «%(text)s» — не число рублей")) % {"text": cells[i_amount][:20]})
        period = None
        if i_period is not None and cells[i_period]:
            period = dates.period(cells[i_period])
            if period is None:
                errors.append(t(gettext_noop("период «%(text)s» — не месяц ММ.ГГГГ")) % {"text": cells[i_period][:20]})
        reference = cells[i_reference]
        if not reference:
            errors.append(t(gettext_noop("нет номера операции")))
        elif len(reference) > REFERENCE_MAX:
            errors.append(t(gettext_noop("номер операции длиннее %(max)s знаков")) % {"max": REFERENCE_MAX})
        yield Line(
            number=number,
            account=cells[i_account][:32],
            reference=reference[:REFERENCE_MAX],
            payer=cells[i_payer][:PAYER_MAX] if i_payer is not None else "",
            paid_at=dt.datetime.combine(day, moment, tzinfo=zone) if day is not None else None,
            amount=amount,
            period=period,
            error="; ".join(errors),
        )


def _broken(number: int, cells: list[str], index: dict[str, int], error: str) -> Line:
    def cell(name: str, limit: int) -> str:
        i = index.get(name)
        return cells[i][:limit] if i is not None and i < len(cells) else ""

    return Line(number, cell("account", 32), cell("reference", REFERENCE_MAX), cell("payer", PAYER_MAX),
                None, None, None, error)  # fmt: skip


def _summary(number: int, cells: list[str]) -> Summary:
    count_text = cells[0].strip() if cells else ""
    amount_text = cells[1].strip() if len(cells) > 1 else ""
    count = int(count_text) if count_text.isdigit() and count_text.isascii() else None
    amount = amount_read(amount_text) if amount_text else None
    if amount is not None and abs(amount) >= SUMMARY_LIMIT:
        amount = None  # not a sum of payments, and more than the file's record holds
    if count is None or amount is None:
        return Summary(
            number,
            count,
            amount,
            gettext("итоговая строка %(number)s — не «=количество;сумма»: «%(text)s»")
            % {"number": number, "text": ";".join(cells)[:60]},
        )
    return Summary(number, count, amount)
