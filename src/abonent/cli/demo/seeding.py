"""The whole seed: suppliers, staff, the accounts in batches, then their money history (billing
runs and payments month by month, ``history``), with a report at the end.

Every step is idempotent. Suppliers are found by code and staff by login before anything
is created. Accounts are numbered deterministically, so the accounts a previous run made
are recognised by their numbers: the run finds how many of each supplier's accounts
exist already (they were written in order, batch by batch) and makes only the rest, and
each batch skips numbers that exist in any case.
"""

from __future__ import annotations

import datetime as dt
import functools
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace

from django.contrib.auth.models import Group
from django.db import connection, connections, transaction

from abonent.cli.demo.appeals import AppealsReport, appeals_ensure
from abonent.cli.demo.generator import GeneratedAccount, IdCursor, Row, SupplierPlan, account_generate, supplier_plan
from abonent.cli.demo.history import HistoryReport, history_run
from abonent.cli.demo.notifications import NotificationsReport, notifications_ensure
from abonent.cli.demo.suppliers import DEMO_SUPPLIERS, DemoSupplier, accounts_split
from abonent.cli.demo.writer import TABLES, BulkWriter
from abonent.core.models import LinkProof, Supplier, SupplierTerms
from abonent.core.selectors import supplier_terms_on
from abonent.core.services import supplier_create
from abonent.customers.enums import AccountStatus
from abonent.customers.models import AccountLink, PersonalAccount
from abonent.identity.enums import AuthChannel, ConsentKind
from abonent.identity.models import Consent, User
from abonent.identity.roles import ADMINISTRATOR, OPERATOR, SENIOR_OPERATOR, roles_sync
from abonent.identity.selectors import consent_document_get
from abonent.notifications.models import Notification

_IN_CHUNK = 900  # SQLite's old limit on the parameters of one query


@dataclass(frozen=True)
class StaffMember:
    role: str
    username: str
    password: str
    superuser: bool
    group: str
    last_name: str
    first_name: str
    middle_name: str


STAFF: tuple[StaffMember, ...] = (
    StaffMember("Администратор", "admin", "admin-demo-2026", True, ADMINISTRATOR, "Громов", "Алексей", "Павлович"),
    StaffMember("Оператор", "operator", "operator-demo-2026", False, OPERATOR, "Морозова", "Ольга", "Викторовна"),
    StaffMember(
        "Старший оператор", "senior", "senior-demo-2026", False, SENIOR_OPERATOR, "Лебедева", "Ирина", "Сергеевна"
    ),
)


@dataclass(frozen=True)
class DemoSubscriber:
    """A subscriber to try the portal with: the first demo account of the first supplier
    is linked to them, the others wait to be linked with their PINs."""

    phone: str
    email: str
    password: str
    last_name: str
    first_name: str
    linked: str = ""  # the number of the account linked to them


SUBSCRIBER = DemoSubscriber(
    phone="+79990000001",
    email="abonent@demo.example",
    password="abonent-demo-2026",
    last_name="Смирнова",
    first_name="Анна",
)


@dataclass(frozen=True)
class DemoAccount:
    number: str
    pin: str
    holder: str
    address: str
    meters: int


@dataclass
class SupplierReport:
    short_name: str
    code: str
    time_zone: str
    window: tuple[int, int]
    link_proofs: list[str]
    regions: list[str]
    created: bool
    accounts: list[DemoAccount] = field(default_factory=list)


HISTORY_KEYS = ("tariff", "norm", "benefit", "charge", "penalty", "payment")


@dataclass
class SeedReport:
    created: dict[str, int]  # "supplier", "staff", the writer's tables ("account", "reading" …), HISTORY_KEYS
    suppliers: list[SupplierReport]
    staff: tuple[StaffMember, ...]
    subscriber: DemoSubscriber
    seconds: float
    history: HistoryReport | None = None
    appeals: AppealsReport = field(default_factory=AppealsReport)
    messages: int = 0  # the demo subscriber's notifications, made now or before

    @property
    def nothing_new(self) -> bool:
        return not any(self.created.values())


