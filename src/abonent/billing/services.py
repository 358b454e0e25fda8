"""Billing runs: the month's charges, benefits and penalties of a supplier's accounts,
posted to the ledger.

A run for a supplier and a period splits the active accounts into ranges of ids (chunks);
each chunk is one transaction that computes its accounts, compares what they should owe
with what the ledger already has, and posts the difference: the first time the charge, on a
re-run nothing, after a late or corrected reading a recalculation. So a run that was killed
half-way and is run again ends as a run that was never interrupted, and no entry is posted
twice (every entry has a source key; the ledger refuses a key it has). At most one run of a
supplier's period goes at a time: a run holds a lease it renews with every chunk; a run whose
lease ran out was killed and may be taken over. A closed period takes no run.
"""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Min, Q, Sum
from django.utils.translation import gettext_lazy as _

from abonent.billing.engine import (
    AVERAGE_MONTHS_MAX,
    ZERO_VOLUME,
    AccountFacts,
    AccountResult,
    BenefitFacts,
    DataMissing,
    DatedValue,
    MeterFacts,
    MeterState,
    PeriodBook,
    account_compute,
    average_month,
)
from abonent.billing.enums import RunStatus
from abonent.billing.models import (
    Benefit,
    BillingChunk,
    BillingPeriod,
    BillingRun,
    Charge,
    KeyRate,
    MeterVolume,
    Norm,
    PenaltyMoratorium,
    PenaltyRateCap,
    Tariff,
)
from abonent.billing.penalties import FREE_DAYS, DebtItem, Payment, RateBook, penalty_compute
from abonent.core.audit import audit_record
from abonent.core.bulk import rows_insert, rows_select, table
from abonent.core.errors import DomainError
from abonent.core.models import Supplier
from abonent.core.money import round_rubles
from abonent.core.periods import Period
from abonent.core.selectors import TermsNotSet, payment_due_date
from abonent.customers.enums import AccountStatus
from abonent.customers.models import PersonalAccount
from abonent.ledger.enums import EntryKind, Service
from abonent.ledger.models import LedgerBalance, LedgerEntry
from abonent.ledger.services import NewEntry, entries_post
from abonent.metering.enums import ReadingStatus
from abonent.metering.models import STANDING, Meter, Reading

CHUNK_SIZE = 2000
LEASE = dt.timedelta(minutes=2)
HISTORY_MONTHS = 27  # readings looked back on for an average (12 months before a reading up to 3 back)
RECALCULATION_MONTHS = 36  # how far back a changed reading is recalculated (the limitation period)
ZERO = Decimal("0.00")
_STANDING = [s.value for s in STANDING]


class BillingError(DomainError):
    code = "billing_error"


class PeriodClosed(BillingError):
    code = "billing_period_closed"
    message = _("Период {period} закрыт: расчёт за него больше не проводится")


class RunInProgress(BillingError):
    code = "billing_run_in_progress"
    message = _("Расчёт за {period} уже идёт (начат {started}); дождитесь его окончания")


class PeriodNotOver(BillingError):
    code = "billing_period_not_over"
    message = _("Период {period} ещё не закончился: рассчитать его можно с {day}")


class BillingDataMissing(BillingError):
    code = "billing_data_missing"
    message = _(
        "Не хватает данных для расчёта за {period}: {what}. Заполните их в бэк-офисе, раздел «Расчёты: тарифы, нормативы, начисления, пени»"
    )


class RunNotRunning(BillingError):
    code = "billing_run_not_running"
    message = _("Расчёт №{run} уже не идёт")


# --- the run ------------------------------------------------------------------------------


def _book(supplier: Supplier, period: Period) -> PeriodBook:
    tariffs: dict[str, list[DatedValue]] = defaultdict(list)
    for direction, start, end, price in Tariff.objects.filter(supplier=supplier).values_list(
        "direction", "valid_from", "valid_to", "price"
    ):
        tariffs[direction].append(DatedValue(start, end, price))
    norms: dict[str, list[DatedValue]] = defaultdict(list)
    for kind, start, end, value, month in Norm.objects.filter(supplier=supplier).values_list(
        "kind", "valid_from", "valid_to", "value", "month"
    ):
        norms[kind].append(DatedValue(start, end, value, month))
    try:
        return PeriodBook.build(period=period, tariffs=tariffs, norms=norms)
    except DataMissing as exc:
        raise BillingDataMissing(period=period.label(), what=str(exc)) from None


def _local(supplier: Supplier, moment: dt.datetime) -> str:
    """A moment as people at the supplier read it: «05.11.2026 09:30»."""
    return f"{moment.astimezone(zoneinfo.ZoneInfo(supplier.time_zone)):%d.%m.%Y %H:%M}"


def rate_book() -> RateBook:
    return RateBook(
        key_rates=sorted(KeyRate.objects.values_list("effective_from", "rate")),
        caps=list(PenaltyRateCap.objects.values_list("valid_from", "valid_to", "rate")),
        moratoria=list(PenaltyMoratorium.objects.values_list("valid_from", "valid_to")),
    )


