"""Bills: one drawn on demand (or served from storage when current), sent by e-mail, and a
supplier's period drawn in bulk.

A stored bill is current while what it says has not changed (``Bill.fingerprint``): a
payment that arrived later, a recalculation of the period, a changed price or payee detail
each change the content and so the fingerprint, and the bill is drawn again the next time
it is asked for or by the next bulk run. Files are named by their fingerprint, so a new file
never overwrites the one a reader may be downloading; the old file is removed after the
new row is committed.

A bulk run splits the supplier's accounts into ranges of ids (chunks), each a task of its
own, so the chunks spread over the workers; a chunk draws only the bills that are missing
or out of date, so a run killed half-way and run again ends as one never interrupted.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Max, Min
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from abonent.billing.enums import RunStatus
from abonent.core.audit import audit_record
from abonent.core.errors import DomainError, NotFound, ValidationFailed
from abonent.core.jobs import job_enqueue
from abonent.core.models import Supplier
from abonent.core.money import format_rubles
from abonent.core.periods import Period
from abonent.core.selectors import TermsNotSet
from abonent.customers.models import PersonalAccount, address_short
from abonent.documents.content import BillBook, BillContent
from abonent.documents.models import Bill, BillChunk, BillRun
from abonent.documents.render import bill_pdf, bills_pdf
from abonent.documents.selectors import bill_email_address
from abonent.identity.models import User
from abonent.identity.selectors import RECIPIENT_FIELDS, recipient_from_values
from abonent.notifications.enums import Kind
from abonent.notifications.services import NotifySummary, Occasion, email_send, notify_many

CHUNK_SIZE = 500  # accounts a chunk (one task, one transaction a batch)
BATCH = 50  # bills typeset in one Typst document
LEASE = dt.timedelta(minutes=5)


class BillNotAvailable(NotFound):
    code = "bill_not_available"
    message = _("Квитанции за {period} нет: в этом периоде по счёту не было начислений")


class BillRunInProgress(DomainError):
    code = "bill_run_in_progress"
    message = _("Квитанции за {period} уже формируются (запуск {started}): дождитесь окончания")


class BillRunNotRunning(DomainError):
    code = "bill_run_not_running"
    message = _("Формирование квитанций №{run} уже закончено")


class NoEmailForBill(ValidationFailed):
    code = "no_email"


@dataclass(frozen=True)
class BillFile:
    """A bill to hand out: the file's bytes and the name to save it under."""

    bill: Bill
    pdf: bytes

    @property
    def filename(self) -> str:
        return f"kvitanciya-{self.bill.account.number}-{self.bill.period}.pdf"


def _book(supplier: Supplier, period: Period) -> BillBook:
    try:
        return BillBook(supplier=supplier, period=period)
    except TermsNotSet:
        raise BillNotAvailable(period=period.label()) from None


def _name(account: PersonalAccount, content: BillContent) -> str:
    return f"bills/{account.supplier_id}/{content.period}/{account.number}-{content.fingerprint[:16]}.pdf"


def _file_save(
    account: PersonalAccount, content: BillContent, pdf: bytes, *, now: dt.datetime, run_id: int | None
) -> Bill:
    """Save a drawn bill's file; returns its row, not yet written."""
    name = default_storage.save(_name(account, content), ContentFile(pdf))
    return Bill(
        account_id=content.account_id,
        period=content.period,
        amount_due=content.amount_due,
        due_on=content.due_on,
        fingerprint=content.fingerprint,
        file=name,
        sha256=hashlib.sha256(pdf).hexdigest(),
        size=len(pdf),
        rendered_at=now,
        run_id=run_id,
    )


def _rows_write(rows: list[Bill], replaced: Iterable[str | None]) -> None:
    """Write the rows in one statement (new ones, and changed ones in place), in a
    transaction; the files they replaced are removed once it commits."""
    with transaction.atomic():
        Bill.objects.bulk_create(
            rows, update_conflicts=True, unique_fields=["account", "period"], update_fields=_BILL_FIELDS
        )
        written = {row.file for row in rows}
        _remove_later(name for name in replaced if name not in written)


_BILL_FIELDS = ["amount_due", "due_on", "fingerprint", "file", "sha256", "size", "rendered_at", "run"]