def _supplier_ensure(demo: DemoSupplier) -> tuple[Supplier, bool]:
    existing = Supplier.objects.filter(code=demo.code).first()
    if existing is not None:
        return existing, False
    return supplier_create(terms=dict(demo.terms), **demo.fields), True


class _Pipeline:
    """Writes each batch in a worker thread while the main thread makes the next one, with
    at most one write in flight; without ``threaded``, writes in the calling thread.

    The worker has a database connection of its own (Django's are per thread): PostgreSQL
    checks the foreign keys of one batch at its commit while Python draws the next.
    """

    def __init__(self, *, threaded: bool) -> None:
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="abonent-seed") if threaded else None
        self._pending: tuple[Future[None], Callable[[], None] | None] | None = None

    def submit(self, write: Callable[[], None], *, done: Callable[[], None] | None) -> None:
        self.wait()
        if self._executor is None:
            write()
            if done is not None:
                done()
        else:
            self._pending = (self._executor.submit(write), done)

    def wait(self) -> None:
        if self._pending is not None:
            future, done = self._pending
            self._pending = None
            future.result()
            if done is not None:
                done()

    def __enter__(self) -> _Pipeline:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.wait()
        finally:
            if self._executor is not None:
                self._executor.submit(connections.close_all).result()
                self._executor.shutdown()


def _staff_ensure() -> int:
    """The demo staff, each in the group of their role; returns how many were created."""
    roles_sync()
    groups = {group.name: group for group in Group.objects.filter(name__in=[m.group for m in STAFF])}
    created = 0
    for member in STAFF:
        if User.objects.filter(username=member.username).exists():
            continue
        user = User(
            username=member.username,
            last_name=member.last_name,
            first_name=member.first_name,
            middle_name=member.middle_name,
            is_staff=True,
            is_superuser=member.superuser,
        )
        user.set_password(member.password)
        user.save()
        user.groups.add(groups[member.group])
        created += 1
    return created


def _subscriber_ensure(suppliers: list[SupplierReport], *, now: dt.datetime) -> tuple[DemoSubscriber, int]:
    """The demo subscriber, confirmed, with consent to the processing of personal data, and
    the first demo account linked; returns them and 1 if they were created now."""
    created = 0
    user = User.objects.filter(phone=SUBSCRIBER.phone).first()
    if user is None:
        user = User(
            username="demo-subscriber",
            phone=SUBSCRIBER.phone,
            email=SUBSCRIBER.email,
            last_name=SUBSCRIBER.last_name,
            first_name=SUBSCRIBER.first_name,
            phone_confirmed_at=now,
            email_confirmed_at=now,
        )
        user.set_password(SUBSCRIBER.password)
        user.save()
        document = consent_document_get(kind=ConsentKind.PERSONAL_DATA, now=now)
        Consent.objects.create(
            user=user, document=document, kind=ConsentKind.PERSONAL_DATA, granted_at=now, channel=AuthChannel.WEB
        )
        created = 1
    first = next((s.accounts[0] for s in suppliers if s.accounts), None)
    if first is None:
        return SUBSCRIBER, created
    account = PersonalAccount.objects.get(supplier__code=suppliers[0].code, number=first.number)
    AccountLink.objects.get_or_create(
        user=user,
        account=account,
        defaults={"proof": LinkProof.PIN, "channel": AuthChannel.WEB, "linked_at": now, "name": "Дом"},
    )
    return replace(SUBSCRIBER, linked=first.number), created


def _appeals_ensure(suppliers: list[SupplierReport], *, today: dt.date) -> AppealsReport:
    """The demo subscriber's appeals and application, made through the appeals services on
    the account linked to them, and the operators' ready answers."""
    user = User.objects.filter(phone=SUBSCRIBER.phone).first()
    operator = User.objects.filter(username="operator").first()
    first = next((s.accounts[0] for s in suppliers if s.accounts), None)
    if user is None or operator is None or first is None:
        return AppealsReport()
    account = PersonalAccount.objects.select_related("supplier").get(
        supplier__code=suppliers[0].code, number=first.number
    )
    return appeals_ensure(user=user, account=account, operator=operator, today=today)


