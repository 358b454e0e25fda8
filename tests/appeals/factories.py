"""Cases in any status, built as rows (to reach a status without walking the workflow to
it), the people around them, and files as an interface hands them over."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

from abonent.appeals.enums import AppealKind, Category, ConnectionProgram, DocumentKind, NotifyChannel, Status, Usage
from abonent.appeals.models import Appeal, ConnectionDetails
from abonent.appeals.services import ConnectionRequest, NewFile
from abonent.core.models import Supplier
from abonent.customers.models import AccountLink, PersonalAccount
from abonent.identity.models import User
from tests.core import files
from tests.factories import account_make
from tests.web.identity import user_make

#: Monday 23.11.2026, 10:00 in Moscow: a working day in the middle of a working week.
NOW = dt.datetime(2026, 11, 23, 7, 0, tzinfo=dt.UTC)
APPLICANT_PHONE = "+79123456789"
APPLICANT_EMAIL = "maria@example.org"


def at(**delta: float) -> dt.datetime:
    return NOW + dt.timedelta(**delta)


def applicant_make(**fields: Any) -> User:
    """A subscriber with a confirmed phone and a confirmed e-mail."""
    values: dict[str, Any] = {"phone": APPLICANT_PHONE, "email": APPLICANT_EMAIL, **fields}
    return user_make(**values)


def operator_make(*, phone: str = "+79990000001", **fields: Any) -> User:
    return user_make(phone=phone, is_staff=True, first_name="Ольга", last_name="Смирнова", **fields)


def account_linked(*, user: User, supplier: Supplier, number: str = "770000000001") -> PersonalAccount:
    account = account_make(supplier=supplier, number=number)
    AccountLink.objects.create(user=user, account=account, proof="pin", channel="web", linked_at=NOW)
    return account


def appeal_make(
    *,
    supplier: Supplier,
    user: User | None = None,
    kind: str = AppealKind.APPEAL,
    status: str = Status.NEW,
    category: str | None = None,
    created_at: dt.datetime = NOW,
    **fields: Any,
) -> Appeal:
    """A case standing in ``status``, as if it got there through the workflow. A case that
    waits for its applicant was asked from NEW unless ``status_before_waiting`` says else."""
    default_category = {
        AppealKind.APPEAL: Category.OTHER,
        AppealKind.CONNECTION: Category.CONNECTION,
        AppealKind.FEEDBACK: Category.FEEDBACK,
    }[AppealKind(kind)]
    values: dict[str, Any] = {
        "summary": "Прошу пересчитать начисление за октябрь",
        "channel": "web",
        "notify_channel": NotifyChannel.PORTAL,
        "status_changed_at": created_at,
        "status_before_waiting": Status.NEW if status == Status.WAITING else "",
    }
    if kind == AppealKind.FEEDBACK:
        values.update(guest_name="Пётр", guest_contact="petr@example.org", notify_channel=NotifyChannel.EMAIL)
    values.update(fields)
    return Appeal.objects.create(
        kind=kind,
        category=category or default_category,
        supplier=supplier,
        user=user,
        status=status,
        created_at=created_at,
        **values,
    )


def connection_details_make(appeal: Appeal, **fields: Any) -> ConnectionDetails:
    values: dict[str, Any] = {
        "program": ConnectionProgram.DOGAZIFICATION,
        "applicant_name": "Иванова Мария Петровна",
        "applicant_phone": APPLICANT_PHONE,
        "object_address": "Московская область, г. Подольск, ул. Лесная, д. 7",
        "land_cadastral_number": "50:55:0010203:45",
        "house_cadastral_number": "50:55:0010203:146",
        "max_hourly_m3": Decimal("5.000"),
        "usages": [Usage.COOKING, Usage.HEATING],
        **fields,
    }
    return ConnectionDetails.objects.create(appeal=appeal, **values)


def new_file(
    content: bytes, name: str = "photo.jpg", *, document_kind: str = DocumentKind.OTHER, size: int | None = None
) -> NewFile:
    """A file as an interface hands it over; ``size`` as the interface states it (the length
    of the content unless told)."""
    return NewFile(
        name=name, content=io.BytesIO(content), size=len(content) if size is None else size, document_kind=document_kind
    )


def connection_documents() -> list[NewFile]:
    """The four documents a connection application needs."""
    return [
        new_file(files.pdf(), "Выписка ЕГРН участок.pdf", document_kind=DocumentKind.LAND_TITLE),
        new_file(files.pdf(), "Выписка ЕГРН дом.pdf", document_kind=DocumentKind.HOUSE_TITLE),
        new_file(files.jpeg(), "паспорт.jpg", document_kind=DocumentKind.PASSPORT),
        new_file(files.png(), "план.png", document_kind=DocumentKind.SITE_PLAN),
    ]


def connection_request(supplier: Supplier, **fields: Any) -> ConnectionRequest:
    values: dict[str, Any] = {
        "supplier_id": supplier.pk,
        "program": ConnectionProgram.DOGAZIFICATION,
        "applicant_name": "Иванова Мария Петровна",
        "applicant_phone": "8 (912) 345-67-89",
        "object_address": "Московская область, г. Подольск, ул. Лесная, д. 7",
        "land_cadastral_number": "50:55:0010203:45",
        "house_cadastral_number": "50:55:0010203:146",
        "max_hourly_m3": "5",
        "usages": [Usage.COOKING, Usage.HEATING],
        "comment": "",
        **fields,
    }
    return ConnectionRequest(**values)


def rows() -> dict[str, int]:
    """How many rows each table a case writes to has: what a refused call must leave as it was."""
    from abonent.appeals.models import AnswerTemplate, Attachment, Event, Message
    from abonent.core.models import AuditRecord
    from abonent.notifications.models import Delivery

    return {
        "appeals": Appeal.objects.count(),
        "connection_details": ConnectionDetails.objects.count(),
        "messages": Message.objects.count(),
        "attachments": Attachment.objects.count(),
        "events": Event.objects.count(),
        "audit": AuditRecord.objects.count(),
        "deliveries": Delivery.objects.count(),
        "templates": AnswerTemplate.objects.count(),
    }


NO_ROWS = dict.fromkeys(
    ["appeals", "connection_details", "messages", "attachments", "events", "audit", "deliveries", "templates"], 0
)


def stored_files(root: Any) -> list[str]:
    """The files under the storage's root, as paths relative to it."""
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())
