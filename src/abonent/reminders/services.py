"""Reminders of the day and operators' announcements, sent through the notifications.

A supplier's reminders run once a local day, in its sending hours (from ``RUN_FROM`` until
the evening's quiet): the first run that finds the day not done claims it with a lease,
selects (``selectors.reminders_due``) and tells each batch in its own transaction. A run
that dies is taken over when its lease ends, and the batches it had told are not told
again: each notification is unique per user and occasion. Beat asks every hour
(``reminders_run_due``); the embedded default's scheduler asks the same.
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from abonent.core.audit import audit_record
from abonent.core.errors import DomainError, NotFound, ValidationFailed
from abonent.core.jobs import job_enqueue
from abonent.core.models import Supplier
from abonent.core.selectors import TermsNotSet, suppliers_active
from abonent.identity.models import User
from abonent.identity.selectors import RECIPIENT_FIELDS, recipient_from_values
from abonent.notifications.enums import Kind
from abonent.notifications.policy import QUIET_FROM
from abonent.notifications.services import NotifySummary, Occasion, notify_many
from abonent.reminders.enums import AnnouncementStatus, RunStatus
from abonent.reminders.models import Announcement, ReminderRun
from abonent.reminders.selectors import announcement_audience, reminders_due

logger = logging.getLogger(__name__)

#: Reminders of a day go out from this local time (and until ``QUIET_FROM``).
RUN_FROM = dt.time(10, 0)
#: How long a run holds its day before another may take it over; renewed after each batch.
RUN_LEASE = dt.timedelta(minutes=20)
#: Occasions told in one transaction.
BATCH = 1000
TITLE_LIMIT = 120
TEXT_LIMIT = 2000


def _summary_add(summary: dict[str, Any], kind: str, told: NotifySummary) -> None:
    entry = summary.setdefault(str(kind), {"notified": 0, "repeated": 0})
    entry["notified"] += told.notified
    entry["repeated"] += told.repeated
    for channel, count in told.deliveries.items():
        entry[str(channel)] = entry.get(str(channel), 0) + count


def _claim_day(supplier: Supplier, day: dt.date, now: dt.datetime) -> ReminderRun | None:
    """The day's run, taken by this worker; None when it is done or another holds it."""
    with transaction.atomic():
        run = ReminderRun.objects.select_for_update().filter(supplier=supplier, day=day).first()
        if run is None:
            try:
                with transaction.atomic():
                    return ReminderRun.objects.create(
                        supplier=supplier, day=day, started_at=now, lease_until=now + RUN_LEASE
                    )
            except IntegrityError:  # another worker created it a moment ago
                return None
        if run.status == RunStatus.DONE or (run.status == RunStatus.RUNNING and run.lease_until > now):
            return None
        run.status = RunStatus.RUNNING
        run.lease_until = now + RUN_LEASE
        run.error = ""
        run.save(update_fields=["status", "lease_until", "error"])
        return run


def reminders_run(
    *, supplier: Supplier, now: dt.datetime, size: int = BATCH, force: bool = False
) -> ReminderRun | None:
    """Remind the supplier's subscribers of what is due on its local day at ``now``.

    Returns the run, or None when there was nothing to do: outside the sending hours
    (unless ``force``), the day done already, or another worker on it. A failure is
    recorded on the run (``failed``; the next hourly call takes it up again) and raised.
    """
    local = now.astimezone(zoneinfo.ZoneInfo(supplier.time_zone))
    if not force and not (RUN_FROM <= local.time() < QUIET_FROM):
        return None
    run = _claim_day(supplier, local.date(), now)
    if run is None:
        return None
    summary: dict[str, Any] = dict(run.summary or {})
    try:
        for due in reminders_due(supplier=supplier, day=local.date(), size=size):
            for batch in due.batches:
                told = notify_many(kind=due.kind, occasions=batch, supplier=supplier, now=now)
                _summary_add(summary, due.kind, told)
                ReminderRun.objects.filter(pk=run.pk).update(lease_until=now + RUN_LEASE, summary=summary)
    except TermsNotSet as exc:
        run.status, run.error = RunStatus.DONE, str(exc)
    except Exception as exc:
        ReminderRun.objects.filter(pk=run.pk).update(status=RunStatus.FAILED, error=repr(exc)[:2000], summary=summary)
        raise
    else:
        run.status = RunStatus.DONE
    run.summary = summary
    run.finished_at = now
    run.save(update_fields=["status", "error", "summary", "finished_at"])
    return run


def reminders_run_due(*, now: dt.datetime) -> list[ReminderRun]:
    """Run the day's reminders of every active supplier whose sending hours it is. A
    supplier that fails does not stop the others (its run says why)."""
    runs = []
    for supplier in suppliers_active():
        try:
            run = reminders_run(supplier=supplier, now=now)
        except Exception:
            logger.exception("reminders of %s failed", supplier.code)
            continue
        if run is not None:
            runs.append(run)
    return runs


# --- Announcements --------------------------------------------------------------------


class AnnouncementNotFound(NotFound):
    code = "announcement_not_found"
    message = _("Объявление не найдено")


class AnnouncementAlreadySent(DomainError):
    code = "announcement_already_sent"
    message = _("Объявление уже разослано")