def billing_run_start(
    *,
    supplier: Supplier,
    period: Period,
    now: dt.datetime,
    today: dt.date,
    actor_id: int | None,
    channel: str,
    chunk_size: int = CHUNK_SIZE,
) -> BillingRun:
    """Open a run and cut its accounts into chunks.

    Raises PeriodNotOver (``today`` is inside the period or before it), PeriodClosed,
    RunInProgress (another run holds the period), BillingDataMissing (a price or norm is
    not set for a day of the period, or the supplier has no terms for its due date).
    """
    if today <= period.last_day:
        raise PeriodNotOver(period=period.label(), day=f"{period.end:%d.%m.%Y}")
    _book(supplier, period)  # the data are there, or say what is missing before anything starts
    try:
        payment_due_date(supplier=supplier, period=period)
    except TermsNotSet as exc:
        raise BillingDataMissing(period=period.label(), what=exc.text) from None
    with transaction.atomic():
        billing_period, _created = BillingPeriod.objects.get_or_create(supplier=supplier, period=period)
        billing_period = BillingPeriod.objects.select_for_update().get(pk=billing_period.pk)
        if billing_period.closed_at is not None:
            raise PeriodClosed(period=period.label())
        running = (
            BillingRun.objects.select_for_update()
            .filter(supplier=supplier, period=period, status=RunStatus.RUNNING)
            .first()
        )
        if running is not None:
            if running.lease_until > now:
                raise RunInProgress(period=period.label(), started=_local(supplier, running.started_at))
            running.status = RunStatus.FAILED
            running.finished_at = now
            running.error = "прерван: срок аренды истёк, расчёт продолжен новым запуском"
            running.save(update_fields=["status", "finished_at", "error"])
        try:
            with transaction.atomic():
                run = BillingRun.objects.create(
                    supplier=supplier,
                    period=period,
                    started_at=now,
                    lease_until=now + LEASE,
                    started_by_id=actor_id,
                    channel=channel,
                )
        except IntegrityError:
            raise RunInProgress(period=period.label(), started=_local(supplier, now)) from None
        ids = PersonalAccount.objects.filter(supplier=supplier).aggregate(low=Min("id"), high=Max("id"))
        changed = _readings_changed(supplier=supplier, period=period, run=run)
        chunks = []
        if ids["low"] is not None:
            for first in range(ids["low"], ids["high"] + 1, chunk_size):
                last = first + chunk_size - 1
                mine = {str(a): p for a, p in changed.items() if first <= a <= last}
                chunks.append(BillingChunk(run=run, first_account_id=first, last_account_id=last, changed=mine))
        BillingChunk.objects.bulk_create(chunks)
        run.chunks = len(chunks)
        run.save(update_fields=["chunks"])
        audit_record(
            at=now,
            actor_id=actor_id,
            channel=channel,
            action="billing_run_start",
            object_type="billing_run",
            object_id=run.pk,
            after={"supplier": supplier.code, "period": str(period)},
        )
    return run


def _readings_changed(*, supplier: Supplier, period: Period, run: BillingRun) -> dict[int, int]:
    """Accounts whose readings of earlier periods were recorded, corrected or rejected since
    the supplier's last finished run, with the first such period (YYYYMM): they are
    recalculated from it."""
    last_run = (
        BillingRun.objects.filter(supplier=supplier, status=RunStatus.DONE, period__lte=period.to_int())
        .exclude(pk=run.pk)
        .order_by("-started_at")
        .first()
    )
    if last_run is None:
        return {}
    since = last_run.started_at
    oldest = period - RECALCULATION_MONTHS
    rows = (
        Reading.objects.filter(
            meter__account__supplier=supplier, period__gte=oldest.to_int(), period__lt=period.to_int()
        )
        .filter(Q(submitted_at__gt=since) | Q(reviewed_at__gt=since))
        .values_list("meter__account_id", "period")
    )
    changed: dict[int, int] = {}
    for account_id, p in rows:
        value = p.to_int()
        if account_id not in changed or value < changed[account_id]:
            changed[account_id] = value
    return changed


@dataclass
class ChunkStats:
    accounts: int = 0
    volume: Decimal = ZERO_VOLUME
    amount: Decimal = ZERO
    benefit: Decimal = ZERO
    penalty: Decimal = ZERO
    recalculated: Decimal = ZERO
    recalculated_accounts: int = 0
    entries: int = 0
    by_method: dict[str, list[Decimal | int]] = field(default_factory=dict)

    def add_method(self, method: str, volume: Decimal, amount: Decimal) -> None:
        row = self.by_method.setdefault(method, [0, ZERO_VOLUME, ZERO])
        row[0] = int(row[0]) + 1
        row[1] = Decimal(row[1]) + volume
        row[2] = Decimal(row[2]) + amount

    def as_json(self) -> dict[str, object]:
        return {
            "accounts": self.accounts,
            "volume": str(self.volume),
            "amount": str(self.amount),
            "benefit": str(self.benefit),
            "penalty": str(self.penalty),
            "recalculated": str(self.recalculated),
            "recalculated_accounts": self.recalculated_accounts,
            "entries": self.entries,
            "by_method": {k: [int(v[0]), str(v[1]), str(v[2])] for k, v in self.by_method.items()},
        }


def billing_chunk_process(*, chunk_id: int, now: dt.datetime) -> ChunkStats | None:
    """Compute and post one chunk of a run (one transaction); None when it was done already.

    Chunks of a run go in parallel (each worker its own chunk): a chunk locks its own row,
    and the run's row only against a takeover or the run's end (FOR KEY SHARE, which other
    chunks share); the lease is renewed before, in a statement of its own. On PostgreSQL
    the chunk's commit does not wait for the disk (see below).

    Raises RunNotRunning when the run has ended (finished, or taken over).
    """
    chunk_run = BillingChunk.objects.filter(pk=chunk_id).values_list("run_id", flat=True).get()
    BillingRun.objects.filter(pk=chunk_run, status=RunStatus.RUNNING).update(lease_until=now + LEASE)
    with transaction.atomic():
        chunk = BillingChunk.objects.select_for_update(of=("self",)).get(pk=chunk_id)
        if chunk.done_at is not None:
            return None
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT 1 FROM {table(BillingRun)} WHERE id = %s FOR KEY SHARE", [chunk.run_id])
                # The commit does not wait for the disk: a crash may lose the last chunks
                # committed (whole, never in part), and a chunk lost is not marked done, so
                # it is computed again. A commit that waits (a payment's) flushes these too.
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        run = BillingRun.objects.select_related("supplier").get(pk=chunk.run_id)
        if run.status != RunStatus.RUNNING:
            raise RunNotRunning(run=run.pk)
        changed = {int(a): int(p) for a, p in chunk.changed.items()}
        stats = _Chunk(run, chunk.first_account_id, chunk.last_account_id, now, changed).process()
        chunk.done_at = now
        chunk.stats = stats.as_json()
        chunk.save(update_fields=["done_at", "stats"])
    return stats