def _remove_later(names: Iterable[str | None]) -> None:
    stale = [name for name in names if name]

    def remove() -> None:
        for name in stale:
            default_storage.delete(name)

    if stale:
        transaction.on_commit(remove)


def bill_content(*, account: PersonalAccount, period: Period) -> BillContent:
    """What the account's bill for ``period`` says now. Raises BillNotAvailable (no charge
    and no entry in the period, or the supplier's terms do not cover it)."""
    content = _book(account.supplier, period).contents([account]).get(account.pk)
    if content is None:
        raise BillNotAvailable(period=period.label())
    return content


def bill_get(*, account: PersonalAccount, period: Period, now: dt.datetime) -> BillFile:
    """The account's bill for ``period``: the stored file when it is current, otherwise
    drawn now and stored. Raises BillNotAvailable."""
    content = bill_content(account=account, period=period)
    stored = Bill.objects.filter(account=account, period=period).first()
    if stored is not None and stored.fingerprint == content.fingerprint:
        try:
            with default_storage.open(stored.file, "rb") as handle:
                pdf = handle.read()
        except FileNotFoundError:
            pdf = b""
        if pdf and hashlib.sha256(pdf).hexdigest() == stored.sha256:
            stored.account = account
            return BillFile(stored, pdf)
    pdf = bill_pdf(content)
    _rows_write([_file_save(account, content, pdf, now=now, run_id=None)], [stored.file if stored else None])
    bill = Bill.objects.get(account=account, period=period)
    bill.account = account
    return BillFile(bill, pdf)


def bill_email(*, account: PersonalAccount, period: Period, user: User, now: dt.datetime, channel: str) -> str:
    """Send the account's bill for ``period`` to ``user``'s confirmed e-mail as a PDF
    attachment, after the transaction commits; returns the address.

    Raises NoEmailForBill (no confirmed address), BillNotAvailable.
    """
    email = bill_email_address(user=user)
    if not email:
        raise NoEmailForBill(
            {"email": [str(_("Укажите и подтвердите e-mail в профиле — квитанция придёт на него"))]},
            _("Нет подтверждённого e-mail"),
        )
    bill_file = bill_get(account=account, period=period, now=now)
    supplier = account.supplier
    with transaction.atomic():
        email_send(
            to=email,
            subject=str(_("Квитанция за газ за {period}, лицевой счёт {number}")).format(
                period=period.label(), number=account.number
            ),
            body=str(
                _(
                    "Здравствуйте!\n\nКвитанция за {period} по лицевому счёту {number} — во вложении.\n"
                    "К оплате: {amount} до {due}.\n\n{supplier}, горячая линия {phone}"
                )
            ).format(
                period=period.label(),
                number=account.number,
                amount=format_rubles(bill_file.bill.amount_due),
                due=f"{bill_file.bill.due_on:%d.%m.%Y}",
                supplier=supplier.short_name,
                phone=supplier.hotline_phone,
            ),
            kind="bill",
            now=now,
            attachment=bill_file.bill.file,
            attachment_name=bill_file.filename,
        )
        audit_record(
            at=now, actor_id=user.pk, channel=channel, action="bill_email", object_type="bill",
            object_id=bill_file.bill.pk, after={"period": str(period), "to": email},
        )  # fmt: skip
    return email


# --- bulk ----------------------------------------------------------------------------------


@dataclass
class ChunkStats:
    accounts: int = 0  # accounts of the range with a bill for the period
    drawn: int = 0  # bills drawn (new or changed)
    current: int = 0  # bills already current, left as they were
    bytes: int = 0

    def as_json(self) -> dict[str, object]:
        return {"accounts": self.accounts, "drawn": self.drawn, "current": self.current, "bytes": self.bytes}

    def add(self, other: dict[str, object]) -> None:
        self.accounts += int(other.get("accounts", 0))  # type: ignore[call-overload]
        self.drawn += int(other.get("drawn", 0))  # type: ignore[call-overload]
        self.current += int(other.get("current", 0))  # type: ignore[call-overload]
        self.bytes += int(other.get("bytes", 0))  # type: ignore[call-overload]