def _announcement_errors(*, title: str, text: str, locality: str, street: str) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not title:
        errors["title"] = [gettext("Напишите заголовок: его видно в push-уведомлении и в списке")]
    elif len(title) > TITLE_LIMIT:
        errors["title"] = [gettext("Заголовок — до {limit} символов").format(limit=TITLE_LIMIT)]
    if not text:
        errors["text"] = [gettext("Напишите текст объявления")]
    elif len(text) > TEXT_LIMIT:
        errors["text"] = [gettext("Текст — до {limit} символов").format(limit=TEXT_LIMIT)]
    if street and not locality:
        errors["street"] = [gettext("Улица указывается вместе с населённым пунктом")]
    if len(locality) > 150 or len(street) > 150:
        errors["locality" if len(locality) > 150 else "street"] = [gettext("Не длиннее 150 символов")]
    return errors


def announcement_create(
    *,
    supplier: Supplier,
    title: str,
    text: str,
    actor: User,
    now: dt.datetime,
    locality: str = "",
    street: str = "",
    safety: bool = False,
) -> Announcement:
    """A draft announcement to the subscribers of ``supplier`` (of ``locality``, of its
    ``street``). Raises ValidationFailed (nothing written)."""
    title, text = " ".join(title.split()), text.strip()
    locality, street = " ".join(locality.split()), " ".join(street.split())
    errors = _announcement_errors(title=title, text=text, locality=locality, street=street)
    if errors:
        raise ValidationFailed(errors)
    return Announcement.objects.create(
        supplier=supplier,
        title=title,
        text=text,
        locality=locality,
        street=street,
        safety=safety,
        created_by=actor,
        created_at=now,
    )


def announcement_update(
    *,
    announcement_id: int,
    title: str,
    text: str,
    locality: str = "",
    street: str = "",
    safety: bool = False,
) -> Announcement:
    """Change a draft (a sent one stays as it was sent). Raises AnnouncementNotFound,
    AnnouncementAlreadySent, ValidationFailed (nothing written)."""
    title, text = " ".join(title.split()), text.strip()
    locality, street = " ".join(locality.split()), " ".join(street.split())
    with transaction.atomic():
        announcement = Announcement.objects.select_for_update().filter(pk=announcement_id).first()
        if announcement is None:
            raise AnnouncementNotFound()
        if announcement.status != AnnouncementStatus.DRAFT:
            raise AnnouncementAlreadySent()
        errors = _announcement_errors(title=title, text=text, locality=locality, street=street)
        if errors:
            raise ValidationFailed(errors)
        announcement.title, announcement.text, announcement.safety = title, text, safety
        announcement.locality, announcement.street = locality, street
        announcement.save(update_fields=["title", "text", "locality", "street", "safety"])
    return announcement


def announcement_send(*, announcement_id: int, actor: User, now: dt.datetime, channel: str) -> Announcement:
    """Send a draft: it is marked sent at once (a second press sends nothing) and delivered
    by a job. Raises AnnouncementNotFound, AnnouncementAlreadySent, ValidationFailed (the
    draft was edited into something that cannot be sent)."""
    with transaction.atomic():
        announcement = Announcement.objects.select_for_update().filter(pk=announcement_id).first()
        if announcement is None:
            raise AnnouncementNotFound()
        if announcement.status != AnnouncementStatus.DRAFT:
            raise AnnouncementAlreadySent()
        errors = _announcement_errors(
            title=announcement.title, text=announcement.text, locality=announcement.locality, street=announcement.street
        )
        if errors:
            raise ValidationFailed(errors)
        announcement.status = AnnouncementStatus.SENDING
        announcement.sent_by = actor
        announcement.sent_at = now
        announcement.save(update_fields=["status", "sent_by", "sent_at"])
        audit_record(
            at=now,
            actor_id=actor.pk,
            channel=channel,
            action="announcement.send",
            object_type="reminders.announcement",
            object_id=announcement.pk,
            before={"status": AnnouncementStatus.DRAFT},
            after={"status": AnnouncementStatus.SENDING, "safety": announcement.safety},
        )
        from abonent.reminders.tasks import announcement_deliver  # the tasks module imports this one

        job_enqueue(announcement_deliver, announcement_id=announcement.pk)
    return announcement


def announcement_deliver(*, announcement_id: int, now: dt.datetime, size: int = BATCH) -> Announcement:
    """Tell the announcement's audience, batch by batch (a job; run again after a crash it
    tells only those not told yet). Raises AnnouncementNotFound."""
    announcement = Announcement.objects.select_related("supplier").filter(pk=announcement_id).first()
    if announcement is None:
        raise AnnouncementNotFound()
    if announcement.status != AnnouncementStatus.SENDING:
        return announcement
    kind = Kind.SAFETY_NOTICE if announcement.safety else Kind.ANNOUNCEMENT
    key = f"announcement:{announcement.pk}"
    values = {"title": announcement.title, "text": announcement.text, "account": "", "address": ""}
    summary: dict[str, Any] = {}
    batch: list[Occasion] = []
    for row in (
        announcement_audience(announcement=announcement).values_list(*RECIPIENT_FIELDS).iterator(chunk_size=2000)
    ):
        batch.append(Occasion(recipient=recipient_from_values(*row), key=key, values=values))
        if len(batch) >= size:
            _summary_add(
                summary, kind, notify_many(kind=kind, occasions=batch, supplier=announcement.supplier, now=now)
            )
            batch = []
    if batch:
        _summary_add(summary, kind, notify_many(kind=kind, occasions=batch, supplier=announcement.supplier, now=now))
    Announcement.objects.filter(pk=announcement.pk).update(
        status=AnnouncementStatus.SENT, finished_at=now, summary=summary.get(str(kind), {})
    )
    announcement.refresh_from_db()
    return announcement