def billing_run_finish(*, run_id: int, now: dt.datetime) -> BillingRun:
    """Close the run when all its chunks are done: the summary is the chunks' sum."""
    with transaction.atomic():
        run = BillingRun.objects.select_for_update().get(pk=run_id)
        if run.status != RunStatus.RUNNING:
            return run
        if run.parts.filter(done_at__isnull=True).exists():
            raise BillingError(_("Расчёт №{run}: обработаны не все части").format(run=run.pk))
        total = ChunkStats()
        for stats in run.parts.values_list("stats", flat=True):
            _merge(total, stats)
        run.summary = total.as_json()
        run.status = RunStatus.DONE
        run.finished_at = now
        run.save(update_fields=["summary", "status", "finished_at"])
        audit_record(
            at=now,
            actor_id=run.started_by_id,
            channel=run.channel,
            action="billing_run_finish",
            object_type="billing_run",
            object_id=run.pk,
            after=run.summary,
        )
    return run


def billing_run_finish_when_done(*, run_id: int, now: dt.datetime) -> BillingRun | None:
    """Close the run if every chunk is done (the last chunk to end does it); None otherwise."""
    with transaction.atomic():
        run = BillingRun.objects.select_for_update().get(pk=run_id)
        if run.status != RunStatus.RUNNING or run.parts.filter(done_at__isnull=True).exists():
            return None
        return billing_run_finish(run_id=run_id, now=now)


def _merge(total: ChunkStats, stats: dict[str, object]) -> None:
    total.accounts += int(stats.get("accounts", 0))  # type: ignore[call-overload]
    total.volume += Decimal(str(stats.get("volume", "0")))
    total.amount += Decimal(str(stats.get("amount", "0")))
    total.benefit += Decimal(str(stats.get("benefit", "0")))
    total.penalty += Decimal(str(stats.get("penalty", "0")))
    total.recalculated += Decimal(str(stats.get("recalculated", "0")))
    total.recalculated_accounts += int(stats.get("recalculated_accounts", 0))  # type: ignore[call-overload]
    total.entries += int(stats.get("entries", 0))  # type: ignore[call-overload]
    for method, (count, volume, amount) in dict(stats.get("by_method", {})).items():  # type: ignore[call-overload]
        total.add_method(method, Decimal(volume), Decimal(amount))
        row = total.by_method[method]
        row[0] = int(row[0]) + int(count) - 1


def billing_run_fail(*, run_id: int, error: str, now: dt.datetime) -> None:
    BillingRun.objects.filter(pk=run_id, status=RunStatus.RUNNING).update(
        status=RunStatus.FAILED, error=error[:2000], finished_at=now
    )


def billing_run(
    *,
    supplier: Supplier,
    period: Period,
    now: Callable[[], dt.datetime],
    today: dt.date,
    actor_id: int | None = None,
    channel: str = "cli",
    chunk_size: int = CHUNK_SIZE,
    on_start: Callable[[int], None] | None = None,
    on_chunk: Callable[[ChunkStats | None], None] | None = None,
) -> BillingRun:
    """A whole run in this process, chunk after chunk (the CLI, the seed, the tests)."""
    run = billing_run_start(
        supplier=supplier, period=period, now=now(), today=today, actor_id=actor_id, channel=channel,
        chunk_size=chunk_size,
    )  # fmt: skip
    if on_start is not None:
        on_start(run.chunks)
    try:
        for chunk_id in run.parts.order_by("first_account_id").values_list("id", flat=True):
            stats = billing_chunk_process(chunk_id=chunk_id, now=now())
            if on_chunk is not None:
                on_chunk(stats)
    except Exception as exc:
        billing_run_fail(run_id=run.pk, error=f"{type(exc).__name__}: {exc}", now=now())
        raise
    return billing_run_finish(run_id=run.pk, now=now())


def billing_period_close(
    *, supplier: Supplier, period: Period, actor_id: int | None, now: dt.datetime, channel: str = "backoffice"
) -> None:
    """Close the period: no run posts to it any more. Raises RunInProgress."""
    with transaction.atomic():
        billing_period, _created = BillingPeriod.objects.get_or_create(supplier=supplier, period=period)
        billing_period = BillingPeriod.objects.select_for_update().get(pk=billing_period.pk)
        running = BillingRun.objects.filter(
            supplier=supplier, period=period, status=RunStatus.RUNNING, lease_until__gt=now
        ).first()
        if running is not None:
            raise RunInProgress(period=period.label(), started=_local(supplier, running.started_at))
        if billing_period.closed_at is None:
            billing_period.closed_at = now
            billing_period.closed_by_id = actor_id
            billing_period.save(update_fields=["closed_at", "closed_by"])
            audit_record(
                at=now, actor_id=actor_id, channel=channel, action="billing_period_close",
                object_type="billing_period", object_id=billing_period.pk, after={"period": str(period)},
            )  # fmt: skip


# --- one chunk ----------------------------------------------------------------------------