def bills_run_start(
    *,
    supplier: Supplier,
    period: Period,
    now: dt.datetime,
    actor_id: int | None,
    channel: str,
    chunk_size: int = CHUNK_SIZE,
) -> BillRun:
    """Open a bulk run of the supplier's period and cut its accounts into chunks.

    Raises BillNotAvailable (the supplier's terms do not cover the period), BillRunInProgress.
    """
    _book(supplier, period)
    with transaction.atomic():
        running = (
            BillRun.objects.select_for_update()
            .filter(supplier=supplier, period=period, status=RunStatus.RUNNING)
            .first()
        )
        if running is not None:
            if running.lease_until > now:
                raise BillRunInProgress(period=period.label(), started=f"{running.started_at:%d.%m.%Y %H:%M} UTC")
            running.status = RunStatus.FAILED
            running.finished_at = now
            running.error = "прерван: срок аренды истёк, продолжен новым запуском"
            running.save(update_fields=["status", "finished_at", "error"])
        try:
            with transaction.atomic():
                run = BillRun.objects.create(
                    supplier=supplier, period=period, started_at=now, lease_until=now + LEASE,
                    started_by_id=actor_id, channel=channel,
                )  # fmt: skip
        except IntegrityError:
            raise BillRunInProgress(period=period.label(), started=f"{now:%d.%m.%Y %H:%M} UTC") from None
        ids = PersonalAccount.objects.filter(supplier=supplier).aggregate(low=Min("id"), high=Max("id"))
        chunks = []
        if ids["low"] is not None:
            for first in range(ids["low"], ids["high"] + 1, chunk_size):
                chunks.append(BillChunk(run=run, first_account_id=first, last_account_id=first + chunk_size - 1))
        BillChunk.objects.bulk_create(chunks)
        run.chunks = len(chunks)
        run.save(update_fields=["chunks"])
        audit_record(
            at=now, actor_id=actor_id, channel=channel, action="bill_run_start", object_type="bill_run",
            object_id=run.pk, after={"supplier": supplier.code, "period": str(period)},
        )  # fmt: skip
    return run


def bills_chunk_process(*, chunk_id: int, now: dt.datetime) -> ChunkStats | None:
    """Draw the missing and out-of-date bills of one chunk; None when it was done already.
    Each batch of bills is stored in a transaction of its own, so a chunk killed half-way
    keeps what it stored, and the next attempt finds those current.

    Raises BillRunNotRunning when the run has ended (finished, or taken over)."""
    chunk = BillChunk.objects.select_related("run", "run__supplier").get(pk=chunk_id)
    run = chunk.run
    if chunk.done_at is not None:
        return None
    if run.status != RunStatus.RUNNING:
        raise BillRunNotRunning(run=run.pk)
    BillRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(lease_until=now + LEASE)
    accounts = list(
        PersonalAccount.objects.filter(
            supplier=run.supplier, id__gte=chunk.first_account_id, id__lte=chunk.last_account_id
        ).order_by("id")
    )
    stats = ChunkStats()
    contents = BillBook(supplier=run.supplier, period=run.period).contents(accounts)
    stats.accounts = len(contents)
    stored = {
        account_id: (fingerprint, name)
        for account_id, fingerprint, name in Bill.objects.filter(
            account_id__in=list(contents), period=run.period
        ).values_list("account_id", "fingerprint", "file")
    }
    by_id = {a.pk: a for a in accounts}
    todo = [c for c in contents.values() if stored.get(c.account_id, ("", ""))[0] != c.fingerprint]
    stats.current = len(contents) - len(todo)
    for start in range(0, len(todo), BATCH):
        batch = todo[start : start + BATCH]
        pdfs = bills_pdf(batch)
        rows = []
        for content, pdf in zip(batch, pdfs, strict=True):
            rows.append(_file_save(by_id[content.account_id], content, pdf, now=now, run_id=run.pk))
            stats.drawn += 1
            stats.bytes += len(pdf)
        _rows_write(rows, (stored.get(row.account_id, ("", None))[1] for row in rows))
    with transaction.atomic():
        locked = BillChunk.objects.select_for_update().get(pk=chunk_id)
        if locked.done_at is None:
            locked.done_at = now
            locked.stats = stats.as_json()
            locked.save(update_fields=["done_at", "stats"])
    return stats


