"""Domain errors through the API follow Accept-Language: English when the app asks for it."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from tests.api.conftest import PASSWORD, FakeClock, Subscriber

pytestmark = pytest.mark.django_db

WRONG_EN = "Wrong phone number, email or password"


def test_a_wrong_password_is_explained_in_english(client: Client, clock: FakeClock, subscriber: Subscriber) -> None:
    response = client.post(
        "/api/v1/auth/login",
        json.dumps({"login": subscriber.login, "password": PASSWORD + "-not"}),
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 401
    problem = response.json()
    assert (problem["code"], problem["detail"]) == ("invalid_credentials", WRONG_EN)
    assert problem["errors"] == [{"field": "login", "message": WRONG_EN}]


def test_without_accept_language_it_stays_russian(client: Client, clock: FakeClock, subscriber: Subscriber) -> None:
    response = client.post(
        "/api/v1/auth/login",
        json.dumps({"login": subscriber.login, "password": PASSWORD + "-not"}),
        content_type="application/json",
    )

    assert response.json()["detail"] == "Неверный телефон, e-mail или пароль"
