"""Applications for connection of a house to the gas network through the API: the form with
its documents, each kind in its own file field; the stages with the day each was reached as
operators move the application; withdrawing while the works have not started.

Every refusal names the fields to fix and leaves nothing behind: no application, details,
file row or stored file. NOW is Sunday 22.11.2026, 13:00 in Moscow."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from pytest_django import DjangoCaptureOnCommitCallbacks

from abonent.appeals import services as appeals
from abonent.appeals.models import Appeal, Attachment, ConnectionDetails
from abonent.core.models import Supplier
from abonent.identity.models import User
from abonent.identity.services import app_session_start
from tests.api.appeals_data import EXE, Forms, jpeg, pdf, stored_files, traces, upload
from tests.api.conftest import NOW, Api, Subscriber, problem

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def forms(client: Client, django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks) -> Forms:
    return Forms(client, django_capture_on_commit_callbacks)


@pytest.fixture
def token(subscriber: Subscriber) -> str:
    return app_session_start(user=subscriber.user, device_name="", user_agent="", ip=None, now=NOW).access_token


@pytest.fixture
def operator(db: None) -> User:
    return User.objects.create(username="operator-1", is_staff=True)


def documents() -> dict[str, Any]:
    return {
        "files_land_title": [upload("выписка ЕГРН участок.pdf", pdf(2), "application/pdf")],
        "files_house_title": [upload("выписка ЕГРН дом.pdf", pdf(), "application/pdf")],
        "files_passport": [upload("паспорт 1.jpg", jpeg("white"), "image/jpeg"), upload("паспорт 2.jpg", jpeg())],
        "files_site_plan": [upload("план.pdf", pdf(), "application/pdf")],
    }


def form(supplier: Supplier, **fields: Any) -> dict[str, Any]:
    return {
        "supplier_id": str(supplier.pk),
        "program": "dogazification",
        "applicant_name": "Иванова  Мария Петровна",
        "applicant_phone": "8 (912) 345-67-89",
        "object_address": "Московская обл., г. Подольск, СНТ «Рассвет», уч. 14",
        "land_cadastral_number": "50:27:0020305:114",
        "house_cadastral_number": "50:27:0020305:1187",
        "max_hourly_m3": "6,5",
        "usages": ["cooking", "heating"],
        "comment": "Газ проходит по улице, подключение к сети СНТ",
        **documents(),
        **fields,
    }


def apply(forms: Forms, token: str | None, supplier: Supplier, **fields: Any) -> Any:
    return forms.post("/connection-applications", form(supplier, **fields), token=token)


def test_an_application_with_its_documents(
    forms: Forms, token: str, supplier: Supplier, subscriber: Subscriber, media: Path
) -> None:
    response = apply(forms, token, supplier, files_other=[upload("фото участка.jpg", jpeg("green"))])

    assert response.status_code == 201, response.content
    body = response.json()
    appeal = Appeal.objects.get()
    assert {key: body[key] for key in ("id", "kind", "category", "status", "summary", "due_on", "account")} == {
        "id": appeal.pk,
        "kind": "connection",
        "category": "connection",
        "status": "new",
        "summary": "догазификация (бесплатно до границы участка): Московская обл., г. Подольск, СНТ «Рассвет», уч. 14",
        "due_on": "2026-11-25",  # 3 working days to check the documents
        "account": None,
    }
    assert body["connection"] == {
        "program": "dogazification",
        "program_label": "догазификация (бесплатно до границы участка)",
        "applicant_name": "Иванова Мария Петровна",
        "applicant_phone": "+79123456789",
        "object_address": "Московская обл., г. Подольск, СНТ «Рассвет», уч. 14",
        "land_cadastral_number": "50:27:0020305:114",
        "house_cadastral_number": "50:27:0020305:1187",
        "max_hourly_m3": "6.500",
        "simplified": True,
        "usages": ["cooking", "heating"],
    }
    assert body["stages"] == [
        {"status": "new", "label": "заявка подана", "state": "current", "reached_at": "2026-11-22T10:00:00Z"},
        {"status": "checked", "label": "заявка проверена", "state": "ahead", "reached_at": None},
        {"status": "contract_sent", "label": "договор направлен", "state": "ahead", "reached_at": None},
        {"status": "works", "label": "выполняются работы", "state": "ahead", "reached_at": None},
        {"status": "gas_started", "label": "газ пущен", "state": "ahead", "reached_at": None},
    ]
    message = body["messages"][0]
    assert (message["text"], message["action"]) == ("Газ проходит по улице, подключение к сети СНТ", "create")
    assert [(a["name"], a["mime"], a["document_kind"]) for a in message["attachments"]] == [
        ("выписка ЕГРН участок.pdf", "application/pdf", "land_title"),
        ("выписка ЕГРН дом.pdf", "application/pdf", "house_title"),
        ("паспорт 1.jpg", "image/jpeg", "passport"),
        ("паспорт 2.jpg", "image/jpeg", "passport"),
        ("план.pdf", "application/pdf", "site_plan"),
        ("фото участка.jpg", "image/jpeg", "other"),
    ]
    assert [a["code"] for a in body["actions"]] == ["subscriber_reply", "withdraw"]
    details = ConnectionDetails.objects.get()
    assert (details.appeal_id, str(details.max_hourly_m3), details.usages) == (
        appeal.pk,
        "6.500",
        ["cooking", "heating"],
    )
    assert (appeal.user_id, appeal.channel, appeal.supplier_id) == (subscriber.user.pk, "app", supplier.pk)
    assert len(stored_files(media)) == 6


def test_the_stages_follow_the_operators_steps(
    api: Api,
    forms: Forms,
    token: str,
    supplier: Supplier,
    operator: User,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    appeal_id = apply(forms, token, supplier).json()["id"]
    for action, days in (("check", 1), ("send_contract", 4)):
        with django_capture_on_commit_callbacks(execute=True):
            appeals.appeal_operator_act(
                operator=operator, appeal_id=appeal_id, action=action, now=NOW + dt.timedelta(days=days)
            )

    body = api.get(f"/appeals/{appeal_id}", token=token).json()

    assert (body["status"], body["status_label"], body["unread"]) == ("contract_sent", "договор направлен", False)
    assert [(s["status"], s["state"], s["reached_at"]) for s in body["stages"]] == [
        ("new", "done", "2026-11-22T10:00:00Z"),
        ("checked", "done", "2026-11-23T10:00:00Z"),
        ("contract_sent", "current", "2026-11-26T10:00:00Z"),
        ("works", "ahead", None),
        ("gas_started", "ahead", None),
    ]
    assert [a["code"] for a in body["actions"]] == ["subscriber_reply", "withdraw"]
    assert [(e["action"], e["new_status"]) for e in body["events"]] == [
        ("create", "new"),
        ("check", "checked"),
        ("send_contract", "contract_sent"),
    ]


def test_no_withdrawing_once_the_works_have_started(
    api: Api, forms: Forms, token: str, supplier: Supplier, operator: User, media: Path
) -> None:
    appeal_id = apply(forms, token, supplier).json()["id"]
    for action in ("check", "send_contract", "start_works"):
        appeals.appeal_operator_act(operator=operator, appeal_id=appeal_id, action=action, now=NOW)
    before = traces(media)

    response = api.post(f"/appeals/{appeal_id}/withdraw", token=token)

    assert response.status_code == 409
    assert problem(response)["detail"] == "Действие «отозвать» недоступно: обращение в состоянии «выполняются работы»"
    assert traces(media) == before


def test_an_application_is_withdrawn(api: Api, forms: Forms, token: str, supplier: Supplier) -> None:
    appeal_id = apply(forms, token, supplier).json()["id"]

    response = api.post(f"/appeals/{appeal_id}/withdraw", token=token)

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["actions"]) == ("withdrawn", [])
    assert [s["state"] for s in body["stages"]] == ["done"] + ["ahead"] * 4  # it was filed, and went no further


def test_an_application_is_not_rated(api: Api, forms: Forms, token: str, supplier: Supplier, media: Path) -> None:
    appeal_id = apply(forms, token, supplier).json()["id"]
    before = traces(media)

    response = api.post(f"/appeals/{appeal_id}/rating", {"rating": 5}, token=token)

    assert response.status_code == 409
    assert problem(response)["code"] == "transition_not_allowed"
    assert traces(media) == before


# --- Refused applications: nothing is left behind -------------------------------------


def _without(*fields: str) -> dict[str, Any]:
    return {field: [] for field in fields}  # an empty list: the field is not sent


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        (
            _without("files_house_title", "files_site_plan"),
            [
                {
                    "field": "files",
                    "message": "Приложите: документ о праве на дом, ситуационный план",
                }
            ],
        ),
        (
            {"land_cadastral_number": "50-27-0020305-114", "house_cadastral_number": "кадастровый"},
            [
                {
                    "field": "land_cadastral_number",
                    "message": "Кадастровый номер участка записывается так: 50:21:0110501:123",
                },
                {
                    "field": "house_cadastral_number",
                    "message": "Кадастровый номер дома записывается так: 50:21:0110501:123",
                },
            ],
        ),
        *[
            (
                {"max_hourly_m3": value},
                [
                    {
                        "field": "max_hourly_m3",
                        "message": "Укажите расход числом больше 0 и не больше 500 м³/ч, например 5 или 6,5",
                    }
                ],
            )
            for value in ("0", "-3", "пять", "500,1", "1.2345", "NaN", "")
        ],
        (
            {"applicant_phone": "12345", "applicant_name": "  ", "object_address": ""},
            [
                {"field": "applicant_name", "message": "Укажите фамилию, имя и отчество заявителя"},
                {
                    "field": "applicant_phone",
                    "message": "Введите номер мобильного телефона России: +7 912 345-67-89 или 8 912 345-67-89",
                },
                {"field": "object_address", "message": "Укажите адрес дома, который нужно подключить"},
            ],
        ),
        (
            {"supplier_id": "999999"},
            [{"field": "supplier_id", "message": "Выберите поставщика газа из списка"}],
        ),
        (
            {"files_passport": [upload("паспорт.jpg", EXE, "image/jpeg")]},
            [
                {
                    "field": "files",
                    "message": "Файл «паспорт.jpg»: такой тип файла не принимается, загрузите JPEG, PNG, WebP или PDF",
                }
            ],
        ),
        (
            {"files_other": [upload(f"фото-{i}.jpg", jpeg()) for i in range(6)]},
            [{"field": "files", "message": "Можно приложить не больше 10 файлов за раз, выбрано 11"}],
        ),
        (
            {"usages": ["cooking", "sauna"]},
            [{"field": "usages.1", "message": "Допустимые значения: 'cooking', 'water_heating', 'heating', 'other'"}],
        ),
        (
            {"program": "free"},
            [{"field": "program", "message": "Допустимые значения: 'dogazification', 'paid'"}],
        ),
        (
            {"files_passport_scan": [upload("паспорт.jpg", jpeg())]},
            [
                {
                    "field": "files_passport_scan",
                    "message": "Неизвестное поле с файлами: файлы передаются в files_land_title, files_house_title, "
                    "files_passport, files_site_plan, files_other",
                }
            ],
        ),
    ],
    ids=[
        "missing documents",
        "bad cadastral numbers",
        "hourly 0",
        "hourly negative",
        "hourly not a number",
        "hourly over the limit",
        "hourly four places",
        "hourly NaN",
        "hourly empty",
        "applicant",
        "no such supplier",
        "a program as a passport",
        "11 files",
        "an unknown usage",
        "an unknown program",
        "an unknown file field",
    ],
)
def test_bad_applications_are_refused_and_nothing_is_stored(
    forms: Forms, token: str, supplier: Supplier, media: Path, fields: dict[str, Any], errors: list[Any]
) -> None:
    before = traces(media)

    response = apply(forms, token, supplier, **fields)

    assert response.status_code == 422, response.content
    body = problem(response)
    assert body["code"] == "validation_failed"
    assert body["errors"] == errors
    assert traces(media) == before
    assert (Appeal.objects.count(), ConnectionDetails.objects.count(), Attachment.objects.count()) == (0, 0, 0)
    assert stored_files(media) == []


def test_an_application_with_no_documents_at_all(forms: Forms, token: str, supplier: Supplier, media: Path) -> None:
    response = apply(
        forms, token, supplier, **_without("files_land_title", "files_house_title", "files_passport", "files_site_plan")
    )

    assert response.status_code == 422
    assert problem(response)["errors"] == [
        {
            "field": "files",
            "message": "Приложите: документ о праве на земельный участок, документ о праве на дом, паспорт заявителя, "
            "ситуационный план",
        }
    ]
    assert stored_files(media) == []


def test_without_a_token(forms: Forms, supplier: Supplier, media: Path) -> None:
    response = apply(forms, None, supplier)

    assert response.status_code == 401
    assert problem(response)["code"] == "not_authenticated"
    assert not Appeal.objects.exists()
    assert stored_files(media) == []