def _notifications_ensure(suppliers: list[SupplierReport], *, today: dt.date) -> NotificationsReport:
    """The demo subscriber's phone registered for push and their messages: the reading
    window, the last bill, an operator's announcement (through the notifications and the
    reminders services)."""
    user = User.objects.filter(phone=SUBSCRIBER.phone).first()
    operator = User.objects.filter(username="operator").first()
    first = next((s.accounts[0] for s in suppliers if s.accounts), None)
    if user is None or operator is None or first is None:
        return NotificationsReport()
    account = PersonalAccount.objects.select_related("supplier").get(
        supplier__code=suppliers[0].code, number=first.number
    )
    return notifications_ensure(user=user, account=account, operator=operator, today=today)


def plan_for(demo: DemoSupplier, supplier: Supplier, *, seed: int, today: dt.date) -> SupplierPlan:
    windows = SupplierTerms.objects.filter(supplier=supplier).values_list(
        "effective_from", "reading_window_start_day", "reading_window_end_day"
    )
    return supplier_plan(
        demo=demo, supplier_id=supplier.pk, time_zone=supplier.time_zone, seed=seed, today=today, windows=list(windows)
    )


def _existing_numbers(supplier_id: int, numbers: Iterable[str]) -> set[str]:
    wanted = list(numbers)
    found: set[str] = set()
    for at in range(0, len(wanted), _IN_CHUNK):
        chunk = wanted[at : at + _IN_CHUNK]
        found.update(
            PersonalAccount.objects.filter(supplier_id=supplier_id, number__in=chunk).values_list("number", flat=True)
        )
    return found


def _first_missing(plan: SupplierPlan, target: int) -> int:
    """The first index below ``target`` whose account is not there (earlier runs wrote in
    order, so what exists is a prefix): a binary search, a score of queries for a million."""
    low, high = 0, target
    while low < high:
        middle = (low + high) // 2
        if PersonalAccount.objects.filter(supplier_id=plan.supplier_id, number=plan.number(middle)).exists():
            low = middle + 1
        else:
            high = middle
    return low


def _demo_accounts(plan: SupplierPlan, target: int) -> list[DemoAccount]:
    """Accounts to try the portal with: two active ones with meters and one without."""
    with_meters: list[GeneratedAccount] = []
    without: list[GeneratedAccount] = []
    scratch = IdCursor()
    for index in range(min(target, 500)):
        account = account_generate(plan, index, scratch)
        if account.status != AccountStatus.ACTIVE.value:
            continue
        if account.meters and len(with_meters) < 2:
            with_meters.append(account)
        elif not account.meters and not without:
            without.append(account)
        if len(with_meters) == 2 and without:
            break
    chosen = with_meters + without
    present = _existing_numbers(plan.supplier_id, (a.number for a in chosen))
    return [DemoAccount(a.number, a.pin, a.holder, a.address, len(a.meters)) for a in chosen if a.number in present]