def bills_run_finish(*, run_id: int, now: dt.datetime) -> BillRun | None:
    """Close the run if every chunk is done (the last chunk to end does it); None otherwise."""
    with transaction.atomic():
        run = BillRun.objects.select_for_update().get(pk=run_id)
        if run.status != RunStatus.RUNNING or run.parts.filter(done_at__isnull=True).exists():
            return None
        total = ChunkStats()
        for stats in run.parts.values_list("stats", flat=True):
            total.add(stats)
        run.summary = total.as_json()
        run.status = RunStatus.DONE
        run.finished_at = now
        run.save(update_fields=["summary", "status", "finished_at"])
        audit_record(
            at=now, actor_id=run.started_by_id, channel=run.channel, action="bill_run_finish",
            object_type="bill_run", object_id=run.pk, after=run.summary,
        )  # fmt: skip
        from abonent.documents.tasks import bills_email_paperless_task  # the tasks module imports this one

        job_enqueue(bills_email_paperless_task, supplier_id=run.supplier_id, period=str(run.period))
    return run


def bills_run_fail(*, run_id: int, error: str, now: dt.datetime) -> None:
    BillRun.objects.filter(pk=run_id, status=RunStatus.RUNNING).update(
        status=RunStatus.FAILED, error=error[:2000], finished_at=now
    )


def bills_generate(
    *,
    supplier: Supplier,
    period: Period,
    now: Callable[[], dt.datetime],
    actor_id: int | None = None,
    channel: str = "cli",
    chunk_size: int = CHUNK_SIZE,
    on_start: Callable[[int], None] | None = None,
    on_chunk: Callable[[ChunkStats | None], None] | None = None,
) -> BillRun:
    """A whole bulk run in this process, chunk after chunk (the CLI, the tests)."""
    run = bills_run_start(
        supplier=supplier, period=period, now=now(), actor_id=actor_id, channel=channel, chunk_size=chunk_size
    )
    ids = list(run.parts.order_by("first_account_id").values_list("id", flat=True))
    if on_start is not None:
        on_start(len(ids))
    try:
        for chunk_id in ids:
            stats = bills_chunk_process(chunk_id=chunk_id, now=now())
            if on_chunk is not None:
                on_chunk(stats)
    except Exception as exc:
        bills_run_fail(run_id=run.pk, error=f"{type(exc).__name__}: {exc}", now=now())
        raise
    finished = bills_run_finish(run_id=run.pk, now=now())
    assert finished is not None
    return finished


#: Paperless bills told in one transaction.
PAPERLESS_BATCH = 500


def bills_email_paperless(*, supplier: Supplier, period: Period, now: dt.datetime) -> NotifySummary:
    """E-mail the period's bill, as a PDF, for every account of the supplier whose paper
    bill was given up, to the subscriber who gave it up (at their confirmed address), in
    batches. Each account's bill of a period goes once (its notification is unique), so the
    job may run again after a crash or a second bill run. Only bills already drawn are sent:
    the bulk run that draws them sends this job when it ends."""
    summary = NotifySummary()
    rows = (
        Bill.objects.filter(
            period=period,
            account__supplier=supplier,
            account__paperless_user__isnull=False,
            account__paperless_user__is_active=True,
        )
        .order_by("account_id")
        .values_list(
            "account_id", "account__number", "account__locality", "account__street", "account__house",
            "account__apartment", "amount_due", "due_on", "file",
            *(f"account__paperless_user__{name}" if name != "id" else "account__paperless_user_id"
              for name in RECIPIENT_FIELDS),
        )
    )  # fmt: skip
    batch: list[Occasion] = []
    labels: dict[str, str] = {}

    def flush() -> None:
        summary.add(notify_many(kind=Kind.BILL_BY_EMAIL, occasions=batch, supplier=supplier, now=now))
        batch.clear()

    for row in rows.iterator(chunk_size=2000):
        account_id, number, locality, street, house, apartment, amount, due_on, file = row[:9]
        recipient = recipient_from_values(*row[9:])
        if recipient.language not in labels:
            with translation.override(recipient.language):
                labels[recipient.language] = period.label()
        values = {
            "account": number,
            "address": address_short(locality, street, house, apartment),
            "period": labels[recipient.language],
            "amount": format_rubles(amount),
            "due_date": f"{due_on:%d.%m.%Y}",
        }
        batch.append(
            Occasion(
                recipient=recipient,
                key=f"bill_by_email:{account_id}:{period}",
                values=values,
                account_id=account_id,
                attachment=file,
                attachment_name=f"bill-{number}-{period}.pdf",
            )
        )
        if len(batch) >= PAPERLESS_BATCH:
            flush()
    if batch:
        flush()
    return summary
