"""Personal accounts through the API: the list, linking with a proof from the bill under the
attempt limits, the account page, naming, the default account, unlinking; and that a user
reaches nothing but their own accounts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from abonent.core.models import AuditRecord, Supplier
from abonent.core.periods import Period
from abonent.core.services import supplier_create
from abonent.customers import proofs
from abonent.customers.enums import ContractKind, ContractStatus, EquipmentKind, LinkOutcome
from abonent.customers.models import AccountLink, Contract, GasEquipment, LinkAttempt, PersonalAccount
from abonent.customers.services import account_link
from abonent.identity.models import User
from abonent.metering.enums import MeterStatus, ReadingChannel, ReadingStatus
from abonent.metering.models import Reading
from tests.api.conftest import IP, NOW, Api, FakeClock, Subscriber, login, problem
from tests.conftest import SUPPLIER_MOSCOW
from tests.factories import account_make, meter_make

pytestmark = pytest.mark.django_db

NUMBER = "770000000001"
PIN = "123456"
MOSCOW = {"code": "gaz-msk", "short_name": "Газпром межрегионгаз Москва"}
MISMATCH_TEXT = (
    "Не удалось привязать счёт: проверьте номер лицевого счёта и PIN-код (или другое подтверждение) по квитанции"
)
ADDRESS = "142100, Московская область, г. Подольск, ул. Садовая, д. 12, кв. 34"


def second_supplier(**terms: Any) -> Supplier:
    """Янтарьгаз, in Kaliningrad."""
    return supplier_create(
        **{**SUPPLIER_MOSCOW, "code": "yantar", "short_name": "Янтарьгаз", "time_zone": "Europe/Kaliningrad"},
        terms=terms or None,
    )


def linked(user: User, account: PersonalAccount, *, at: dt.datetime = NOW - dt.timedelta(days=1)) -> AccountLink:
    """The account linked to the user from the web portal (at ``at``)."""
    return account_link(user=user, number=account.number, proof="pin", value=PIN, channel="web", ip=None, now=at)


def summary(account: PersonalAccount, *, name: str = "", is_default: bool = False) -> dict[str, Any]:
    """An account as the list shows it."""
    return {
        "id": account.pk,
        "number": account.number,
        "name": name,
        "is_default": is_default,
        "supplier": {"code": account.supplier.code, "short_name": account.supplier.short_name},
        "address": account.address,
        "status": account.status,
    }


def link_state() -> list[tuple[int, int, str, bool]]:
    """Every link there is, to compare before and after a refused request."""
    return list(AccountLink.objects.order_by("pk").values_list("user_id", "account_id", "name", "is_default"))


@pytest.fixture
def token(api: Api, subscriber: Subscriber) -> str:
    access: str = login(api, subscriber)["access_token"]
    return access


@pytest.fixture
def account(supplier: Supplier) -> PersonalAccount:
    return account_make(supplier=supplier)


@pytest.fixture
def stranger(register: Any) -> Subscriber:
    """Another subscriber, with their own accounts."""
    return register("+79030000000")


# --- The list -------------------------------------------------------------------------


class TestList:
    def test_none_yet(self, api: Api, token: str) -> None:
        response = api.get("/accounts", token=token)

        assert response.status_code == 200
        assert response.json() == []

    def test_the_default_first_then_in_the_order_linked(
        self, api: Api, token: str, subscriber: Subscriber, stranger: Subscriber, supplier: Supplier
    ) -> None:
        home = account_make(supplier=supplier, number="770000000001")
        dacha = account_make(
            supplier=second_supplier(),
            number="390000000002",
            postal_code="",
            region="Калининградская область",
            locality="пос. Янтарный",
            street="",
            house="7",
            apartment="",
        )
        mother = account_make(supplier=supplier, number="770000000003", pin="4321")
        linked(subscriber.user, home, at=NOW - dt.timedelta(days=3))
        account_link(user=subscriber.user, number=dacha.number, proof="pin", value=PIN, channel="web", ip=None, now=NOW)
        account_link(
            user=subscriber.user,
            number=mother.number,
            proof="pin",
            value="4321",
            channel="web",
            ip=None,
            now=NOW - dt.timedelta(days=2),
        )
        AccountLink.objects.filter(account=dacha).update(name="Дача", is_default=True)
        linked(stranger.user, home)  # the stranger's link is theirs alone

        response = api.get("/accounts", token=token)

        assert response.status_code == 200
        assert response.json() == [
            {
                "id": dacha.pk,
                "number": "390000000002",
                "name": "Дача",
                "is_default": True,
                "supplier": {"code": "yantar", "short_name": "Янтарьгаз"},
                "address": "Калининградская область, пос. Янтарный, д. 7",
                "status": "active",
            },
            {
                "id": home.pk,
                "number": "770000000001",
                "name": "",
                "is_default": False,
                "supplier": MOSCOW,
                "address": ADDRESS,
                "status": "active",
            },
            summary(mother),
        ]

    def test_without_a_token(self, api: Api) -> None:
        response = api.get("/accounts")

        assert response.status_code == 401
        assert problem(response)["code"] == "not_authenticated"
        assert response["WWW-Authenticate"] == "Bearer"

    def test_with_a_bad_token(self, api: Api) -> None:
        response = api.get("/accounts", token="not-a-token")

        assert response.status_code == 401
        assert problem(response)["code"] == "invalid_token"


# --- What the link assistant offers ---------------------------------------------------------


class TestLinkOptions:
    def test_suppliers_with_the_proofs_they_accept(
        self, api: Api, token: str, supplier: Supplier, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        second_supplier(link_proofs=["meter_value", "pin"])
        # a supplier that takes only a proof the install cannot check offers nothing
        monkeypatch.delitem(proofs._CHECKS, "last_charge")
        supplier_create(
            **{**SUPPLIER_MOSCOW, "code": "sever", "short_name": "Севергаз"}, terms={"link_proofs": ["last_charge"]}
        )
        supplier_create(**{**SUPPLIER_MOSCOW, "code": "old", "short_name": "Архивгаз", "is_active": False})

        response = api.get("/accounts/link-options", token=token)

        assert response.status_code == 200
        assert response.json() == [
            {"supplier": MOSCOW, "proofs": [{"kind": "pin", "title": "PIN-код с квитанции"}]},
            {
                "supplier": {"code": "yantar", "short_name": "Янтарьгаз"},
                "proofs": [
                    {"kind": "meter_value", "title": "показание счётчика"},
                    {"kind": "pin", "title": "PIN-код с квитанции"},
                ],
            },
        ]

    def test_in_the_language_asked(self, api: Api, token: str, supplier: Supplier) -> None:
        response = api.client.get(
            "/api/v1/accounts/link-options", headers={"Authorization": f"Bearer {token}", "Accept-Language": "en"}
        )

        assert response.json() == [{"supplier": MOSCOW, "proofs": [{"kind": "pin", "title": "PIN code from the bill"}]}]

    def test_without_a_token(self, api: Api) -> None:
        response = api.get("/accounts/link-options")

        assert response.status_code == 401
        assert problem(response)["code"] == "not_authenticated"


# --- Linking --------------------------------------------------------------------------


class TestLink:
    def test_by_the_pin_from_the_bill(
        self, api: Api, token: str, subscriber: Subscriber, account: PersonalAccount
    ) -> None:
        response = api.post("/accounts", {"number": "77 0000-000001", "value": " 123456 "}, token=token)

        assert response.status_code == 201
        assert response.json() == {
            "id": account.pk,
            "number": NUMBER,
            "name": "",
            "is_default": False,
            "supplier": MOSCOW,
            "address": ADDRESS,
            "status": "active",
        }
        link = AccountLink.objects.get()
        assert (link.user, link.account, link.proof, link.channel, link.linked_at) == (
            subscriber.user,
            account,
            "pin",
            "app",
            NOW,
        )
        attempt = LinkAttempt.objects.get()
        assert (attempt.outcome, attempt.channel, attempt.ip, attempt.proof) == (LinkOutcome.LINKED, "app", IP, "pin")
        audit = AuditRecord.objects.get(action="account.link")
        assert (audit.actor_id, audit.channel, audit.ip, audit.object_id) == (
            subscriber.user.pk,
            "app",
            IP,
            str(link.pk),
        )

    def test_with_the_supplier_named(self, api: Api, token: str, account: PersonalAccount) -> None:
        response = api.post(
            "/accounts", {"supplier": "gaz-msk", "number": NUMBER, "proof": "pin", "value": PIN}, token=token
        )

        assert response.status_code == 201
        assert response.json()["id"] == account.pk

    def test_by_a_meter_value_where_the_supplier_accepts_it(self, api: Api, token: str) -> None:
        supplier = second_supplier(link_proofs=["pin", "meter_value"])
        account = account_make(supplier=supplier, number="390000000002")
        meter = meter_make(account=account)
        Reading.objects.create(
            meter=meter,
            period=Period(2026, 10).to_int(),
            value=Decimal("1200"),
            submitted_at=dt.datetime(2026, 10, 20, 9, 0, tzinfo=dt.UTC),
            channel=ReadingChannel.WEB,
            submission_key="october",
        )

        response = api.post(
            "/accounts", {"number": "390000000002", "proof": "meter_value", "value": "1215,5"}, token=token
        )

        assert response.status_code == 201
        assert response.json()["id"] == account.pk
        assert AccountLink.objects.get().proof == "meter_value"

    @pytest.mark.parametrize(
        ("body", "errors"),
        [
            ({"number": "7700000001", "value": PIN}, [("number", "Номер лицевого счёта — 12 цифр, как в квитанции")]),
            ({"number": "77000000000A", "value": PIN}, [("number", "Номер лицевого счёта — 12 цифр, как в квитанции")]),
            ({"number": NUMBER, "value": "12ab56"}, [("value", "PIN-код — от 4 до 10 цифр, как в квитанции")]),
            (
                {"number": "12", "value": "abc"},
                [
                    ("number", "Номер лицевого счёта — 12 цифр, как в квитанции"),
                    ("value", "PIN-код — от 4 до 10 цифр, как в квитанции"),
                ],
            ),
            (
                {"number": NUMBER, "proof": "meter_value", "value": "много"},
                [("value", "Показание — число кубометров, например 01234 или 1234,567")],
            ),
            (
                {"number": NUMBER, "proof": "passport", "value": PIN},
                [("proof", "Допустимые значения: 'pin', 'last_charge', 'meter_value'")],
            ),
            ({"value": PIN}, [("number", "Обязательное поле: заполните его")]),
            ({"number": NUMBER}, [("value", "Обязательное поле: заполните его")]),
            ({"number": "", "value": PIN}, [("number", "Обязательное поле: заполните его")]),
            ({"number": 770000000001, "value": PIN}, [("number", "Ожидается строка")]),
            ({"number": NUMBER, "value": 123456}, [("value", "Ожидается строка")]),
            ({"number": NUMBER, "value": PIN, "supplier": 1}, [("supplier", "Ожидается строка")]),
            (
                {"number": NUMBER, "value": PIN, "proof": None},
                [("proof", "Допустимые значения: 'pin', 'last_charge', 'meter_value'")],
            ),
            ({"number": "7" * 33, "value": PIN}, [("number", "Слишком длинно: не больше 32 символов")]),
            ({"number": NUMBER, "value": PIN, "pin": PIN}, [("pin", "Неизвестное поле: уберите его")]),
            (
                {"supplier": "nobody", "number": NUMBER, "value": PIN},
                [("supplier", "Поставщик «nobody» не найден")],
            ),
        ],
    )
    def test_bad_input_names_the_field(
        self, api: Api, token: str, account: PersonalAccount, body: dict[str, Any], errors: list[tuple[str, str]]
    ) -> None:
        response = api.post("/accounts", body, token=token)

        assert response.status_code == 422, response.content
        body = problem(response)
        assert body["code"] == "validation_failed"
        assert [(e["field"], e["message"]) for e in body["errors"]] == errors
        assert not AccountLink.objects.exists()
        assert not LinkAttempt.objects.exists()  # not even a try: nothing was checked

    @pytest.mark.parametrize(
        ("raw", "status", "code", "errors"),
        [
            ("{number: 1}", 400, "invalid_json", None),
            ("", 422, "validation_failed", [{"field": "body", "message": "Обязательное поле: заполните его"}]),
            ("[]", 422, "validation_failed", [{"field": "body", "message": "Ожидается объект JSON с полями"}]),
            ("null", 422, "validation_failed", [{"field": "body", "message": "Ожидается объект JSON с полями"}]),
            (
                '"770000000001"',
                422,
                "validation_failed",
                [{"field": "body", "message": "Ожидается объект JSON с полями"}],
            ),
        ],
    )
    def test_a_body_that_is_not_a_json_object(
        self, api: Api, token: str, account: PersonalAccount, raw: str, status: int, code: str, errors: Any
    ) -> None:
        response = api.call("POST", "/accounts", raw=raw, token=token)

        assert response.status_code == status
        body = problem(response)
        assert (body["code"], body.get("errors")) == (code, errors)
        assert not AccountLink.objects.exists()

    def test_a_wrong_pin_and_an_unknown_number_are_refused_alike(
        self, api: Api, token: str, account: PersonalAccount
    ) -> None:
        wrong_pin = api.post("/accounts", {"number": NUMBER, "value": "654321"}, token=token)
        no_account = api.post("/accounts", {"number": "770000000099", "value": PIN}, token=token)

        assert wrong_pin.status_code == no_account.status_code == 422
        assert (
            problem(wrong_pin)
            == problem(no_account)
            == {
                "type": "urn:abonent:problem:link_proof_mismatch",
                "title": MISMATCH_TEXT,
                "status": 422,
                "detail": MISMATCH_TEXT,
                "instance": "/api/v1/accounts",
                "code": "link_proof_mismatch",
            }
        )
        assert not AccountLink.objects.exists()
        assert list(LinkAttempt.objects.values_list("outcome", flat=True)) == ["mismatch", "mismatch"]

    def test_five_failures_then_even_the_right_pin_waits_out_the_hour(
        self, api: Api, token: str, subscriber: Subscriber, account: PersonalAccount, clock: FakeClock
    ) -> None:
        for _ in range(5):
            response = api.post("/accounts", {"number": NUMBER, "value": "000000"}, token=token)
            assert response.status_code == 422
            assert problem(response)["code"] == "link_proof_mismatch"

        refused = api.post("/accounts", {"number": NUMBER, "value": PIN}, token=token)

        assert refused.status_code == 429
        assert refused["Retry-After"] == "3600"
        body = problem(refused)
        assert body["code"] == "link_attempts_exhausted"
        assert body["detail"] == (
            "Слишком много неудачных попыток привязать счёт. Повторите через 60 мин. или обратитесь к поставщику газа"
        )
        assert not AccountLink.objects.exists()

        clock.advance(minutes=59, seconds=59)
        token = login(api, subscriber)["access_token"]  # the first one has expired by now
        still = api.post("/accounts", {"number": NUMBER, "value": PIN}, token=token)
        assert still.status_code == 429
        assert still["Retry-After"] == "1"
        assert not AccountLink.objects.exists()

        clock.advance(seconds=1)
        assert api.post("/accounts", {"number": NUMBER, "value": PIN}, token=token).status_code == 201
        assert AccountLink.objects.count() == 1
        assert list(LinkAttempt.objects.order_by("pk").values_list("outcome", flat=True)) == [
            *["mismatch"] * 5,
            "blocked",
            "blocked",
            "linked",
        ]

    def test_a_closed_account(self, api: Api, token: str, supplier: Supplier) -> None:
        account_make(supplier=supplier, status="closed", closed_on=dt.date(2025, 12, 31))

        response = api.post("/accounts", {"number": NUMBER, "value": PIN}, token=token)

        assert response.status_code == 409
        body = problem(response)
        assert (body["code"], body["detail"]) == (
            "account_closed",
            "Лицевой счёт 770000000001 закрыт: его нельзя привязать. Если это ошибка, обратитесь к поставщику газа",
        )
        assert not AccountLink.objects.exists()

    def test_already_linked(self, api: Api, token: str, subscriber: Subscriber, account: PersonalAccount) -> None:
        linked(subscriber.user, account)
        before = link_state()

        response = api.post("/accounts", {"number": NUMBER, "value": PIN}, token=token)

        assert response.status_code == 409
        body = problem(response)
        assert (body["code"], body["detail"]) == (
            "account_already_linked",
            "Лицевой счёт 770000000001 уже привязан к вашему профилю",
        )
        assert link_state() == before

    def test_a_proof_the_supplier_does_not_accept(self, api: Api, token: str, account: PersonalAccount) -> None:
        response = api.post(
            "/accounts", {"supplier": "gaz-msk", "number": NUMBER, "proof": "meter_value", "value": "100"}, token=token
        )

        assert response.status_code == 422
        text = "Газпром межрегионгаз Москва не принимает этот способ подтверждения. Подойдёт: PIN-код с квитанции"
        body = problem(response)
        assert (body["code"], body["detail"], body["errors"]) == (
            "link_proof_not_accepted",
            text,
            [{"field": "proof", "message": text}],
        )
        assert not AccountLink.objects.exists()

    def test_the_same_number_at_two_suppliers_asks_which(self, api: Api, token: str, account: PersonalAccount) -> None:
        other = account_make(supplier=second_supplier(), number=NUMBER)

        response = api.post("/accounts", {"number": NUMBER, "value": PIN}, token=token)

        assert response.status_code == 422
        text = "Номер 770000000001 есть у нескольких поставщиков: выберите своего поставщика из списка"
        body = problem(response)
        assert (body["code"], body["errors"]) == ("supplier_choice_required", [{"field": "supplier", "message": text}])
        assert not AccountLink.objects.exists()

        chosen = api.post("/accounts", {"supplier": "yantar", "number": NUMBER, "value": PIN}, token=token)
        assert chosen.status_code == 201
        assert chosen.json()["id"] == other.pk

    def test_without_a_token(self, api: Api, account: PersonalAccount) -> None:
        response = api.post("/accounts", {"number": NUMBER, "value": PIN})

        assert response.status_code == 401
        assert problem(response)["code"] == "not_authenticated"
        assert not AccountLink.objects.exists()
        assert not LinkAttempt.objects.exists()


# --- The account page -----------------------------------------------------------------


@pytest.fixture
def furnished(supplier: Supplier) -> PersonalAccount:
    """A house heated by gas: equipment, a meter due for verification soon, a removed
    meter, a supply contract with no end and a ТО ВДГО contract that has run out."""
    account = account_make(
        supplier=supplier,
        heated_area=Decimal("86.4"),
        central_hot_water=False,
        uses_cooking=True,
        uses_water_heating=True,
        uses_heating=True,
    )
    GasEquipment.objects.create(account=account, kind=EquipmentKind.BOILER, model="Navien Deluxe 24K")
    GasEquipment.objects.create(
        account=account, kind=EquipmentKind.STOVE, model="Гефест 3200", installed_on=dt.date(2015, 4, 1)
    )
    removed = meter_make(
        account=account,
        serial="0100001",
        model="BK G4",
        installed_on=dt.date(2010, 3, 1),
        verification_due_on=dt.date(2020, 3, 1),
        status=MeterStatus.REMOVED,
        removed_on=dt.date(2019, 6, 1),
    )
    working = meter_make(account=account, verification_due_on=dt.date(2027, 1, 10))
    for period, value, status in (
        (Period(2026, 9), Decimal("1198.2"), ReadingStatus.ACCEPTED),
        (Period(2026, 10), Decimal("1234.5"), ReadingStatus.ACCEPTED),
        (Period(2026, 11), Decimal("1300"), ReadingStatus.SUPERSEDED),
    ):
        Reading.objects.create(
            meter=working,
            period=period.to_int(),
            value=value,
            submitted_at=dt.datetime(period.year, period.month, 20, 9, 30, tzinfo=dt.UTC),
            channel=ReadingChannel.WEB,
            status=status,
            submission_key=str(period),
        )
    assert removed.pk < working.pk
    Contract.objects.create(
        account=account,
        kind=ContractKind.VDGO,
        number="ТО-2019/77",
        contractor="АО «Мособлгаз»",
        signed_on=dt.date(2019, 10, 25),
        valid_from=dt.date(2019, 11, 1),
        valid_to=dt.date(2022, 10, 31),
        status=ContractStatus.EXPIRED,
    )
    Contract.objects.create(
        account=account,
        kind=ContractKind.VDGO,
        number="ТО-2023/1045",
        contractor="АО «Мособлгаз»",
        signed_on=dt.date(2023, 10, 25),
        valid_from=dt.date(2023, 11, 1),
        valid_to=dt.date(2026, 11, 1),
    )
    Contract.objects.create(
        account=account,
        kind=ContractKind.SUPPLY,
        number="77-001-2015",
        signed_on=dt.date(2015, 3, 20),
        valid_from=dt.date(2015, 4, 1),
    )
    return account


class TestGet:
    def test_the_account_page_in_full(
        self, api: Api, token: str, subscriber: Subscriber, furnished: PersonalAccount
    ) -> None:
        linked(subscriber.user, furnished)
        AccountLink.objects.update(name="Дом", is_default=True)
        boiler, stove = furnished.equipment.order_by("pk")
        removed, working = furnished.meters.order_by("pk")
        old_vdgo, vdgo, supply = furnished.contracts.order_by("pk")

        response = api.get(f"/accounts/{furnished.pk}", token=token)

        assert response.status_code == 200
        assert response.json() == {
            "id": furnished.pk,
            "number": NUMBER,
            "name": "Дом",
            "is_default": True,
            "supplier": {
                "id": furnished.supplier_id,
                "code": "gaz-msk",
                "short_name": "Газпром межрегионгаз Москва",
                "legal_name": 'ООО "Газпром межрегионгаз Москва"',
                "hotline_phone": "8 800 100-00-01",
                "phones": "",
                "email": "info@gaz-msk.example",
                "site": "https://gaz-msk.example",
                "feedback_url": "https://gaz-msk.example/feedback",
                "office_hours": "пн–пт 8:00–20:00",
                "time_zone": "Europe/Moscow",
            },
            "address": ADDRESS,
            "status": "active",
            "holder_masked": "Иванова М. П.",
            "opened_on": "2015-04-01",
            "closed_on": None,
            "linked_at": "2026-11-21T10:00:00Z",
            "paper_bill": True,
            "bill_email_to_me": False,
            "paperless_since": None,
            "paperless_allowed": True,
            "parameters": {
                "residents": 3,
                "heated_area": "86.40",
                "central_hot_water": False,
                "usage": ["cooking", "water_heating", "heating"],
            },
            "equipment": [
                {"id": boiler.pk, "kind": "boiler", "model": "Navien Deluxe 24K", "installed_on": None},
                {"id": stove.pk, "kind": "stove", "model": "Гефест 3200", "installed_on": "2015-04-01"},
            ],
            "meters": [
                {
                    "id": working.pk,
                    "serial": "0412345",
                    "model": "СГМН-1 G6",
                    "digits": 5,
                    "installed_on": "2019-06-01",
                    "verification_due_on": "2027-01-10",
                    "status": "active",
                    "last_reading": {
                        "period": "2026-10",
                        "value": "1234.500",
                        "submitted_at": "2026-10-20T09:30:00Z",
                        "status": "accepted",
                    },
                    "verification": {
                        "state": "soon",
                        "days_left": 49,
                        "warning": "Срок поверки счётчика истекает 10.01.2027. После этой даты его показания "
                        "не принимаются к расчёту и газ начисляется по нормативу потребления, обычно это дороже. "
                        "Закажите поверку или замену счётчика заранее.",
                    },
                },
                {
                    "id": removed.pk,
                    "serial": "0100001",
                    "model": "BK G4",
                    "digits": 5,
                    "installed_on": "2010-03-01",
                    "verification_due_on": "2020-03-01",
                    "status": "removed",
                    "last_reading": None,
                    "verification": {"state": "ok", "days_left": None, "warning": None},
                },
            ],
            "contracts": [
                {
                    "id": supply.pk,
                    "kind": "supply",
                    "number": "77-001-2015",
                    "contractor": "",
                    "signed_on": "2015-03-20",
                    "valid_from": "2015-04-01",
                    "valid_to": None,
                    "status": "active",
                    "state": "ok",
                    "days_left": None,
                    "warning": None,
                },
                {
                    "id": vdgo.pk,
                    "kind": "vdgo",
                    "number": "ТО-2023/1045",
                    "contractor": "АО «Мособлгаз»",
                    "signed_on": "2023-10-25",
                    "valid_from": "2023-11-01",
                    "valid_to": "2026-11-01",
                    "status": "active",
                    "state": "passed",
                    "days_left": -21,
                    "warning": "Срок договора о техническом обслуживании газового оборудования истёк 01.11.2026. "
                    "Заключите новый договор со специализированной организацией: без него поставку газа "
                    "могут приостановить.",
                },
                {
                    "id": old_vdgo.pk,
                    "kind": "vdgo",
                    "number": "ТО-2019/77",
                    "contractor": "АО «Мособлгаз»",
                    "signed_on": "2019-10-25",
                    "valid_from": "2019-11-01",
                    "valid_to": "2022-10-31",
                    "status": "expired",
                    "state": "ok",
                    "days_left": None,
                    "warning": None,
                },
            ],
        }

    def test_a_bare_account(self, api: Api, token: str, subscriber: Subscriber, account: PersonalAccount) -> None:
        linked(subscriber.user, account)

        body = api.get(f"/accounts/{account.pk}", token=token).json()

        assert (body["parameters"], body["equipment"], body["meters"], body["contracts"]) == (
            {"residents": 3, "heated_area": "0.00", "central_hot_water": False, "usage": ["cooking"]},
            [],
            [],
            [],
        )

    def test_the_warnings_follow_the_time(
        self, api: Api, token: str, subscriber: Subscriber, furnished: PersonalAccount, clock: FakeClock
    ) -> None:
        linked(subscriber.user, furnished)
        clock.current = dt.datetime(2027, 1, 10, 20, 59, tzinfo=dt.UTC)  # 23:59 in Moscow, the last day
        token = login(api, subscriber)["access_token"]

        meter = api.get(f"/accounts/{furnished.pk}", token=token).json()["meters"][0]["verification"]
        clock.advance(minutes=1)
        after = api.get(f"/accounts/{furnished.pk}", token=token).json()["meters"][0]["verification"]

        assert (meter["state"], meter["days_left"]) == ("soon", 0)
        assert (after["state"], after["days_left"]) == ("passed", -1)
        assert after["warning"].startswith("Срок поверки счётчика истёк 10.01.2027.")

    @pytest.mark.parametrize(
        ("account_id", "message"),
        [
            ("abc", "Ожидается целое число"),
            ("1.5", "Ожидается целое число"),
            ("0", "Ожидается число не меньше 1"),
            ("-1", "Ожидается число не меньше 1"),
            ("99999999999999999999", "Ожидается число не больше 9223372036854775807"),
        ],
    )
    def test_an_id_that_is_not_one(self, api: Api, token: str, account_id: str, message: str) -> None:
        response = api.get(f"/accounts/{account_id}", token=token)

        assert response.status_code == 422
        body = problem(response)
        assert (body["code"], body["errors"]) == ("validation_failed", [{"field": "account_id", "message": message}])


# --- Only one's own ----------------------------------------------------------------------


class TestOnlyOwnAccounts:
    @pytest.fixture
    def theirs(self, stranger: Subscriber, furnished: PersonalAccount) -> PersonalAccount:
        linked(stranger.user, furnished)
        AccountLink.objects.update(name="Мой дом", is_default=True)
        return furnished

    @pytest.mark.parametrize(
        ("method", "body"),
        [("GET", None), ("PATCH", {"name": "Чужой", "is_default": True}), ("DELETE", None)],
    )
    def test_another_users_account_is_not_found(
        self, api: Api, token: str, theirs: PersonalAccount, method: str, body: Any
    ) -> None:
        before = (link_state(), AuditRecord.objects.count())

        response = api.call(method, f"/accounts/{theirs.pk}", body, token=token)
        missing = api.call(method, f"/accounts/{theirs.pk + 1000}", body, token=token)

        assert response.status_code == missing.status_code == 404
        expected = {
            "code": "account_not_found",
            "title": "Лицевой счёт не найден среди ваших",
            "detail": "Лицевой счёт не найден среди ваших",
            "status": 404,
        }
        assert {k: problem(response)[k] for k in expected} == expected
        assert {k: problem(missing)[k] for k in expected} == expected
        assert set(problem(response)) == {"type", "title", "status", "detail", "instance", "code"}
        assert NUMBER not in response.content.decode()
        assert (link_state(), AuditRecord.objects.count()) == before

    @pytest.mark.parametrize(
        ("method", "body"),
        [("GET", None), ("PATCH", {"name": "Дом"}), ("DELETE", None)],
    )
    def test_without_a_token(self, api: Api, theirs: PersonalAccount, method: str, body: Any) -> None:
        before = link_state()

        response = api.call(method, f"/accounts/{theirs.pk}", body)

        assert response.status_code == 401
        assert problem(response)["code"] == "not_authenticated"
        assert link_state() == before


# --- Naming and the default account -----------------------------------------------------------


def patch(api: Api, account_id: int, body: Any, token: str) -> Any:
    return api.call("PATCH", f"/accounts/{account_id}", body, token=token)


class TestUpdate:
    @pytest.fixture
    def two(self, subscriber: Subscriber, supplier: Supplier) -> tuple[PersonalAccount, PersonalAccount]:
        home = account_make(supplier=supplier)
        dacha = account_make(supplier=supplier, number="770000000002")
        linked(subscriber.user, home, at=NOW - dt.timedelta(days=2))
        linked(subscriber.user, dacha)
        return home, dacha

    def test_a_name(
        self, api: Api, token: str, subscriber: Subscriber, two: tuple[PersonalAccount, PersonalAccount]
    ) -> None:
        home, _ = two

        response = patch(api, home.pk, {"name": "  Мамина   квартира "}, token)

        assert response.status_code == 200
        assert response.json() == summary(home, name="Мамина квартира")
        audit = AuditRecord.objects.get(action="account.link_update")
        assert (audit.channel, audit.ip, audit.before, audit.after) == (
            "app",
            IP,
            {"name": "", "is_default": False},
            {"name": "Мамина квартира", "is_default": False},
        )

    def test_the_default_moves(self, api: Api, token: str, two: tuple[PersonalAccount, PersonalAccount]) -> None:
        home, dacha = two

        assert patch(api, home.pk, {"is_default": True}, token).json() == summary(home, is_default=True)
        assert patch(api, dacha.pk, {"is_default": True, "name": "Дача"}, token).json() == summary(
            dacha, name="Дача", is_default=True
        )

        assert api.get("/accounts", token=token).json() == [
            summary(dacha, name="Дача", is_default=True),
            summary(home),
        ]

    def test_no_longer_the_default_and_the_name_cleared(
        self, api: Api, token: str, two: tuple[PersonalAccount, PersonalAccount]
    ) -> None:
        home, _ = two
        AccountLink.objects.filter(account=home).update(name="Дом", is_default=True)

        response = patch(api, home.pk, {"name": "", "is_default": False}, token)

        assert response.json() == summary(home)

    def test_nothing_sent_changes_nothing(
        self, api: Api, token: str, two: tuple[PersonalAccount, PersonalAccount]
    ) -> None:
        home, _ = two
        AccountLink.objects.filter(account=home).update(name="Дом", is_default=True)

        response = patch(api, home.pk, {"name": None, "is_default": None}, token)
        empty = patch(api, home.pk, {}, token)

        assert response.json() == empty.json() == summary(home, name="Дом", is_default=True)
        assert not AuditRecord.objects.filter(action="account.link_update").exists()

    @pytest.mark.parametrize(
        ("body", "errors"),
        [
            ({"name": "Д" * 41}, [("name", "Слишком длинно: не больше 40 символов")]),
            ({"name": 5}, [("name", "Ожидается строка")]),
            ({"is_default": "yes"}, [("is_default", "Ожидается true или false")]),
            ({"is_default": 1}, [("is_default", "Ожидается true или false")]),
            ({"title": "Дача"}, [("title", "Неизвестное поле: уберите его")]),
            (["Дача"], [("body", "Ожидается объект JSON с полями")]),
        ],
    )
    def test_bad_input_names_the_field(
        self,
        api: Api,
        token: str,
        two: tuple[PersonalAccount, PersonalAccount],
        body: Any,
        errors: list[tuple[str, str]],
    ) -> None:
        home, _ = two
        before = link_state()

        response = patch(api, home.pk, body, token)

        assert response.status_code == 422, response.content
        body = problem(response)
        assert body["code"] == "validation_failed"
        assert [(e["field"], e["message"]) for e in body["errors"]] == errors
        assert link_state() == before
        assert not AuditRecord.objects.filter(action="account.link_update").exists()


# --- Unlinking ------------------------------------------------------------------------


class TestUnlink:
    def test_the_account_leaves_the_list_and_stays_for_others(
        self, api: Api, token: str, subscriber: Subscriber, stranger: Subscriber, account: PersonalAccount
    ) -> None:
        linked(subscriber.user, account)
        theirs = linked(stranger.user, account)

        response = api.delete(f"/accounts/{account.pk}", token=token)

        assert response.status_code == 204
        assert response.content == b""
        assert list(AccountLink.objects.all()) == [theirs]
        assert PersonalAccount.objects.filter(pk=account.pk).exists()
        audit = AuditRecord.objects.get(action="account.unlink")
        assert (audit.actor_id, audit.channel, audit.ip) == (subscriber.user.pk, "app", IP)
        assert api.get("/accounts", token=token).json() == []
        assert api.get(f"/accounts/{account.pk}", token=token).status_code == 404
        again = api.delete(f"/accounts/{account.pk}", token=token)
        assert (again.status_code, problem(again)["code"]) == (404, "account_not_found")

    def test_it_can_be_linked_again(
        self, api: Api, token: str, subscriber: Subscriber, account: PersonalAccount
    ) -> None:
        linked(subscriber.user, account)
        api.delete(f"/accounts/{account.pk}", token=token)

        response = api.post("/accounts", {"number": NUMBER, "value": PIN}, token=token)

        assert response.status_code == 201