def seed_run(
    *,
    accounts: int,
    seed: int,
    today: dt.date,
    batch_size: int,
    billing: bool = True,
    on_start: Callable[[int], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
    on_history_start: Callable[[int], None] | None = None,
    on_history_progress: Callable[[int], None] | None = None,
) -> SeedReport:
    """Load the demo data: ``accounts`` personal accounts split between the demo suppliers,
    and (with ``billing``) their charges, penalties and payments over the history.

    ``on_start`` is told how many accounts are to be made, ``on_progress`` how many more
    are done after each batch; ``on_history_start`` how many (month, supplier) steps the
    history has, ``on_history_progress`` how many more are done.
    """
    started = time.perf_counter()
    created = {
        "supplier": 0,
        "staff": 0,
        "subscriber": 0,
        **{table.key: 0 for table in TABLES},
        **dict.fromkeys(HISTORY_KEYS, 0),
        "appeal": 0,
        "answer_template": 0,
        "notification": 0,
        "push_device": 0,
    }
    with transaction.atomic():
        suppliers = [_supplier_ensure(demo) for demo in DEMO_SUPPLIERS]
        created["supplier"] = sum(1 for _, new in suppliers if new)
        created["staff"] = _staff_ensure()

    plans = [
        plan_for(demo, supplier, seed=seed, today=today)
        for demo, (supplier, _) in zip(DEMO_SUPPLIERS, suppliers, strict=True)
    ]
    targets = accounts_split(accounts)
    starts = [_first_missing(plan, target) for plan, target in zip(plans, targets, strict=True)]
    if on_start is not None:
        on_start(sum(target - start for start, target in zip(starts, targets, strict=True)))

    writer = BulkWriter()
    ids = writer.next_ids()
    grown: set[str] = set()
    with _Pipeline(threaded=writer.postgres and not connection.in_atomic_block) as pipeline:
        for plan, start, target in zip(plans, starts, targets, strict=True):
            for batch_start in range(start, target, batch_size):
                indices = range(batch_start, min(batch_start + batch_size, target))
                existing = _existing_numbers(plan.supplier_id, (plan.number(i) for i in indices))
                first = ids.copy()
                rows: dict[str, list[Row]] = {table.key: [] for table in TABLES}
                for index in indices:
                    if existing and plan.number(index) in existing:
                        continue
                    account = account_generate(plan, index, ids)
                    rows["account"].append(account.account)
                    rows["equipment"] += account.equipment
                    rows["contract"] += account.contracts
                    rows["meter"] += account.meters
                    rows["reading"] += account.readings
                for table in TABLES:
                    created[table.key] += len(rows[table.key])
                if rows["account"]:
                    grown.add(plan.demo.code)
                pipeline.submit(
                    functools.partial(writer.write_batch, rows, first, ids.copy()),
                    done=functools.partial(on_progress, len(indices)) if on_progress else None,
                )

    if writer.postgres and any(created[table.key] for table in TABLES):
        writer.analyze()  # the planner's statistics of tables that grew by millions of rows at once
    reports = []
    for plan, target, (supplier, new) in zip(plans, targets, suppliers, strict=True):
        terms = supplier_terms_on(supplier=supplier, day=today)
        reports.append(
            SupplierReport(
                short_name=supplier.short_name,
                code=supplier.code,
                time_zone=supplier.time_zone,
                window=(terms.reading_window_start_day, terms.reading_window_end_day),
                link_proofs=list(terms.link_proofs),
                regions=[region.name for region in plan.demo.regions],
                created=new,
                accounts=_demo_accounts(plan, target),
            )
        )
    history = None
    if billing:
        demo_number = reports[0].accounts[0].number if reports and reports[0].accounts else ""
        history = history_run(
            suppliers=[(supplier, plan) for (supplier, _), plan in zip(suppliers, plans, strict=True)],
            seed=seed,
            today=today,
            demo_number=demo_number,
            grown=frozenset(grown),
            on_start=on_history_start,
            on_progress=on_history_progress,
        )
        for key in HISTORY_KEYS:
            created[key] = getattr(history, key)
    with transaction.atomic():
        subscriber, created["subscriber"] = _subscriber_ensure(reports, now=dt.datetime.now(dt.UTC))
    told_before = Notification.objects.filter(user__phone=SUBSCRIBER.phone).count()
    appeals = _appeals_ensure(reports, today=today)
    created["appeal"], created["answer_template"] = appeals.appeals, appeals.templates
    messages = _notifications_ensure(reports, today=today)
    created["push_device"] = messages.devices
    # the appeals' answers are told too: every message of the demo subscriber made now
    created["notification"] = Notification.objects.filter(user__phone=SUBSCRIBER.phone).count() - told_before
    return SeedReport(
        created=created,
        suppliers=reports,
        staff=STAFF,
        subscriber=subscriber,
        seconds=time.perf_counter() - started,
        history=history,
        appeals=appeals,
        messages=told_before + created["notification"],
    )
