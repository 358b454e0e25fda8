"""Posting to the ledger: the only way money gets onto an account.

``entries_post`` writes entries and moves the balances they touch in the same transaction;
a source key posted before makes the whole posting fail and leaves nothing written.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext_lazy as _

from abonent.core.audit import audit_record
from abonent.core.bulk import rows_insert
from abonent.core.errors import DomainError, ValidationFailed
from abonent.core.money import round_rubles, to_decimal
from abonent.core.periods import Period
from abonent.core.selectors import supplier_local_date
from abonent.customers.models import PersonalAccount
from abonent.ledger.enums import EntryKind, Service
from abonent.ledger.models import LedgerBalance, LedgerEntry

NOTE_MAX_LENGTH = 300
REASON_MIN_LENGTH = 5


class EntryAlreadyPosted(DomainError):
    code = "ledger_entry_already_posted"
    message = _("Эта операция уже проведена по лицевому счёту")


@dataclass(frozen=True, slots=True)
class NewEntry:
    account_id: int
    service: str
    kind: str
    period: Period
    billed_in: Period
    amount: Decimal
    posted_on: dt.date
    source_key: str
    volume: Decimal | None = None
    pays_period: Period | None = None
    note: str = ""


_FIELDS = (
    "account_id",
    "service",
    "kind",
    "period",
    "billed_in",
    "amount",
    "volume",
    "posted_on",
    "created_at",
    "source_key",
    "pays_period",
    "note",
)


def _check(entry: NewEntry) -> None:
    """Programming errors, not people's: the database would refuse these too."""
    if entry.amount != round_rubles(entry.amount) or entry.amount == 0:
        raise ValueError(f"{entry.source_key}: amount {entry.amount} must be non-zero rubles and kopecks")
    if entry.kind in (EntryKind.CHARGE, EntryKind.REFUND) and entry.amount < 0:
        raise ValueError(f"{entry.source_key}: a {entry.kind} is positive")
    if entry.kind in (EntryKind.BENEFIT, EntryKind.PAYMENT) and entry.amount > 0:
        raise ValueError(f"{entry.source_key}: a {entry.kind} is negative")


def entries_post(*, entries: Sequence[NewEntry], now: dt.datetime) -> int:
    """Post ``entries`` and move the balances; returns how many were posted.

    Raises EntryAlreadyPosted when a source key has been posted before (then nothing is).
    """
    if not entries:
        return 0
    for entry in entries:
        _check(entry)
    rows = (
        (
            e.account_id,
            e.service,
            e.kind,
            e.period.to_int(),
            e.billed_in.to_int(),
            e.amount,
            e.volume,
            e.posted_on,
            now,
            e.source_key,
            e.pays_period.to_int() if e.pays_period else None,
            e.note,
        )
        for e in entries
    )
    totals: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
    for e in entries:
        totals[(e.account_id, e.service)] += e.amount
    with _posting():
        rows_insert(LedgerEntry, _FIELDS, rows)
        _balances_move(totals)
    return len(entries)


@contextlib.contextmanager
def _posting() -> Iterator[None]:
    """A posting's transaction; a source key posted before raises EntryAlreadyPosted. The bulk
    writes work on the driver's connection, whose errors are the driver's: wrapped, a
    duplicate key is Django's IntegrityError on every database."""
    try:
        with transaction.atomic(), connection.wrap_database_errors:
            yield
    except IntegrityError as exc:
        if "source_key" in str(exc) or "ledger_ledgerentry_source_key" in str(exc):
            raise EntryAlreadyPosted() from exc
        raise


_SELECT_FIELDS = tuple(f for f in _FIELDS if f != "created_at")


