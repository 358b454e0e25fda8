"""A guest's message to the supplier through the API, without logging in and without a
CAPTCHA: a hidden field that only robots fill (answered 202 like anyone, and dropped), and a
limit of messages per address an hour and a day (429 with Retry-After). NOW is
22.11.2026 10:00 UTC, the start of an hour."""

from __future__ import annotations

from typing import Any

import pytest

from abonent.appeals.models import Appeal, Message
from abonent.core.models import RateCounter, Supplier
from abonent.notifications.models import Delivery
from tests.api.conftest import IP, NOW, Api, FakeClock, problem

pytestmark = pytest.mark.django_db

ACCEPTED = {"message": "Сообщение отправлено. Ответ придёт на указанный e-mail или телефон."}


def message(supplier: Supplier, **fields: Any) -> dict[str, Any]:
    return {
        "supplier_id": supplier.pk,
        "name": "  Пётр   Сидоров ",
        "contact": "Petr.Sidorov@Mail.ru",
        "text": "Подскажите, как заключить договор на ТО газовой плиты?",
        **fields,
    }


def test_a_message_without_logging_in(api: Api, supplier: Supplier) -> None:
    response = api.post("/feedback", message(supplier))

    assert response.status_code == 202
    assert response.json() == ACCEPTED
    appeal = Appeal.objects.get()
    assert (
        appeal.kind,
        appeal.category,
        appeal.supplier_id,
        appeal.user_id,
        appeal.guest_name,
        appeal.guest_contact,
        appeal.notify_channel,
        appeal.channel,
        appeal.status,
        appeal.created_at,
    ) == (
        "feedback",
        "feedback",
        supplier.pk,
        None,
        "Пётр Сидоров",
        "Petr.Sidorov@mail.ru",
        "email",
        "app",
        "new",
        NOW,
    )
    assert Message.objects.get().text == "Подскажите, как заключить договор на ТО газовой плиты?"
    assert not Delivery.objects.exists()


def test_a_phone_to_answer_to(api: Api, supplier: Supplier) -> None:
    response = api.post("/feedback", message(supplier, contact="8 (912) 345-67-89"))

    assert response.status_code == 202
    assert (Appeal.objects.get().guest_contact, Appeal.objects.get().notify_channel) == ("+79123456789", "sms")


def test_a_robot_filling_the_hidden_field_is_answered_alike_and_dropped(api: Api, supplier: Supplier) -> None:
    response = api.post("/feedback", message(supplier, website="http://cheap-pills.example", text=""))

    assert response.status_code == 202
    assert response.json() == ACCEPTED
    assert not Appeal.objects.exists()
    assert not Message.objects.exists()
    assert not RateCounter.objects.exists()  # not even counted


def test_a_few_messages_an_hour_from_one_address(api: Api, clock: FakeClock, supplier: Supplier) -> None:
    for _ in range(3):
        assert api.post("/feedback", message(supplier)).status_code == 202
    clock.advance(minutes=20)

    response = api.post("/feedback", message(supplier, text="Четвёртое"))

    assert response.status_code == 429
    assert response["Retry-After"] == "2400"  # the hour's window ends at 11:00
    assert problem(response) == {
        "type": "urn:abonent:problem:too_many_messages",
        "title": "С этого адреса уже отправлено много сообщений. Попробуйте через 40 мин.",
        "status": 429,
        "detail": "С этого адреса уже отправлено много сообщений. Попробуйте через 40 мин.",
        "instance": "/api/v1/feedback",
        "code": "too_many_messages",
    }
    assert Appeal.objects.count() == 3
    assert not Appeal.objects.filter(summary="Четвёртое").exists()
    # another address is not limited by this one
    assert api.post("/feedback", message(supplier), ip="198.51.100.20").status_code == 202
    # the next hour, this address may write again
    clock.advance(minutes=40)
    assert api.post("/feedback", message(supplier), ip=IP).status_code == 202


def test_the_daily_limit(api: Api, clock: FakeClock, supplier: Supplier) -> None:
    for _ in range(3):
        for _ in range(3):
            assert api.post("/feedback", message(supplier)).status_code == 202
        clock.advance(hours=1)
    assert api.post("/feedback", message(supplier)).status_code == 202  # the tenth today, at 13:00

    response = api.post("/feedback", message(supplier))

    assert response.status_code == 429
    assert response["Retry-After"] == str(11 * 3600)  # the day's window (UTC) ends at midnight
    assert problem(response)["code"] == "too_many_messages"
    assert Appeal.objects.count() == 10


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        (
            {"contact": "позвоните мне"},
            [
                {
                    "field": "contact",
                    "message": "Укажите e-mail или номер мобильного телефона, чтобы мы могли ответить",
                }
            ],
        ),
        (
            {"name": " ", "text": ""},
            [
                {"field": "name", "message": "Как к вам обращаться?"},
                {"field": "text", "message": "Напишите текст сообщения"},
            ],
        ),
        ({"supplier_id": 999999}, [{"field": "supplier_id", "message": "Выберите поставщика газа из списка"}]),
        ({"supplier_id": "1"}, [{"field": "supplier_id", "message": "Ожидается целое число"}]),
        ({"phone": "+79123456789"}, [{"field": "phone", "message": "Неизвестное поле: уберите его"}]),
    ],
    ids=["contact", "name and text", "no such supplier", "id as a string", "unknown field"],
)
def test_bad_messages_are_refused(api: Api, supplier: Supplier, fields: dict[str, Any], errors: list[Any]) -> None:
    response = api.post("/feedback", message(supplier, **fields))

    assert response.status_code == 422
    body = problem(response)
    assert (body["code"], body["errors"]) == ("validation_failed", errors)
    assert not Appeal.objects.exists()
    assert not RateCounter.objects.exists()  # a refused message does not count against the address


def test_missing_fields(api: Api, supplier: Supplier) -> None:
    response = api.post("/feedback", {"supplier_id": supplier.pk})

    assert response.status_code == 422
    assert [e["field"] for e in problem(response)["errors"]] == ["name", "contact", "text"]


def test_a_body_that_is_not_json(api: Api) -> None:
    response = api.post("/feedback", raw="name=Пётр")

    assert response.status_code == 400
    assert problem(response)["code"] == "invalid_json"
