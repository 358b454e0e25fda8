"""Linking personal accounts: proofs, the attempt limits and their log, names, the default
account, unlinking by the user and by an operator."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connection

from abonent.core.errors import NotFound, ValidationFailed
from abonent.core.models import AuditRecord, LinkProof, Supplier
from abonent.core.selectors import SupplierNotFound
from abonent.core.services import supplier_create
from abonent.customers.enums import AccountStatus, LinkOutcome
from abonent.customers.models import AccountLink, LinkAttempt, PersonalAccount
from abonent.customers.selectors import account_link_start, account_links_list, link_options
from abonent.customers.services import (
    AccountAlreadyLinked,
    AccountClosed,
    AccountNotFound,
    LinkAttemptsExhausted,
    LinkProofMismatch,
    ProofNotAccepted,
    SupplierChoiceRequired,
    account_link,
    account_link_update,
    account_unlink,
    account_unlink_by_operator,
)
from abonent.identity.models import User
from abonent.metering.enums import ReadingChannel
from abonent.metering.models import Reading
from tests.conftest import SUPPLIER_MOSCOW
from tests.factories import account_make, meter_make
from tests.web.identity import user_make

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 22, 10, 0, tzinfo=dt.UTC)
NUMBER = "770000000001"
PIN = "123456"


def link(user: User, number: str = NUMBER, value: str = PIN, *, now: dt.datetime = NOW, **kw: object) -> AccountLink:
    return account_link(
        user=user,
        number=number,
        proof=str(kw.pop("proof", LinkProof.PIN)),
        value=value,
        channel="web",
        ip="203.0.113.7",
        now=now,
        **kw,  # type: ignore[arg-type]
    )


def second_supplier(**terms: object) -> Supplier:
    return supplier_create(
        **{**SUPPLIER_MOSCOW, "code": "yantar", "short_name": "Янтарьгаз", "time_zone": "Europe/Kaliningrad"},
        terms=dict(terms) or None,
    )


def outcomes() -> list[str]:
    return list(LinkAttempt.objects.order_by("pk").values_list("outcome", flat=True))


@pytest.fixture
def account(supplier: Supplier) -> PersonalAccount:
    return account_make(supplier=supplier)


@pytest.fixture
def user() -> User:
    return user_make()


class TestLinkByPin:
    def test_links_the_account_and_logs_the_try(self, account: PersonalAccount, user: User) -> None:
        made = link(user, "77 0000-000001")

        assert (made.user, made.account, made.proof, made.channel, made.linked_at) == (
            user,
            account,
            "pin",
            "web",
            NOW,
        )
        assert (made.name, made.is_default) == ("", False)
        attempt = LinkAttempt.objects.get()
        assert (attempt.user, attempt.number, attempt.account, attempt.supplier, attempt.outcome, attempt.ip) == (
            user,
            NUMBER,
            account,
            account.supplier,
            LinkOutcome.LINKED,
            "203.0.113.7",
        )
        audit = AuditRecord.objects.get(action="account.link")
        assert (audit.actor_id, audit.channel, audit.object_id) == (user.pk, "web", str(made.pk))
        assert audit.after == {"user": user.pk, "account": account.pk, "number": NUMBER, "proof": "pin"}

    def test_a_wrong_pin_and_an_unknown_number_get_the_same_answer(self, account: PersonalAccount, user: User) -> None:
        with pytest.raises(LinkProofMismatch) as wrong_pin:
            link(user, NUMBER, "654321")
        with pytest.raises(LinkProofMismatch) as no_account:
            link(user, "770000000099", PIN)

        assert wrong_pin.value.text == no_account.value.text
        assert "проверьте номер лицевого счёта и PIN-код" in wrong_pin.value.text
        assert not AccountLink.objects.exists()
        assert outcomes() == ["mismatch", "mismatch"]
        assert list(LinkAttempt.objects.values_list("account", flat=True)) == [None, None]

    @pytest.mark.parametrize(
        ("number", "value", "fields"),
        [
            ("77000000001", PIN, {"number"}),
            ("7700000000012", PIN, {"number"}),
            ("77000000000A", PIN, {"number"}),
            (NUMBER, "12a456", {"value"}),
            (NUMBER, "123", {"value"}),
            (NUMBER, "", {"value"}),
            ("", "", {"number", "value"}),
        ],
    )
    def test_malformed_input_names_the_field_and_is_not_a_try(
        self, account: PersonalAccount, user: User, number: str, value: str, fields: set[str]
    ) -> None:
        with pytest.raises(ValidationFailed) as error:
            link(user, number, value)

        assert set(error.value.errors) == fields
        assert not AccountLink.objects.exists()
        assert not LinkAttempt.objects.exists()

    def test_an_unknown_proof_kind_is_refused(self, account: PersonalAccount, user: User) -> None:
        with pytest.raises(ValidationFailed) as error:
            link(user, proof="passport")

        assert set(error.value.errors) == {"proof"}

    def test_several_users_may_link_the_same_account(self, account: PersonalAccount, user: User) -> None:
        relative = user_make(phone="+79160000002")

        link(user)
        link(relative)

        assert AccountLink.objects.filter(account=account).count() == 2

    def test_the_same_account_twice_is_already_linked_and_is_not_a_try(
        self, account: PersonalAccount, user: User
    ) -> None:
        link(user)

        with pytest.raises(AccountAlreadyLinked) as error:
            link(user, value="000000")

        assert error.value.text == "Лицевой счёт 770000000001 уже привязан к вашему профилю"
        assert outcomes() == ["linked"]

    def test_a_closed_account_is_refused_after_the_proof_matches(self, supplier: Supplier, user: User) -> None:
        account_make(
            supplier=supplier,
            status=AccountStatus.CLOSED,
            closed_on=dt.date(2026, 1, 31),
            opened_on=dt.date(2015, 1, 1),
        )

        with pytest.raises(LinkProofMismatch):
            link(user, value="000000")  # a wrong PIN does not tell that the account is closed
        with pytest.raises(AccountClosed) as error:
            link(user)

        assert error.value.text.startswith("Лицевой счёт 770000000001 закрыт")
        assert not AccountLink.objects.exists()
        assert outcomes() == ["mismatch", "closed"]

    def test_a_suspended_account_can_be_linked(self, supplier: Supplier, user: User) -> None:
        account_make(supplier=supplier, status=AccountStatus.SUSPENDED)

        assert link(user).account.status == AccountStatus.SUSPENDED


class TestSupplier:
    def test_the_supplier_is_found_from_the_number_and_the_pin(self, supplier: Supplier, user: User) -> None:
        other = second_supplier()
        account_make(supplier=supplier, pin="111111")
        theirs = account_make(supplier=other, pin="222222")

        assert link(user, value="222222").account == theirs

    def test_a_chosen_supplier_limits_the_search(self, supplier: Supplier, user: User) -> None:
        other = second_supplier()
        account_make(supplier=other, pin=PIN)

        with pytest.raises(LinkProofMismatch):
            link(user, supplier_code=supplier.code)

    def test_the_same_number_and_pin_at_two_suppliers_asks_to_choose(self, supplier: Supplier, user: User) -> None:
        other = second_supplier()
        account_make(supplier=supplier)
        account_make(supplier=other)

        with pytest.raises(SupplierChoiceRequired) as error:
            link(user)
        assert error.value.field == "supplier"

        assert link(user, supplier_code=other.code).account.supplier == other

    def test_an_unknown_supplier_code(self, account: PersonalAccount, user: User) -> None:
        with pytest.raises(SupplierNotFound):
            link(user, supplier_code="nope")

        assert not LinkAttempt.objects.exists()

    def test_an_inactive_suppliers_accounts_cannot_be_linked(self, account: PersonalAccount, user: User) -> None:
        Supplier.objects.update(is_active=False)

        with pytest.raises(LinkProofMismatch):
            link(user)


class TestLimits:
    def test_five_failed_tries_by_a_user_then_a_cool_off(self, supplier: Supplier, user: User) -> None:
        account_make(supplier=supplier)
        for n in range(5):  # 10:00, 10:05 … 10:20
            with pytest.raises(LinkProofMismatch):
                link(user, f"77000000010{n}", now=NOW + dt.timedelta(minutes=5 * n))

        with pytest.raises(LinkAttemptsExhausted) as error:
            link(user, now=NOW + dt.timedelta(minutes=25))  # the right PIN, but the user is cooling off

        # until the first failure is an hour old
        assert error.value.retry_after == 35 * 60
        assert error.value.text.startswith("Слишком много неудачных попыток привязать счёт. Повторите через 35 мин.")
        assert not AccountLink.objects.exists()
        assert outcomes() == ["mismatch"] * 5 + ["blocked"]
        with pytest.raises(LinkAttemptsExhausted):
            link(user, now=NOW + dt.timedelta(minutes=59, seconds=59))
        assert link(user, now=NOW + dt.timedelta(minutes=60)).account.number == NUMBER

    def test_five_failed_tries_on_a_number_block_it_for_everyone(self, account: PersonalAccount) -> None:
        for n in range(5):
            with pytest.raises(LinkProofMismatch):
                link(user_make(phone=f"+7916000001{n}"), value="000000")
        owner = user_make()

        with pytest.raises(LinkAttemptsExhausted):
            link(owner)

        assert not AccountLink.objects.exists()

    def test_a_success_does_not_count(self, supplier: Supplier, user: User) -> None:
        account_make(supplier=supplier)
        account_make(supplier=supplier, number="770000000002")
        for _ in range(4):
            with pytest.raises(LinkProofMismatch):
                link(user, value="000000")
        link(user)
        with pytest.raises(LinkProofMismatch):
            link(user, "770000000002", "000000")  # the fifth failure is still allowed

        with pytest.raises(LinkAttemptsExhausted):
            link(user, "770000000002")

    def test_malformed_input_does_not_count(self, account: PersonalAccount, user: User) -> None:
        for _ in range(10):
            with pytest.raises(ValidationFailed):
                link(user, value="12")

        assert link(user).account == account


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_parallel_tries_cannot_exceed_the_limit(supplier: Supplier) -> None:
    """Ten wrong tries at the same moment: at most five are checked, the rest are turned
    away (a try counted against the user and the number in a different order than another
    may be turned away by either, so sometimes fewer than five are checked)."""
    if connection.vendor != "postgresql":
        pytest.skip("the SQLite test database is in memory, where concurrent writers fail instead of waiting")
    account_make(supplier=supplier)
    user = user_make()
    start = threading.Barrier(10)
    errors: list[str] = []

    def attempt() -> None:
        start.wait(10)
        try:
            link(user, value="000000")
        except (LinkProofMismatch, LinkAttemptsExhausted) as exc:
            errors.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    checked = errors.count("link_proof_mismatch")
    assert 1 <= checked <= 5
    assert errors.count("link_attempts_exhausted") == 10 - checked
    assert sorted(outcomes()) == ["blocked"] * (10 - checked) + ["mismatch"] * checked


class TestOtherProofs:
    def meter_with_readings(self, account: PersonalAccount) -> None:
        meter = meter_make(account=account)
        for period, value in [(202511, "1000"), (202605, "1300"), (202610, "1550")]:
            Reading.objects.create(
                meter=meter,
                period=period,
                value=Decimal(value),
                submitted_at=NOW,
                channel=ReadingChannel.WEB,
                submission_key=f"k{period}",
            )

    @pytest.fixture
    def meters_accepted(self, supplier: Supplier) -> Supplier:
        supplier.terms.update(link_proofs=["pin", "meter_value"])
        return supplier

    def test_the_meter_value_is_offered_only_where_accepted(self, supplier: Supplier) -> None:
        assert [(o.supplier.code, o.proofs) for o in link_options(now=NOW)] == [("gaz-msk", ["pin"])]

        supplier.terms.update(link_proofs=["pin", "meter_value", "last_charge"])

        assert [(o.supplier.code, o.proofs) for o in link_options(now=NOW)] == [
            ("gaz-msk", ["pin", "meter_value", "last_charge"])
        ]

    @pytest.mark.parametrize("value", ["1550", "1550,000", "1 612,5", "1750"])
    def test_a_plausible_current_value_links(self, meters_accepted: Supplier, user: User, value: str) -> None:
        account = account_make(supplier=meters_accepted)
        self.meter_with_readings(account)

        # 550 m³ over 11 months: 50 a month on average; two months since October allow 2 × (2 × 50)
        assert link(user, value=value, proof=LinkProof.METER_VALUE).account == account

    @pytest.mark.parametrize("value", ["1549", "1750,001", "0", "99999", "100000"])
    def test_an_implausible_value_does_not(self, meters_accepted: Supplier, user: User, value: str) -> None:
        account = account_make(supplier=meters_accepted)
        self.meter_with_readings(account)

        with pytest.raises(LinkProofMismatch):
            link(user, value=value, proof=LinkProof.METER_VALUE)
        assert outcomes() == ["mismatch"]

    def test_a_meter_without_readings_proves_nothing(self, meters_accepted: Supplier, user: User) -> None:
        meter_make(account=account_make(supplier=meters_accepted))

        with pytest.raises(LinkProofMismatch):
            link(user, value="0", proof=LinkProof.METER_VALUE)

    def test_a_proof_the_supplier_does_not_accept(self, account: PersonalAccount, user: User) -> None:
        with pytest.raises(ProofNotAccepted) as error:
            link(user, value="1550", proof=LinkProof.METER_VALUE, supplier_code="gaz-msk")

        assert error.value.text == (
            "Газпром межрегионгаз Москва не принимает этот способ подтверждения. Подойдёт: PIN-код с квитанции"
        )
        assert not LinkAttempt.objects.exists()

    @pytest.mark.parametrize("value", ["abc", "-5", "1.2.3", "12,3456"])
    def test_a_malformed_meter_value(self, meters_accepted: Supplier, user: User, value: str) -> None:
        with pytest.raises(ValidationFailed) as error:
            link(user, value=value, proof=LinkProof.METER_VALUE)

        assert set(error.value.errors) == {"value"}


class TestOwnLinks:
    @pytest.fixture
    def two(self, supplier: Supplier, user: User) -> tuple[AccountLink, AccountLink]:
        account_make(supplier=supplier)
        account_make(supplier=supplier, number="770000000002")
        return link(user), link(user, "770000000002")

    def update(self, user: User, account_id: int, **changes: object) -> AccountLink:
        return account_link_update(user=user, account_id=account_id, channel="web", ip=None, now=NOW, **changes)  # type: ignore[arg-type]

    def test_name_and_default(self, two: tuple[AccountLink, AccountLink], user: User) -> None:
        first, second = two

        self.update(user, second.account_id, name="  Дача   у реки ", make_default=True)
        self.update(user, first.account_id, make_default=True)

        assert [(x.account.number, x.name, x.is_default) for x in account_links_list(user=user)] == [
            ("770000000001", "", True),
            ("770000000002", "Дача у реки", False),
        ]
        assert list(AuditRecord.objects.filter(action="account.link_update").values_list("before", "after")) == [
            ({"name": "", "is_default": False}, {"name": "Дача у реки", "is_default": True}),
            ({"name": "", "is_default": False}, {"name": "", "is_default": True}),
        ]

    def test_no_change_leaves_no_audit_record(self, two: tuple[AccountLink, AccountLink], user: User) -> None:
        self.update(user, two[0].account_id, name="", make_default=False)

        assert not AuditRecord.objects.filter(action="account.link_update").exists()

    def test_a_name_too_long(self, two: tuple[AccountLink, AccountLink], user: User) -> None:
        with pytest.raises(ValidationFailed) as error:
            self.update(user, two[0].account_id, name="Д" * 41)

        assert set(error.value.errors) == {"name"}
        assert AccountLink.objects.get(pk=two[0].pk).name == ""

    def test_another_users_account_is_not_found(self, two: tuple[AccountLink, AccountLink]) -> None:
        stranger = user_make(phone="+79160000009")

        with pytest.raises(AccountNotFound):
            self.update(stranger, two[0].account_id, name="Моё")
        with pytest.raises(AccountNotFound):
            account_unlink(user=stranger, account_id=two[0].account_id, channel="web", ip=None, now=NOW)

        assert AccountLink.objects.count() == 2

    def test_unlink_removes_only_this_users_link(self, account: PersonalAccount, user: User) -> None:
        relative = user_make(phone="+79160000002")
        link(user)
        theirs = link(relative)

        account_unlink(user=user, account_id=account.pk, channel="app", ip=None, now=NOW)

        assert list(AccountLink.objects.all()) == [theirs]
        assert PersonalAccount.objects.filter(pk=account.pk).exists()
        audit = AuditRecord.objects.get(action="account.unlink")
        assert (audit.actor_id, audit.channel, audit.after) == (user.pk, "app", None)
        assert audit.before == {"user": user.pk, "account": account.pk, "number": NUMBER, "name": ""}

    def test_where_the_user_lands_after_login(self, two: tuple[AccountLink, AccountLink], user: User) -> None:
        first, second = two
        assert account_link_start(user=user) is None  # several, none chosen: the list

        self.update(user, second.account_id, make_default=True)
        assert account_link_start(user=user) == second

        account_unlink(user=user, account_id=second.account_id, channel="web", ip=None, now=NOW)
        assert account_link_start(user=user) == first  # the only one

        account_unlink(user=user, account_id=first.account_id, channel="web", ip=None, now=NOW)
        assert account_link_start(user=user) is None


class TestOperatorUnlink:
    def test_with_a_reason(self, account: PersonalAccount, user: User) -> None:
        operator = User.objects.create_user(username="operator", is_staff=True)
        made = link(user)

        result = account_unlink_by_operator(
            operator=operator, link_id=made.pk, reason="Заявление владельца о продаже дома", ip="10.0.0.5", now=NOW
        )

        assert (result.user_id, result.number) == (user.pk, NUMBER)
        assert not AccountLink.objects.exists()
        audit = AuditRecord.objects.get(action="account.unlink")
        assert (audit.actor_id, audit.channel, audit.ip) == (operator.pk, "backoffice", "10.0.0.5")
        assert audit.after == {"reason": "Заявление владельца о продаже дома"}

    @pytest.mark.parametrize("reason", ["", "   ", "нет"])
    def test_without_a_reason_nothing_is_removed(self, account: PersonalAccount, user: User, reason: str) -> None:
        operator = User.objects.create_user(username="operator", is_staff=True)
        made = link(user)

        with pytest.raises(ValidationFailed) as error:
            account_unlink_by_operator(operator=operator, link_id=made.pk, reason=reason, ip=None, now=NOW)

        assert set(error.value.errors) == {"reason"}
        assert AccountLink.objects.filter(pk=made.pk).exists()
        assert not AuditRecord.objects.filter(action="account.unlink").exists()

    def test_a_link_already_gone(self, user: User) -> None:
        operator = User.objects.create_user(username="operator", is_staff=True)

        with pytest.raises(NotFound):
            account_unlink_by_operator(operator=operator, link_id=12345, reason="Ошибочная привязка", ip=None, now=NOW)
