"""A request to delete the profile (152-ФЗ), made through the API."""

from __future__ import annotations

from typing import Any

import pytest

from abonent.core.models import AuditRecord
from abonent.identity.models import DeletionRequest
from tests.api.conftest import NOW, Api, Subscriber, messages_sent, problem, sms_to

pytestmark = pytest.mark.django_db


def test_request_is_accepted_with_its_deadline(api: Api, subscriber: Subscriber, tokens: dict[str, Any]) -> None:
    response = api.post(
        "/profile/deletion-request",
        {"reason": "  Переехала, газом больше не пользуюсь  "},
        token=tokens["access_token"],
    )

    assert response.status_code == 201
    assert response.json() == {"status": "new", "requested_at": "2026-11-22T10:00:00Z", "due_by": "2026-12-22"}
    request = DeletionRequest.objects.get()
    assert (request.user_id, request.contact, request.contact_kind, request.reason, request.requested_at) == (
        subscriber.user.pk,
        "+79123456789",
        "phone",
        "Переехала, газом больше не пользуюсь",
        NOW,
    )
    assert AuditRecord.objects.get(action="deletion.requested").channel == "app"
    assert sms_to(subscriber.login) == [
        "Заявка на удаление профиля принята. Мы рассмотрим её до 22.12.2026 и сообщим результат."
    ]
    profile = api.get("/profile", token=tokens["access_token"]).json()
    assert profile["deletion_request"] == {
        "status": "new",
        "requested_at": "2026-11-22T10:00:00Z",
        "due_by": "2026-12-22",
    }


def test_reason_may_be_left_out(api: Api, subscriber: Subscriber, tokens: dict[str, Any]) -> None:
    response = api.post("/profile/deletion-request", {}, token=tokens["access_token"])

    assert response.status_code == 201
    assert DeletionRequest.objects.get().reason == ""


def test_second_request_while_the_first_is_open(api: Api, subscriber: Subscriber, tokens: dict[str, Any]) -> None:
    api.post("/profile/deletion-request", {"reason": ""}, token=tokens["access_token"])
    sent = messages_sent()

    response = api.post("/profile/deletion-request", {"reason": "Ещё раз"}, token=tokens["access_token"])

    assert response.status_code == 409
    assert problem(response) == {
        "type": "urn:abonent:problem:deletion_already_requested",
        "title": "Заявка на удаление профиля уже подана и рассматривается",
        "status": 409,
        "detail": "Заявка на удаление профиля уже подана и рассматривается",
        "instance": "/api/v1/profile/deletion-request",
        "code": "deletion_already_requested",
    }
    assert DeletionRequest.objects.count() == 1
    assert AuditRecord.objects.filter(action="deletion.requested").count() == 1
    assert messages_sent() == sent


def test_reason_is_limited(api: Api, subscriber: Subscriber, tokens: dict[str, Any]) -> None:
    response = api.post("/profile/deletion-request", {"reason": "я" * 2001}, token=tokens["access_token"])

    assert response.status_code == 422
    assert problem(response)["errors"] == [{"field": "reason", "message": "Слишком длинно: не больше 2000 символов"}]
    assert not DeletionRequest.objects.exists()
    assert messages_sent() == 0


def test_needs_a_token(api: Api, subscriber: Subscriber) -> None:
    response = api.post("/profile/deletion-request", {"reason": ""})

    assert response.status_code == 401
    assert not DeletionRequest.objects.exists()