def entries_post_select(*, select: str, params: Sequence[Any], now: dt.datetime) -> int:
    """Post the entries a SELECT gives and move the balances, in one transaction; returns how
    many were posted. For postings of many thousands of entries built from a table (a bank
    registry) that never pass through Python. The SELECT's columns are, in order: account_id,
    service, kind, period, billed_in, amount, volume, posted_on, source_key, pays_period,
    note. The database's checks stand in for ``_check`` (the sign of each kind); amounts are
    to be whole kopecks already. Raises EntryAlreadyPosted (then nothing is posted)."""
    qn = connection.ops.quote_name
    entries, balances = qn(LedgerEntry._meta.db_table), qn(LedgerBalance._meta.db_table)
    columns = ", ".join(qn(str(LedgerEntry._meta.get_field(f).column)) for f in _SELECT_FIELDS)  # type: ignore[union-attr]
    insert = f"INSERT INTO {entries} ({columns}, created_at) SELECT q.*, %s FROM ({select}) q"
    with _posting(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # the balances moved by the same statement, each (account, service) once
            cursor.execute(
                f"WITH posted AS ({insert} RETURNING account_id, service, amount), "
                f"moved AS (INSERT INTO {balances} (account_id, service, amount) "
                "SELECT account_id, service, sum(amount) FROM posted GROUP BY account_id, service "
                "HAVING sum(amount) <> 0 ORDER BY account_id, service "
                f"ON CONFLICT (account_id, service) DO UPDATE SET amount = {balances}.amount + excluded.amount) "
                "SELECT count(*) FROM posted",
                [now, *params],
            )
            return int(cursor.fetchone()[0])
        cursor.execute(f"{insert} RETURNING account_id, service, amount", [now, *params])
        totals: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
        count = 0
        for account_id, service, amount in cursor.fetchall():
            totals[(account_id, service)] += round_rubles(Decimal(str(amount)))
            count += 1
        _balances_move(totals)
        return count


def _balances_move(totals: dict[tuple[int, str], Decimal]) -> None:
    """Add each (account, service) total to its balance, creating the balance row."""
    moves = [(account_id, service, amount) for (account_id, service), amount in totals.items() if amount]
    if not moves:
        return
    if connection.vendor != "postgresql":
        # SQLite adds decimals as floats: read, add in Python and write back (the
        # transaction holds SQLite's write lock, so nobody moves the row meanwhile)
        current: dict[tuple[int, str], Decimal] = {}
        accounts = sorted({account_id for account_id, _, _ in moves})
        for at in range(0, len(accounts), 900):
            for account_id, service, amount in LedgerBalance.objects.filter(
                account_id__in=accounts[at : at + 900]
            ).values_list("account_id", "service", "amount"):
                current[(account_id, service)] = amount
        new = [(a, s, str(m)) for a, s, m in moves if (a, s) not in current]
        changed = [(str(current[(a, s)] + m), a, s) for a, s, m in moves if (a, s) in current]
        table = connection.ops.quote_name(LedgerBalance._meta.db_table)
        with connection.cursor() as cursor:
            cursor.executemany(f"INSERT INTO {table} (account_id, service, amount) VALUES (%s, %s, %s)", new)
            cursor.executemany(f"UPDATE {table} SET amount = %s WHERE account_id = %s AND service = %s", changed)
        return
    # one statement for all the moves; sorted, so that two postings lock rows in one order
    moves.sort()
    table = connection.ops.quote_name(LedgerBalance._meta.db_table)
    sql = (
        f"INSERT INTO {table} (account_id, service, amount) "
        "SELECT * FROM unnest(%s::bigint[], %s::varchar[], %s::numeric[]) "
        f"ON CONFLICT (account_id, service) DO UPDATE SET amount = {table}.amount + excluded.amount"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [[m[0] for m in moves], [m[1] for m in moves], [m[2] for m in moves]])


class CorrectionInvalid(ValidationFailed):
    code = "ledger_correction_invalid"


def entry_correct(
    *,
    account: PersonalAccount,
    service: str,
    period: Period,
    amount: Decimal | str,
    reason: str,
    actor_id: int | None,
    channel: str,
    now: dt.datetime,
    source_key: str,
) -> LedgerEntry:
    """An operator's correction of an account: a new entry, never a change of an old one,
    dated the supplier's local day of ``now`` and put on that month's bill.

    Raises CorrectionInvalid (the amount is not rubles and kopecks or is zero, the service
    is unknown, the reason is too short) and EntryAlreadyPosted (the same key again).
    """
    errors: dict[str, list[str]] = {}
    value: Decimal | None = None
    try:
        value = to_decimal(amount)
    except ValueError:
        errors["amount"] = [str(_("Сумма — в рублях и копейках, например −150,00 или 320,50"))]
    if value is not None and (value == 0 or value != round_rubles(value)):
        errors["amount"] = [str(_("Сумма не может быть нулевой и имеет не больше двух знаков после запятой"))]
    if service not in Service.values:
        errors["service"] = [str(_("Услуга: газоснабжение, пени или ТО ВДГО"))]
    text = reason.strip()
    if len(text) < REASON_MIN_LENGTH or len(text) > NOTE_MAX_LENGTH:
        errors["reason"] = [
            str(_("Опишите причину корректировки: от %(low)d до %(high)d знаков"))
            % {"low": REASON_MIN_LENGTH, "high": NOTE_MAX_LENGTH}
        ]
    if errors or value is None:
        raise CorrectionInvalid(errors)
    today = supplier_local_date(supplier=account.supplier, now=now)
    with transaction.atomic():
        entries_post(
            entries=[
                NewEntry(
                    account_id=account.pk,
                    service=service,
                    kind=EntryKind.CORRECTION,
                    period=period,
                    billed_in=Period.of(today),
                    amount=value,
                    posted_on=today,
                    source_key=source_key,
                    note=text,
                )
            ],
            now=now,
        )
        entry = LedgerEntry.objects.get(source_key=source_key)
        audit_record(
            at=now,
            actor_id=actor_id,
            channel=channel,
            action="ledger_correct",
            object_type="account",
            object_id=account.pk,
            after={"service": service, "period": str(period), "amount": str(value), "reason": text},
        )
    return entry