class _Chunk:
    """The accounts of one id range: load, compute, compare with the ledger, post.

    Every read is one statement over the chunk's range of account ids (plain SQL: tuples,
    not model instances), every write a bulk insert or one statement, so a chunk of 2 000
    accounts in a steady month runs about fifteen statements whatever its size."""

    def __init__(self, run: BillingRun, first: int, last: int, now: dt.datetime, changed: dict[int, int]) -> None:
        self.run = run
        self.changed = changed
        self.supplier = run.supplier
        self.period: Period = run.period
        self.first = first
        self.last = last
        self.now = now
        self.books: dict[Period, PeriodBook] = {}
        self.due: dict[Period, dt.date] = {}
        self.periods: dict[int, Period] = {}
        self.entries: list[NewEntry] = []
        self.balances: dict[int, Decimal] = {}  # gas, before this chunk posts
        self.stats = ChunkStats()

    def book(self, period: Period) -> PeriodBook:
        if period not in self.books:
            self.books[period] = _book(self.supplier, period)
        return self.books[period]

    def due_on(self, period: Period) -> dt.date:
        if period not in self.due:
            self.due[period] = payment_due_date(supplier=self.supplier, period=period)
        return self.due[period]

    def as_period(self, value: int | Period | None) -> Period | None:
        if value is None or isinstance(value, Period):
            return value
        found = self.periods.get(value)
        if found is None:
            found = self.periods[value] = Period.from_int(value)
        return found

    # loading
    def _billed(self) -> tuple[str, list[Any]]:
        """The accounts of the chunk this run bills, as an SQL condition on the accounts'
        table: the range holds accounts of other suppliers too."""
        return (
            "supplier_id = %s AND id BETWEEN %s AND %s AND status = %s AND opened_on <= %s",
            [self.supplier.pk, self.first, self.last, str(AccountStatus.ACTIVE), self.period.last_day],
        )

    def _accounts(self) -> dict[int, AccountFacts]:
        where, params = self._billed()
        rows = rows_select(
            "SELECT id, residents, heated_area, central_hot_water, uses_cooking, uses_water_heating, uses_heating"
            f" FROM {table(PersonalAccount)} WHERE {where} ORDER BY id",
            params,
            decimals={2: 2},
            bools=(3, 4, 5, 6),
        )
        return {row[0]: AccountFacts(*row) for row in rows}

    def _meters(self, accounts: dict[int, AccountFacts]) -> dict[int, tuple[int, tuple[object, ...]]]:
        rows = rows_select(
            "SELECT id, account_id, digits, installed_on, initial_value, verification_due_on, status, removed_on"
            f" FROM {table(Meter)} WHERE account_id BETWEEN %s AND %s ORDER BY id",
            [self.first, self.last],
            decimals={4: 3},
            dates=(3, 5, 7),
        )
        return {row[0]: (row[1], row[2:]) for row in rows if row[1] in accounts}

    def _readings(self, where: str, params: list[Any]) -> list[tuple[Any, ...]]:
        """Standing readings of the chunk's meters as (meter, period, id, value, status)."""
        return rows_select(
            f"SELECT r.meter_id, r.period, r.id, r.value, r.status FROM {table(Reading)} r"
            f" JOIN {table(Meter)} m ON m.id = r.meter_id"
            f" WHERE m.account_id BETWEEN %s AND %s AND r.status IN (%s, %s) AND {where}"
            " ORDER BY r.meter_id, r.period",
            [self.first, self.last, *_STANDING, *params],
            decimals={3: 3},
        )

    def _of_meters(self, meter_ids: list[int], select: str, params: list[Any], **types: Any) -> list[tuple[Any, ...]]:
        """``select`` (ending in a condition) for the meters, by their ids: one index probe
        each, whatever the planner thinks of the table's statistics."""
        rows: list[tuple[Any, ...]] = []
        for clause, values in _ids_in("meter_id", meter_ids):
            rows += rows_select(f"{select} AND {clause}", [*params, *values], **types)
        return rows

    def _standing(
        self, meter_ids: list[int], periods: tuple[Period, Period], every: bool
    ) -> dict[int, list[tuple[Period, int, Decimal, str]]]:
        """Standing readings of the meters in the periods (inclusive), oldest first: of every
        meter of the chunk when most of them are wanted, else of those only."""
        result: dict[int, list[tuple[Period, int, Decimal, str]]] = defaultdict(list)
        wanted = set(meter_ids)
        bounds: list[object] = [periods[0].to_int(), periods[1].to_int()]
        if every:
            batches = [self._readings("r.period BETWEEN %s AND %s", bounds)]
        else:
            batches = [
                self._readings(f"r.period BETWEEN %s AND %s AND {clause}", [*bounds, *values])
                for clause, values in _ids_in("r.meter_id", meter_ids)
            ]
        for rows in batches:
            for meter_id, period, reading_id, value, status in rows:
                if meter_id in wanted:
                    result[meter_id].append((self.as_period(period), reading_id, value, status))  # type: ignore[arg-type]
        return result

    def process(self) -> ChunkStats:
        accounts = self._accounts()
        if not accounts:
            return self.stats
        meters = self._meters(accounts)
        meter_ids = sorted(meters)
        period = self.period
        previous = period.previous()
        current: dict[int, tuple[int, Decimal, str]] = {
            meter_id: (reading_id, value, status)
            for meter_id, reading_id, value, status in self._of_meters(
                meter_ids,
                f"SELECT meter_id, id, value, status FROM {table(Reading)} WHERE period = %s AND status IN (%s, %s)",
                [period.to_int(), *_STANDING],
                decimals={2: 3},
            )
        }
        states: dict[int, MeterState] = {}
        averages: dict[int, Decimal] = {}  # the average month a meter was billed by last month
        for meter_id, basis_period, basis_value, estimated, average in self._of_meters(
            meter_ids,
            f"SELECT meter_id, basis_period, basis_value, estimated, average FROM {table(MeterVolume)}"
            " WHERE period = %s",
            [previous.to_int()],
            decimals={2: 3, 3: 3, 4: 3},
        ):
            states[meter_id] = MeterState(
                self.as_period(basis_period), basis_value if basis_value is not None else Decimal(0), estimated
            )
            if average is not None:
                averages[meter_id] = average
        # Accounts whose earlier periods changed: a reading recorded, corrected or rejected
        # after the period was computed
        changed = {account_id: Period.from_int(p) for account_id, p in self.changed.items() if account_id in accounts}
        # Meters whose history is read: no state to start from, a recalculation, or no
        # reading now when an average may be needed and last month's is not there (the
        # average is over the readings up to the last one, which has not moved since)
        need_history = [
            m
            for m in meter_ids
            if m not in states
            or meters[m][0] in changed
            or (m not in current and m not in averages and self._may_average(meters[m][1], states[m]))
        ]
        oldest = min([period - HISTORY_MONTHS, *[p - HISTORY_MONTHS for p in changed.values()]])
        history = self._standing(need_history, (oldest, previous), every=len(need_history) * 4 > len(meter_ids))
        benefits = self._benefits(accounts)
        existing = self._posted(accounts, changed)
        self.balances = dict(
            rows_select(
                f"SELECT account_id, amount FROM {table(LedgerBalance)}"
                " WHERE account_id BETWEEN %s AND %s AND service = %s",
                [self.first, self.last, str(Service.GAS)],
                decimals={1: 2},
            )
        )
        recent = self._recent()
        openings = self._openings(accounts, changed, recent)

        by_account: dict[int, list[int]] = defaultdict(list)
        for meter_id, (account_id, _facts) in meters.items():
            by_account[account_id].append(meter_id)

        meter_rows: list[tuple[object, ...]] = []
        charge_rows: list[tuple[object, ...]] = []
        recalculated_periods: list[tuple[int, Period]] = []
        for account_id, account in accounts.items():
            ids = by_account.get(account_id, [])
            start = changed.get(account_id)
            chain_states: dict[int, MeterState | None] = {m: states.get(m) for m in ids}
            if start is not None:
                # recompute the changed periods from the state before the first of them
                chain_states = self._states_before(ids, start)
                month = start
                while month < period:
                    result = self._compute(account, ids, meters, month, chain_states, history, benefits)
                    self._post_difference(account_id, month, result, existing, recalculation=True)
                    meter_rows += self._meter_rows(result, month)
                    charge_rows.append(self._charge_row(account, result, openings))
                    recalculated_periods.append((account_id, month))
                    chain_states = {r.meter_id: r.state for r in result.meters}
                    month = month.next()
                self.stats.recalculated_accounts += 1
            else:
                for m in ids:
                    if chain_states.get(m) is None:
                        chain_states[m] = self._bootstrap(meters[m][1], history.get(m, []), period)
            result = self._compute(
                account, ids, meters, period, chain_states, history, benefits, current=current,
                averages=averages if start is None else None,
            )  # fmt: skip
            self._post_difference(account_id, period, result, existing, recalculation=False)
            meter_rows += self._meter_rows(result, period)
            charge_rows.append(self._charge_row(account, result, openings))
            self.stats.accounts += 1
            self.stats.volume += result.volume
            self.stats.amount += result.amount
            self.stats.benefit += result.benefit_discount
            self.stats.add_method(result.method, result.volume, result.amount)
        self._penalties(accounts, existing, changed, recent)
        self._write(accounts, meter_rows, charge_rows, recalculated_periods)
        return self.stats

    def _may_average(self, facts: tuple[object, ...], state: MeterState) -> bool:
        """Whether a meter with no reading this month may be billed by its average month."""
        status = facts[4]
        if status == "faulty" or state.basis_period is None:
            return False
        if status == "checking":
            return True
        return self.period.months_since(state.basis_period) <= AVERAGE_MONTHS_MAX

    def _states_before(self, ids: list[int], start: Period) -> dict[int, MeterState | None]:
        before = start.previous()
        rows = {
            m: MeterState(bp, bv if bv is not None else Decimal(0), est)
            for m, bp, bv, est in MeterVolume.objects.filter(meter_id__in=ids, period=before.to_int()).values_list(
                "meter_id", "basis_period", "basis_value", "estimated"
            )
        }
        return {m: rows.get(m) for m in ids}

    def _bootstrap(
        self, facts: tuple[object, ...], readings: list[tuple[Period, int, Decimal, str]], period: Period
    ) -> MeterState:
        """A meter with no computed period before: it starts from its last standing reading
        before ``period`` (or its installation), with nothing estimated."""
        earlier = [r for r in readings if r[0] < period]
        if earlier:
            last = earlier[-1]
            return MeterState(last[0], last[2])
        return MeterState(None, facts[2])  # type: ignore[arg-type]

    def _compute(
        self,
        account: AccountFacts,
        ids: list[int],
        meters: dict[int, tuple[int, tuple[object, ...]]],
        period: Period,
        states: dict[int, MeterState | None],
        history: dict[int, list[tuple[Period, int, Decimal, str]]],
        benefits: dict[int, list[BenefitFacts]],
        current: dict[int, tuple[int, Decimal, str]] | None = None,
        averages: dict[int, Decimal] | None = None,
    ) -> AccountResult:
        facts_list = []
        for m in ids:
            digits, installed_on, initial_value, due, status, removed_on = meters[m][1]
            state = states.get(m) or self._bootstrap(meters[m][1], history.get(m, []), period)
            if current is not None:
                reading = current.get(m)
            else:
                reading = next(((rid, v, s) for p, rid, v, s in history.get(m, []) if p == period), None)
            average = None
            if reading is None and state.basis_period is not None:
                if averages is not None and m in averages:
                    average = averages[m]
                elif m in history or current is None:
                    accepted = [
                        (p, v) for p, _rid, v, s in history.get(m, []) if s == ReadingStatus.ACCEPTED and p < period
                    ]
                    average = average_month(
                        accepted,
                        last=state.basis_period,
                        installed=(Period.of(installed_on), initial_value),  # type: ignore[arg-type]
                        digits=digits,  # type: ignore[arg-type]
                    )
            facts_list.append(
                MeterFacts(
                    meter_id=m,
                    digits=digits,  # type: ignore[arg-type]
                    installed_on=installed_on,  # type: ignore[arg-type]
                    initial_value=initial_value,  # type: ignore[arg-type]
                    verification_due_on=due,  # type: ignore[arg-type]
                    status=status,  # type: ignore[arg-type]
                    removed_on=removed_on,  # type: ignore[arg-type]
                    state=state,
                    reading_id=reading[0] if reading else None,
                    reading_value=reading[1] if reading else None,
                    reading_for_billing=reading is None or reading[2] == ReadingStatus.ACCEPTED,
                    average=average,
                )
            )
        return account_compute(
            account=account, meters=facts_list, benefits=benefits.get(account.account_id, []), book=self.book(period)
        )

    def _benefits(self, accounts: dict[int, AccountFacts]) -> dict[int, list[BenefitFacts]]:
        result: dict[int, list[BenefitFacts]] = defaultdict(list)
        rows = rows_select(
            "SELECT id, account_id, category, share, persons, within_norm, mode, valid_from, valid_to"
            f" FROM {table(Benefit)} WHERE account_id BETWEEN %s AND %s AND valid_from <= %s"
            " AND (valid_to IS NULL OR valid_to >= %s) ORDER BY id",
            [self.first, self.last, self.period.last_day, min([self.period.first_day, *self._changed_starts()])],
            decimals={3: 2},
            dates=(7, 8),
            bools=(5,),
        )
        for bid, account_id, category, share, persons, within, mode, start, end in rows:
            if account_id in accounts:
                result[account_id].append(BenefitFacts(bid, category, share, persons, within, mode, start, end))
        return result

    def _changed_starts(self) -> list[dt.date]:
        return [Period.from_int(p).first_day for p in self.changed.values()]

    def _posted(
        self, accounts: dict[int, AccountFacts], changed: dict[int, Period]
    ) -> dict[tuple[int, str, int], Decimal]:
        """What the ledger has for each (account, service, period) of charges, benefits and
        recalculations, for the periods this chunk touches: the run's period, and the
        periods from which changed accounts are recalculated."""
        kinds = [str(EntryKind.CHARGE), str(EntryKind.BENEFIT), str(EntryKind.RECALCULATION)]
        select = f"SELECT account_id, service, period, SUM(amount) FROM {table(LedgerEntry)}"
        rows = rows_select(
            f"{select} WHERE account_id BETWEEN %s AND %s AND period = %s AND kind IN (%s, %s, %s)"
            " GROUP BY account_id, service, period",
            [self.first, self.last, self.period.to_int(), *kinds],
            decimals={3: 2},
        )
        for account_id, start in changed.items():
            rows += rows_select(
                f"{select} WHERE account_id = %s AND period >= %s AND period < %s AND kind IN (%s, %s, %s)"
                " GROUP BY account_id, service, period",
                [account_id, start.to_int(), self.period.to_int(), *kinds],
                decimals={3: 2},
            )
        return {(a, s, int(p)): t for a, s, p, t in rows}

    def _recent(self) -> dict[int, tuple[Decimal, ...]]:
        """Per account, the gas entries of the recent bills, those not yet 31 days overdue at
        the period's end (the only ones an index range reads without the whole history):
        (on this bill and later, items of the recent bills, paid since the period began,
        paid before it for a recent bill, payments dated before it that arrived after the
        previous run)."""
        newest_old = self._newest_overdue_bill()
        since = (
            BillingRun.objects.filter(supplier=self.supplier, status=RunStatus.DONE, period__lt=self.period.to_int())
            .order_by("-started_at")
            .values_list("started_at", flat=True)
            .first()
        ) or self.now
        arrived_after = since if connection.vendor == "postgresql" else connection.ops.adapt_datetimefield_value(since)
        payment = str(EntryKind.PAYMENT)
        p = self.period.to_int()
        rows = rows_select(
            "SELECT account_id,"
            " SUM(CASE WHEN billed_in >= %s THEN amount ELSE 0 END),"
            " SUM(CASE WHEN kind <> %s THEN amount ELSE 0 END),"
            " SUM(CASE WHEN kind = %s AND billed_in >= %s THEN amount ELSE 0 END),"
            " SUM(CASE WHEN kind = %s AND billed_in < %s AND pays_period > %s THEN amount ELSE 0 END),"
            " SUM(CASE WHEN kind = %s AND billed_in < %s AND created_at > %s THEN 1 ELSE 0 END)"
            f" FROM {table(LedgerEntry)}"
            " WHERE account_id BETWEEN %s AND %s AND service = %s AND billed_in > %s GROUP BY account_id",
            [p, payment, payment, p, payment, p, newest_old.to_int(), payment, p, arrived_after,
             self.first, self.last, str(Service.GAS), newest_old.to_int()],
            decimals={1: 2, 2: 2, 3: 2, 4: 2},
        )  # fmt: skip
        return {row[0]: row[1:] for row in rows}

    def _newest_overdue_bill(self) -> Period:
        """The latest bill whose debt is more than 30 days overdue by the period's last day:
        older bills accrue a penalty in the period, newer ones cannot yet."""
        bill = self.period.previous()
        limit = self.period.last_day - dt.timedelta(days=FREE_DAYS + 1)
        for _step in range(12):
            try:
                if self.due_on(bill) <= limit:
                    return bill
            except TermsNotSet:
                return bill
            bill = bill.previous()
        return bill

    def _post_difference(
        self,
        account_id: int,
        period: Period,
        result: AccountResult,
        existing: dict[tuple[int, str, int], Decimal],
        *,
        recalculation: bool,
    ) -> None:
        """Post what the account should owe for the period less what the ledger has: the
        first time the charge and the benefit, after that a recalculation of the difference."""
        key = (account_id, Service.GAS.value, period.to_int())
        should = result.amount - result.benefit_discount
        posted_on = self.period.last_day
        if key not in existing and not recalculation:
            if result.amount > 0:
                self._add(account_id, Service.GAS, EntryKind.CHARGE, period, result.amount, posted_on,
                          f"charge:{account_id}:gas:{period}", volume=result.volume)  # fmt: skip
            elif result.amount < 0:
                self._add(account_id, Service.GAS, EntryKind.RECALCULATION, period, result.amount, posted_on,
                          f"charge:{account_id}:gas:{period}", volume=result.volume,
                          note=str(_("Перерасчёт по показаниям: раньше начислено без показаний больше")))  # fmt: skip
            if result.benefit_discount > 0:
                self._add(account_id, Service.GAS, EntryKind.BENEFIT, period, -result.benefit_discount, posted_on,
                          f"benefit:{account_id}:gas:{period}")  # fmt: skip
        elif difference := should - existing.get(key, ZERO):
            self._add(account_id, Service.GAS, EntryKind.RECALCULATION, period, difference, posted_on,
                      f"recalc:{account_id}:gas:{period}:{self.period}:{self.run.pk}",
                      note=str(_("Перерасчёт за {period}")).format(period=period.label()))  # fmt: skip
            self.stats.recalculated += difference
        existing[key] = should

    def _add(
        self,
        account_id: int,
        service: str,
        kind: str,
        period: Period,
        amount: Decimal,
        posted_on: dt.date,
        key: str,
        *,
        volume: Decimal | None = None,
        note: str = "",
    ) -> None:
        self.entries.append(
            NewEntry(
                account_id=account_id,
                service=service,
                kind=kind,
                period=period,
                billed_in=self.period,
                amount=amount,
                posted_on=posted_on,
                source_key=key,
                volume=volume,
                note=note,
            )
        )

    def _meter_rows(self, result: AccountResult, period: Period) -> list[tuple[object, ...]]:
        return [
            (
                r.meter_id,
                period.to_int(),
                r.method,
                r.volume,
                r.reading_id,
                r.state.basis_period.to_int() if r.state.basis_period else None,
                r.state.basis_value,
                r.state.estimated,
                r.average,
                self.now,
            )
            for r in result.meters
        ]

    def _charge_row(
        self, account: AccountFacts, result: AccountResult, openings: dict[tuple[int, int], Decimal]
    ) -> tuple[object, ...]:
        details = result.details(account)
        meters = [
            {"meter": r.meter_id, "method": r.method, "volume": str(r.volume)}
            | ({"raw": str(r.raw), "deducted": str(r.deducted)} if r.raw is not None else {})
            | ({"average": str(r.average)} if r.average is not None else {})
            for r in result.meters
        ]
        if meters:
            details["meters"] = meters
        return (
            account.account_id,
            result.period.to_int(),
            Service.GAS,
            result.method,
            result.volume,
            result.price,
            result.amount,
            result.benefit_volume,
            result.benefit_amount,
            openings.get((account.account_id, result.period.to_int()), ZERO),
            json.dumps(details, ensure_ascii=False),
            self.run.pk,
            self.now,
        )

    # penalties
    def _penalties(
        self,
        accounts: dict[int, AccountFacts],
        existing: dict[tuple[int, str, int], Decimal],
        changed: dict[int, Period],
        recent: dict[int, tuple[Decimal, ...]],
    ) -> None:
        """The penalty accrued through the period's last day, less what was posted before.

        Worked out for the accounts that can accrue one in the period: a debt of the bills
        more than 30 days overdue was left at the period's start (the balance less the
        recent bills and less what was paid since, counting a payment made for a recent bill
        as not paying the old ones), or a payment dated before the period arrived after the
        previous run, or the period was posted before (a re-run), or the account is
        recalculated. Once an old debt is paid, its penalty no longer changes."""
        period = self.period
        none = (ZERO, ZERO, ZERO, ZERO, 0)
        candidates = []
        for a in accounts:
            _later, recent_items, paid_since, paid_for_recent, late_arrivals = recent.get(a, none)
            old_debt = self.balances.get(a, ZERO) - recent_items - paid_since - paid_for_recent
            if old_debt > 0 or late_arrivals or a in changed or (a, Service.PENALTY.value, period.to_int()) in existing:
                candidates.append(a)
        if not candidates:
            return
        rates = rate_book()
        entries: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
        for clause, values in _ids_in("account_id", candidates):
            for account_id, *row in rows_select(
                "SELECT account_id, service, kind, billed_in, amount, posted_on, pays_period"
                f" FROM {table(LedgerEntry)} WHERE {clause}",
                values,
                decimals={4: 2},
                dates=(5,),
            ):
                entries[account_id].append(tuple(row))
        as_of = period.last_day
        own: dict[int, Decimal] = defaultdict(Decimal)
        for e in self.entries:
            if e.service == Service.GAS and e.billed_in == period:
                own[e.account_id] += e.amount
        for account_id in candidates:
            items: dict[Period, Decimal] = defaultdict(Decimal)
            payments = []
            posted_before = ZERO
            for service, kind, billed_in, amount, posted_on, pays_period in entries.get(account_id, []):
                bill: Period = self.as_period(billed_in)  # type: ignore[assignment]
                if service == Service.GAS:
                    if kind == EntryKind.PAYMENT:
                        payments.append(Payment(posted_on, -amount, self.as_period(pays_period)))
                    else:
                        items[bill] += amount
                elif (
                    service == Service.PENALTY and kind in (EntryKind.CHARGE, EntryKind.RECALCULATION) and bill < period
                ):
                    posted_before += amount
            # this run's own entries of the period are on the bill of the period too
            items[period] += own.get(account_id, ZERO)
            debts = [DebtItem(p, amount, self.due_on(p)) for p, amount in sorted(items.items()) if amount]
            try:
                total = penalty_compute(items=debts, payments=payments, as_of=as_of, rates=rates).total
            except LookupError as exc:
                raise BillingDataMissing(period=period.label(), what=str(exc)) from None
            should = total - posted_before
            key = (account_id, Service.PENALTY.value, period.to_int())
            has = existing.get(key, ZERO)
            difference = should - has
            if not difference:
                continue
            key_kind = "penalty" if key not in existing else "penalty-recalc"
            kind = EntryKind.CHARGE if key_kind == "penalty" and difference > 0 else EntryKind.RECALCULATION
            suffix = "" if key_kind == "penalty" else f":{self.run.pk}"
            self._add(account_id, Service.PENALTY, kind, period, difference, period.last_day,
                      f"{key_kind}:{account_id}:{period}{suffix}")  # fmt: skip
            existing[key] = should
            self.stats.penalty += difference

    def _openings(
        self, accounts: dict[int, AccountFacts], changed: dict[int, Period], recent: dict[int, tuple[Decimal, ...]]
    ) -> dict[tuple[int, int], Decimal]:
        """The gas debt each computed period's bill opens with, (account, YYYYMM) → the sum of
        the entries on the bills before it. For the run's period that is the balance less the
        entries on this bill and later ones (few: this run's own after a crash, payments made
        since), so a re-run or a run taken over writes the same figure; recalculated periods
        (rare) sum their accounts' bills."""
        period = self.period
        result = {
            (a, period.to_int()): self.balances.get(a, ZERO) - (recent[a][0] if a in recent else ZERO) for a in accounts
        }
        if changed:
            bills: dict[int, list[tuple[int, Decimal]]] = defaultdict(list)
            for account_id, billed_in, total in (
                LedgerEntry.objects.filter(account_id__in=list(changed), service=Service.GAS)
                .values_list("account_id", "billed_in")
                .annotate(total=Sum("amount"))
                .order_by()
            ):
                bills[account_id].append((billed_in.to_int(), round_rubles(total or ZERO)))
            for account_id, start in changed.items():
                month = start
                while month < period:
                    result[(account_id, month.to_int())] = sum(
                        (t for bill, t in bills[account_id] if bill < month.to_int()), ZERO
                    )
                    month = month.next()
        return result

    def _write(
        self,
        accounts: dict[int, AccountFacts],
        meter_rows: list[tuple[object, ...]],
        charge_rows: list[tuple[object, ...]],
        recalculated: list[tuple[int, Period]],
    ) -> None:
        now_ = self.period.to_int()
        where, params = self._billed()
        billed = f"SELECT id FROM {table(PersonalAccount)} WHERE {where}"
        with connection.cursor() as cursor:
            # what an earlier try of this period left (a re-run, a run taken over)
            cursor.execute(
                f"DELETE FROM {table(MeterVolume)} WHERE period = %s"
                f" AND meter_id IN (SELECT id FROM {table(Meter)} WHERE account_id IN ({billed}))",
                [now_, *params],
            )
            cursor.execute(
                f"DELETE FROM {table(Charge)} WHERE period = %s AND service = %s AND account_id IN ({billed})",
                [now_, str(Service.GAS), *params],
            )
        for row in meter_rows:
            if row[1] != now_:
                MeterVolume.objects.filter(meter_id=row[0], period=row[1]).delete()  # type: ignore[misc]
        for account_id, month in recalculated:
            Charge.objects.filter(account_id=account_id, period=month.to_int(), service=Service.GAS).delete()
        rows_insert(
            MeterVolume,
            ("meter_id", "period", "method", "volume", "reading_id", "basis_period", "basis_value", "estimated",
             "average", "computed_at"),
            meter_rows,
        )  # fmt: skip
        rows_insert(
            Charge,
            ("account_id", "period", "service", "method", "volume", "price", "amount", "benefit_volume",
             "benefit_amount", "debt_before", "details", "run_id", "computed_at"),
            charge_rows,
        )  # fmt: skip
        self.stats.entries = entries_post(entries=self.entries, now=self.now)


def _ids_in(column: str, ids: list[int]) -> list[tuple[str, list[Any]]]:
    """``column`` among ``ids`` as (SQL condition, parameters), in as many statements as the
    database needs: one array on PostgreSQL, lists of 900 on SQLite."""
    if not ids:
        return []
    if connection.vendor == "postgresql":
        return [(f"{column} = ANY(%s)", [list(ids)])]
    return [
        (f"{column} IN ({', '.join(['%s'] * len(ids[at : at + 900]))})", list(ids[at : at + 900]))
        for at in range(0, len(ids), 900)
    ]
