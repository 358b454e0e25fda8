"""Giving up the paper bill through the API (the bill comes by e-mail instead) and taking it
back: where the supplier allows it and the profile has a confirmed e-mail, with an audit
record; refusals change nothing, and nobody changes another user's account."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from abonent.core.models import AuditRecord, Supplier
from abonent.core.services import supplier_create
from abonent.customers.models import AccountLink, PersonalAccount
from abonent.identity.models import User
from abonent.identity.services import app_session_start
from tests.api.conftest import IP, NOW, Api, FakeClock, problem
from tests.conftest import SUPPLIER_MOSCOW
from tests.factories import account_make
from tests.web.identity import user_make

pytestmark = pytest.mark.django_db

EARLIER = NOW - dt.timedelta(days=30)


def token_of(user: User) -> str:
    return app_session_start(user=user, device_name="Pixel 8", user_agent="", ip=None, now=NOW).access_token


def link(user: User, account: PersonalAccount) -> None:
    AccountLink.objects.create(user=user, account=account, proof="pin", channel="web", linked_at=EARLIER)


@pytest.fixture
def maria(clock: FakeClock) -> User:
    """Her phone and e-mail confirmed."""
    return user_make(phone="+79123456789", email="maria@mail.ru", first_name="Мария")


@pytest.fixture
def token(maria: User) -> str:
    return token_of(maria)


@pytest.fixture
def account(supplier: Supplier, maria: User) -> PersonalAccount:
    account = account_make(supplier=supplier)
    link(maria, account)
    return account


def delivery(account: PersonalAccount) -> tuple[int | None, dt.datetime | None]:
    account.refresh_from_db()
    return account.paperless_user_id, account.paperless_since


def audit() -> list[tuple[int | None, str, str, Any, Any, str | None]]:
    return list(
        AuditRecord.objects.filter(action="account.paper_bill")
        .order_by("pk")
        .values_list("actor_id", "channel", "object_id", "before", "after", "ip")
    )


def put(api: Api, account_id: int, body: Any, token: str) -> Any:
    return api.put(f"/accounts/{account_id}/paper-bill", body, token=token)


# --- Giving up and taking back --------------------------------------------------------------


class TestPaperBill:
    def test_give_up_the_paper_bill(self, api: Api, token: str, maria: User, account: PersonalAccount) -> None:
        response = put(api, account.pk, {"paper": False}, token)

        assert response.status_code == 200
        assert response.json() == {
            "paper_bill": False,
            "bill_email_to_me": True,
            "paperless_since": "2026-11-22T10:00:00Z",
            "paperless_allowed": True,
        }
        assert delivery(account) == (maria.pk, NOW)
        assert audit() == [
            (maria.pk, "app", str(account.pk), {"paperless_user": None}, {"paperless_user": maria.pk}, IP)
        ]

    def test_take_it_back(self, api: Api, token: str, maria: User, account: PersonalAccount) -> None:
        PersonalAccount.objects.filter(pk=account.pk).update(paperless_user=maria, paperless_since=EARLIER)

        response = put(api, account.pk, {"paper": True}, token)

        assert response.status_code == 200
        assert response.json() == {
            "paper_bill": True,
            "bill_email_to_me": False,
            "paperless_since": None,
            "paperless_allowed": True,
        }
        assert delivery(account) == (None, None)
        assert audit() == [
            (maria.pk, "app", str(account.pk), {"paperless_user": maria.pk}, {"paperless_user": None}, IP)
        ]

    def test_the_same_choice_again_changes_nothing(
        self, api: Api, token: str, maria: User, account: PersonalAccount, clock: FakeClock
    ) -> None:
        put(api, account.pk, {"paper": False}, token)
        clock.advance(minutes=5)

        again = put(api, account.pk, {"paper": False}, token)
        paper = put(api, account.pk, {"paper": True}, token)
        paper_again = put(api, account.pk, {"paper": True}, token)

        assert again.json()["paperless_since"] == "2026-11-22T10:00:00Z"
        assert (again.status_code, paper.status_code, paper_again.status_code) == (200, 200, 200)
        assert paper_again.json() == paper.json()
        assert len(audit()) == 2

    def test_the_account_page_says_how_the_bill_comes(
        self, api: Api, token: str, maria: User, account: PersonalAccount
    ) -> None:
        page = api.get(f"/accounts/{account.pk}", token=token).json()
        assert (page["paper_bill"], page["bill_email_to_me"], page["paperless_since"], page["paperless_allowed"]) == (
            True,
            False,
            None,
            True,
        )

        put(api, account.pk, {"paper": False}, token)

        page = api.get(f"/accounts/{account.pk}", token=token).json()
        assert (page["paper_bill"], page["bill_email_to_me"], page["paperless_since"]) == (
            False,
            True,
            "2026-11-22T10:00:00Z",
        )

    def test_another_user_of_the_account_gave_it_up(
        self, api: Api, token: str, maria: User, account: PersonalAccount
    ) -> None:
        son = user_make(phone="+79160000003", email="son@mail.ru")
        link(son, account)
        put(api, account.pk, {"paper": False}, token_of(son))

        page = api.get(f"/accounts/{account.pk}", token=token).json()

        assert (page["paper_bill"], page["bill_email_to_me"]) == (False, False)
        # and she may take the paper bill back for the account
        assert put(api, account.pk, {"paper": True}, token).json()["paper_bill"] is True
        assert delivery(account) == (None, None)


# --- Refusals -----------------------------------------------------------------------------


class TestRefused:
    def test_the_supplier_does_not_allow_it(self, api: Api, maria: User, token: str) -> None:
        strict = supplier_create(
            **{**SUPPLIER_MOSCOW, "code": "yantar", "short_name": "Янтарьгаз", "time_zone": "Europe/Kaliningrad"},
            terms={"paperless_allowed": False},
        )
        account = account_make(supplier=strict, number="390000000001")
        link(maria, account)

        response = put(api, account.pk, {"paper": False}, token)

        assert response.status_code == 409
        answer = problem(response)
        assert (answer["code"], answer["detail"]) == (
            "paperless_not_allowed",
            "Поставщик «Янтарьгаз» не принимает отказ от бумажной квитанции",
        )
        assert delivery(account) == (None, None)
        assert audit() == []
        assert api.get(f"/accounts/{account.pk}", token=token).json()["paperless_allowed"] is False
        # the paper bill itself is always there to have
        assert put(api, account.pk, {"paper": True}, token).status_code == 200

    @pytest.mark.parametrize("email", [None, "unconfirmed"])
    def test_no_confirmed_email(self, api: Api, supplier: Supplier, clock: FakeClock, email: str | None) -> None:
        ivan = user_make(phone="+79160000004")
        if email:
            User.objects.filter(pk=ivan.pk).update(email="ivan@mail.ru", email_confirmed_at=None)
        account = account_make(supplier=supplier, number="770000000004")
        link(ivan, account)

        response = put(api, account.pk, {"paper": False}, token_of(ivan))

        assert response.status_code == 422
        answer = problem(response)
        assert (answer["code"], answer["detail"]) == ("paperless_needs_email", "Нет подтверждённого e-mail")
        assert answer["errors"] == [
            {"field": "paper", "message": "Укажите и подтвердите e-mail в профиле — квитанция будет приходить на него"}
        ]
        assert delivery(account) == (None, None)
        assert audit() == []

    def test_another_users_account_is_not_found(
        self, api: Api, token: str, supplier: Supplier, clock: FakeClock
    ) -> None:
        stranger = user_make(phone="+79160000002", email="stranger@mail.ru")
        theirs = account_make(supplier=supplier, number="770000000002", holder_last_name="Чужая")
        link(stranger, theirs)

        for paper in (False, True):
            response = put(api, theirs.pk, {"paper": paper}, token)

            assert response.status_code == 404
            assert problem(response)["code"] == "account_not_found"
            assert "Чужая" not in response.content.decode()
        assert put(api, theirs.pk + 1000, {"paper": False}, token).status_code == 404
        assert delivery(theirs) == (None, None)
        assert audit() == []

    @pytest.mark.parametrize(
        ("body", "errors"),
        [
            ({}, [("paper", "Обязательное поле: заполните его")]),
            ({"paper": "false"}, [("paper", "Ожидается true или false")]),
            ({"paper": 0}, [("paper", "Ожидается true или false")]),
            ({"paper": None}, [("paper", "Ожидается true или false")]),
            ({"paper": False, "email": "x@mail.ru"}, [("email", "Неизвестное поле: уберите его")]),
        ],
    )
    def test_bad_input(
        self, api: Api, token: str, account: PersonalAccount, body: dict[str, Any], errors: list[tuple[str, str]]
    ) -> None:
        response = put(api, account.pk, body, token)

        assert response.status_code == 422
        answer = problem(response)
        assert answer["code"] == "validation_failed"
        assert [(e["field"], e["message"]) for e in answer["errors"]] == errors
        assert delivery(account) == (None, None)
        assert audit() == []

    def test_an_id_that_is_not_an_id(self, api: Api, token: str, account: PersonalAccount) -> None:
        response = api.put("/accounts/0/paper-bill", {"paper": False}, token=token)

        assert response.status_code == 422
        assert problem(response)["errors"] == [{"field": "account_id", "message": "Ожидается число не меньше 1"}]
        assert delivery(account) == (None, None)

    def test_without_a_token(self, api: Api, account: PersonalAccount) -> None:
        for token in (None, "not-a-token"):
            response = api.call("PUT", f"/accounts/{account.pk}/paper-bill", {"paper": False}, token=token)

            assert response.status_code == 401
            assert problem(response)["code"] == ("not_authenticated" if token is None else "invalid_token")
        assert delivery(account) == (None, None)
        assert audit() == []
