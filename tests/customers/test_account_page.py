"""What the account page reads: the masked holder, contracts and meters with how near their
dates are, in the supplier's local time."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from abonent.core.models import Supplier
from abonent.core.services import supplier_terms_change
from abonent.customers.enums import ContractKind, ContractStatus
from abonent.customers.models import AccountLink, Contract, PersonalAccount
from abonent.customers.selectors import Horizon, account_link_get, contracts_list, horizon
from abonent.customers.services import AccountNotFound
from abonent.identity.models import User
from abonent.metering.enums import MeterStatus, ReadingChannel, ReadingStatus
from abonent.metering.models import Reading
from abonent.metering.selectors import meters_list
from tests.factories import account_make, meter_make
from tests.web.identity import user_make

pytestmark = pytest.mark.django_db

# 22.11.2026 00:30 in Moscow, still the 21st in UTC
NOW = dt.datetime(2026, 11, 21, 21, 30, tzinfo=dt.UTC)
TODAY = dt.date(2026, 11, 22)


@pytest.fixture
def user() -> User:
    return user_make()


@pytest.fixture
def linked(supplier: Supplier, user: User) -> AccountLink:
    account = account_make(supplier=supplier)
    return AccountLink.objects.create(user=user, account=account, proof="pin", channel="web", linked_at=NOW)


def contract(account: PersonalAccount, kind: str, valid_to: dt.date | None, **fields: object) -> Contract:
    return Contract.objects.create(
        account=account,
        kind=kind,
        number=f"{kind}-{valid_to}",
        signed_on=dt.date(2024, 1, 1),
        valid_from=dt.date(2024, 1, 1),
        valid_to=valid_to,
        **fields,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("first", "middle", "masked"),
    [("Мария", "Петровна", "Иванова М. П."), ("Мария", "", "Иванова М."), ("", "", "Иванова")],
)
def test_the_holder_is_masked(supplier: Supplier, first: str, middle: str, masked: str) -> None:
    account = account_make(supplier=supplier, holder_first_name=first, holder_middle_name=middle)

    assert account.holder_masked == masked


@pytest.mark.parametrize(
    ("until", "state", "left"),
    [
        (None, Horizon.OK, None),
        (TODAY + dt.timedelta(days=61), Horizon.OK, 61),
        (TODAY + dt.timedelta(days=60), Horizon.SOON, 60),
        (TODAY, Horizon.SOON, 0),
        (TODAY - dt.timedelta(days=1), Horizon.PASSED, -1),
    ],
)
def test_horizon(until: dt.date | None, state: Horizon, left: int | None) -> None:
    assert horizon(until=until, today=TODAY, warning_days=60) == (state, left)


def test_only_a_linked_account_is_read(linked: AccountLink) -> None:
    stranger = user_make(phone="+79160000009")

    assert account_link_get(user=linked.user, account_id=linked.account_id) == linked
    with pytest.raises(AccountNotFound):
        account_link_get(user=stranger, account_id=linked.account_id)


class TestContracts:
    def test_states_and_warnings(self, linked: AccountLink) -> None:
        account = linked.account
        contract(account, ContractKind.SUPPLY, None)
        contract(account, ContractKind.VDGO, TODAY + dt.timedelta(days=30))
        contract(account, ContractKind.VDGO, dt.date(2025, 12, 31), status=ContractStatus.EXPIRED)

        views = contracts_list(link=linked, now=NOW)

        assert [(v.contract.kind, v.state, v.days_left) for v in views] == [
            ("supply", Horizon.OK, None),
            ("vdgo", Horizon.SOON, 30),
            ("vdgo", Horizon.OK, None),  # no longer in force: shown as it is
        ]
        assert views[0].warning is None
        assert views[1].warning == (
            "Договор о техническом обслуживании газового оборудования действует до 22.12.2026. "
            "Заключите новый заранее: без действующего договора ТО ВДГО поставку газа могут приостановить."
        )

    def test_an_active_contract_past_its_end(self, linked: AccountLink) -> None:
        contract(linked.account, ContractKind.SUPPLY, dt.date(2026, 11, 1))

        (view,) = contracts_list(link=linked, now=NOW)

        assert (view.state, view.days_left) == (Horizon.PASSED, -21)
        assert view.warning == "Срок договора поставки газа истёк 01.11.2026. Обратитесь к поставщику."

    def test_the_horizon_is_the_suppliers_setting(self, linked: AccountLink) -> None:
        supplier_terms_change(
            supplier=linked.account.supplier, effective_from=dt.date(2026, 11, 1), contract_warning_days=10
        )
        contract(linked.account, ContractKind.VDGO, TODAY + dt.timedelta(days=30))

        assert contracts_list(link=linked, now=NOW)[0].state == Horizon.OK


class TestMeters:
    def test_last_reading_and_verification(self, linked: AccountLink) -> None:
        account = linked.account
        ok = meter_make(account=account, serial="1", verification_due_on=dt.date(2030, 1, 1))
        meter_make(account=account, serial="2", verification_due_on=TODAY + dt.timedelta(days=59))
        meter_make(account=account, serial="3", verification_due_on=TODAY - dt.timedelta(days=1))
        meter_make(
            account=account,
            serial="4",
            status=MeterStatus.REMOVED,
            removed_on=dt.date(2025, 1, 1),
            verification_due_on=dt.date(2024, 6, 1),
        )
        for period, value, status in [
            (202609, "100", ReadingStatus.ACCEPTED),
            (202610, "120", ReadingStatus.ACCEPTED),
            (202611, "999", ReadingStatus.SUPERSEDED),
        ]:
            Reading.objects.create(
                meter=ok,
                period=period,
                value=Decimal(value),
                submitted_at=NOW,
                channel=ReadingChannel.WEB,
                status=status,
                submission_key=f"k{period}",
            )

        views = meters_list(link=linked, now=NOW)

        assert [(v.meter.serial, v.verification, v.days_left) for v in views] == [
            ("1", Horizon.OK, 1136),
            ("2", Horizon.SOON, 59),
            ("3", Horizon.PASSED, -1),
            ("4", Horizon.OK, None),  # removed: no warning
        ]
        assert views[0].last_reading is not None
        assert (views[0].last_reading.period.to_int(), views[0].last_reading.value) == (202610, Decimal("120"))
        assert views[1].last_reading is None
        warnings = [v.warning or "" for v in views]
        assert warnings[0] == warnings[3] == ""
        assert warnings[1].startswith(
            "Срок поверки счётчика истекает 20.01.2027. После этой даты его показания не принимаются к расчёту"
        )
        assert warnings[2].startswith(
            "Срок поверки счётчика истёк 21.11.2026. Его показания не принимаются к расчёту: газ начисляется по нормативу"
        )
