"""An application for connection of a house to the gas network: what it records, each bad
value of each field, and the documents it cannot go without."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from abonent.appeals.enums import AppealKind, Category, DocumentKind, NotifyChannel, Role, Status
from abonent.appeals.models import Appeal, Attachment, ConnectionDetails, Event, Message
from abonent.appeals.services import connection_apply
from abonent.core.errors import ValidationFailed
from abonent.core.models import Supplier
from abonent.identity.models import User
from tests.appeals.factories import (
    NO_ROWS,
    NOW,
    applicant_make,
    at,
    connection_documents,
    connection_request,
    new_file,
    rows,
    stored_files,
)
from tests.core import files

pytestmark = pytest.mark.django_db

HOURLY_ERROR = "Укажите расход числом больше 0 и не больше 500 м³/ч, например 5 или 6,5"
PHONE_ERROR = "Введите номер мобильного телефона России: +7 912 345-67-89 или 8 912 345-67-89"


def apply(user: User, supplier: Supplier, *, files_: list[Any] | None = None, **fields: Any) -> Appeal:
    notify = fields.pop("notify_channel", NotifyChannel.PORTAL)
    return connection_apply(
        user=user,
        request=connection_request(supplier, **fields),
        files=connection_documents() if files_ is None else files_,
        notify_channel=notify,
        channel="web",
        now=NOW,
    )


def test_an_application_with_its_documents(supplier: Supplier, applicant: User, media: Path) -> None:
    appeal = apply(
        applicant,
        supplier,
        comment="  Газ до границы участка подведён в 2024 году.  ",
        notify_channel=NotifyChannel.SMS,
    )

    appeal.refresh_from_db()
    assert (
        appeal.kind,
        appeal.category,
        appeal.supplier,
        appeal.account,
        appeal.user,
        appeal.status,
        appeal.summary,
        appeal.notify_channel,
        appeal.channel,
        appeal.created_at,
        appeal.due_on,
    ) == (
        AppealKind.CONNECTION,
        Category.CONNECTION,
        supplier,
        None,
        applicant,
        Status.NEW,
        "догазификация (бесплатно до границы участка): Московская область, г. Подольск, ул. Лесная, д. 7",
        NotifyChannel.SMS,
        "web",
        NOW,
        at(days=3).date(),  # checked within 3 working days: Thursday 26.11.2026
    )
    assert ConnectionDetails.objects.filter(appeal=appeal).values().get() == {
        "appeal_id": appeal.pk,
        "program": "dogazification",
        "applicant_name": "Иванова Мария Петровна",
        "applicant_phone": "+79123456789",
        "object_address": "Московская область, г. Подольск, ул. Лесная, д. 7",
        "land_cadastral_number": "50:55:0010203:45",
        "house_cadastral_number": "50:55:0010203:146",
        "max_hourly_m3": Decimal("5.000"),
        "usages": ["cooking", "heating"],
    }
    assert appeal.connection.simplified is True
    [message] = Message.objects.filter(appeal=appeal)
    assert (message.role, message.action, message.text) == (
        Role.SUBSCRIBER,
        "create",
        "Газ до границы участка подведён в 2024 году.",
    )
    assert list(
        Attachment.objects.filter(appeal=appeal).order_by("pk").values_list("document_kind", "name", "mime", "message")
    ) == [
        (DocumentKind.LAND_TITLE, "Выписка ЕГРН участок.pdf", "application/pdf", message.pk),
        (DocumentKind.HOUSE_TITLE, "Выписка ЕГРН дом.pdf", "application/pdf", message.pk),
        (DocumentKind.PASSPORT, "паспорт.jpg", "image/jpeg", message.pk),
        (DocumentKind.SITE_PLAN, "план.png", "image/png", message.pk),
    ]
    assert len(stored_files(media)) == 4
    assert list(Event.objects.filter(appeal=appeal).values_list("action", "old_status", "new_status", "actor")) == [
        ("create", "", Status.NEW, applicant.pk)
    ]
    assert rows()["deliveries"] == 0


def test_what_is_typed_is_tidied(supplier: Supplier, applicant: User, media: Path) -> None:
    appeal = apply(
        applicant,
        supplier,
        program="paid",
        applicant_name="  Иванова   Мария\tПетровна ",
        applicant_phone="+7 (912) 345-67-89",
        object_address=" Подольск,\n ул. Лесная,   д. 7 ",
        land_cadastral_number=" 50:55: 0010203:45 ",
        house_cadastral_number="50:55:0010203:146",
        max_hourly_m3=" 6,5 ",
        usages=["cooking", "water_heating", "cooking"],
    )

    details = ConnectionDetails.objects.get(appeal=appeal)
    assert (
        details.program,
        details.applicant_name,
        details.applicant_phone,
        details.object_address,
        details.land_cadastral_number,
        details.max_hourly_m3,
        details.usages,
    ) == (
        "paid",
        "Иванова Мария Петровна",
        "+79123456789",
        "Подольск, ул. Лесная, д. 7",
        "50:55:0010203:45",
        Decimal("6.500"),
        ["cooking", "water_heating"],
    )
    assert appeal.summary == "технологическое присоединение (платно): Подольск, ул. Лесная, д. 7"


@pytest.mark.parametrize(
    ("hourly", "stored", "simplified"),
    [
        ("0.001", Decimal("0.001"), True),
        ("7", Decimal("7.000"), True),
        ("7,000", Decimal("7.000"), True),
        ("7.001", Decimal("7.001"), False),
        (Decimal("42.5"), Decimal("42.500"), False),
        ("500", Decimal("500.000"), False),
    ],
)
def test_the_simplified_case_is_up_to_7_cubic_metres_an_hour(
    supplier: Supplier, applicant: User, media: Path, hourly: Any, stored: Decimal, simplified: bool
) -> None:
    appeal = apply(applicant, supplier, max_hourly_m3=hourly)

    details = ConnectionDetails.objects.get(appeal=appeal)
    assert (details.max_hourly_m3, details.simplified) == (stored, simplified)


def _cadastral(what: str) -> str:
    return f"Кадастровый номер {what} записывается так: 50:21:0110501:123"


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"supplier_id": None}, {"supplier_id": ["Выберите поставщика газа из списка"]}),
        ({"supplier_id": 999_999}, {"supplier_id": ["Выберите поставщика газа из списка"]}),
        ({"program": "free"}, {"program": ["Выберите: догазификация или технологическое присоединение"]}),
        ({"program": ""}, {"program": ["Выберите: догазификация или технологическое присоединение"]}),
        ({"applicant_name": " \t "}, {"applicant_name": ["Укажите фамилию, имя и отчество заявителя"]}),
        ({"applicant_name": "Я" * 201}, {"applicant_name": ["ФИО длиннее 200 знаков"]}),
        ({"applicant_phone": ""}, {"applicant_phone": [PHONE_ERROR]}),
        ({"applicant_phone": "12345"}, {"applicant_phone": [PHONE_ERROR]}),
        ({"applicant_phone": "+7 495 123-45-67"}, {"applicant_phone": [PHONE_ERROR]}),  # not a mobile
        ({"applicant_phone": "+1 912 345-67-89"}, {"applicant_phone": [PHONE_ERROR]}),
        ({"object_address": "  "}, {"object_address": ["Укажите адрес дома, который нужно подключить"]}),
        ({"object_address": "д" * 301}, {"object_address": ["Адрес длиннее 300 знаков"]}),
        ({"land_cadastral_number": ""}, {"land_cadastral_number": [_cadastral("участка")]}),
        ({"land_cadastral_number": "50-21-0110501-123"}, {"land_cadastral_number": [_cadastral("участка")]}),
        ({"land_cadastral_number": "5:21:0110501:123"}, {"land_cadastral_number": [_cadastral("участка")]}),
        ({"land_cadastral_number": "50:21:01105:123"}, {"land_cadastral_number": [_cadastral("участка")]}),
        ({"land_cadastral_number": "50:21:0110501:1234567890"}, {"land_cadastral_number": [_cadastral("участка")]}),
        ({"house_cadastral_number": "50:21:0110501"}, {"house_cadastral_number": [_cadastral("дома")]}),
        ({"house_cadastral_number": "дом 5"}, {"house_cadastral_number": [_cadastral("дома")]}),
        ({"max_hourly_m3": "0"}, {"max_hourly_m3": [HOURLY_ERROR]}),
        ({"max_hourly_m3": "0.000"}, {"max_hourly_m3": [HOURLY_ERROR]}),
        ({"max_hourly_m3": "-1"}, {"max_hourly_m3": [HOURLY_ERROR]}),
        ({"max_hourly_m3": "500.001"}, {"max_hourly_m3": [HOURLY_ERROR]}),
        ({"max_hourly_m3": "abc"}, {"max_hourly_m3": [HOURLY_ERROR]}),
        ({"max_hourly_m3": "1.2345"}, {"max_hourly_m3": [HOURLY_ERROR]}),
        ({"max_hourly_m3": ""}, {"max_hourly_m3": [HOURLY_ERROR]}),
        ({"max_hourly_m3": "NaN"}, {"max_hourly_m3": [HOURLY_ERROR]}),
        ({"max_hourly_m3": "Infinity"}, {"max_hourly_m3": [HOURLY_ERROR]}),
        ({"max_hourly_m3": "5 м³"}, {"max_hourly_m3": [HOURLY_ERROR]}),
        ({"usages": []}, {"usages": ["Отметьте, для чего будет использоваться газ"]}),
        ({"usages": ["cooking", "sauna"]}, {"usages": ["Отметьте, для чего будет использоваться газ"]}),
        ({"comment": "я" * 5001}, {"comment": ["Текст длиннее 5000 знаков (5001): сократите его"]}),
        ({"notify_channel": "pigeon"}, {"notify_channel": ["Выберите, как сообщать об ответе"]}),
    ],
)
def test_a_bad_value(
    supplier: Supplier, applicant: User, media: Path, fields: dict[str, Any], errors: dict[str, list[str]]
) -> None:
    with pytest.raises(ValidationFailed) as failed:
        apply(applicant, supplier, **fields)

    assert failed.value.errors == errors
    assert rows() == NO_ROWS
    assert stored_files(media) == []


def test_a_supplier_that_no_longer_works(supplier: Supplier, applicant: User, media: Path) -> None:
    Supplier.objects.filter(pk=supplier.pk).update(is_active=False)

    with pytest.raises(ValidationFailed) as failed:
        apply(applicant, supplier)

    assert failed.value.errors == {"supplier_id": ["Выберите поставщика газа из списка"]}
    assert rows() == NO_ROWS


def test_every_bad_value_at_once(supplier: Supplier, media: Path) -> None:
    no_phone = applicant_make(phone=None)

    with pytest.raises(ValidationFailed) as failed:
        apply(
            no_phone,
            supplier,
            supplier_id=None,
            program="?",
            applicant_name="",
            applicant_phone="нет",
            object_address="",
            land_cadastral_number="1",
            house_cadastral_number="2",
            max_hourly_m3="много",
            usages=[],
            comment="я" * 5001,
            notify_channel=NotifyChannel.SMS,
            files_=[],
        )

    assert failed.value.errors == {
        "supplier_id": ["Выберите поставщика газа из списка"],
        "program": ["Выберите: догазификация или технологическое присоединение"],
        "applicant_name": ["Укажите фамилию, имя и отчество заявителя"],
        "applicant_phone": [PHONE_ERROR],
        "object_address": ["Укажите адрес дома, который нужно подключить"],
        "land_cadastral_number": [_cadastral("участка")],
        "house_cadastral_number": [_cadastral("дома")],
        "max_hourly_m3": [HOURLY_ERROR],
        "usages": ["Отметьте, для чего будет использоваться газ"],
        "comment": ["Текст длиннее 5000 знаков (5001): сократите его"],
        "notify_channel": ["В профиле нет подтверждённого телефона: выберите другой способ"],
        "files": [
            "Приложите: документ о праве на земельный участок, документ о праве на дом, "
            "паспорт заявителя, ситуационный план"
        ],
    }
    assert rows() == NO_ROWS


@pytest.mark.parametrize(
    ("kinds", "missing"),
    [
        ([], "документ о праве на земельный участок, документ о праве на дом, паспорт заявителя, ситуационный план"),
        ([DocumentKind.OTHER, DocumentKind.OTHER], None),
        (
            [DocumentKind.PASSPORT, DocumentKind.SITE_PLAN],
            "документ о праве на земельный участок, документ о праве на дом",
        ),
        (
            [DocumentKind.LAND_TITLE, DocumentKind.HOUSE_TITLE, DocumentKind.PASSPORT, DocumentKind.OTHER],
            "ситуационный план",
        ),
    ],
)
def test_the_missing_documents_are_named(
    supplier: Supplier, applicant: User, media: Path, kinds: list[str], missing: str | None
) -> None:
    uploads = [new_file(files.pdf(), f"{n}.pdf", document_kind=kind) for n, kind in enumerate(kinds)]
    expected = missing or (
        "документ о праве на земельный участок, документ о праве на дом, паспорт заявителя, ситуационный план"
    )

    with pytest.raises(ValidationFailed) as failed:
        apply(applicant, supplier, files_=uploads)

    assert failed.value.errors == {"files": [f"Приложите: {expected}"]}
    assert rows() == NO_ROWS
    assert stored_files(media) == []


def test_a_bad_document_is_named_rather_than_counted_as_missing(
    supplier: Supplier, applicant: User, media: Path
) -> None:
    uploads = connection_documents()
    uploads[2] = new_file(files.EXE, "паспорт.jpg", document_kind=DocumentKind.PASSPORT)

    with pytest.raises(ValidationFailed) as failed:
        apply(applicant, supplier, files_=uploads)

    assert failed.value.errors == {
        "files": ["Файл «паспорт.jpg»: такой тип файла не принимается, загрузите JPEG, PNG, WebP или PDF"]
    }
    assert rows() == NO_ROWS
    assert stored_files(media) == []


def test_more_documents_than_one_message_carries(supplier: Supplier, applicant: User, media: Path) -> None:
    uploads = connection_documents() + [new_file(files.jpeg(), f"фото {n}.jpg") for n in range(7)]

    with pytest.raises(ValidationFailed) as failed:
        apply(applicant, supplier, files_=uploads)

    assert failed.value.errors == {"files": ["Можно приложить не больше 10 файлов за раз, выбрано 11"]}
    assert rows() == NO_ROWS
