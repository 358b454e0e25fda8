import datetime as dt

import pytest
from django.db import DatabaseError, IntegrityError, transaction

from abonent.core.models import Supplier
from abonent.customers.enums import AccountStatus
from abonent.customers.models import PersonalAccount
from abonent.customers.pins import pin_hash, pin_matches
from tests.factories import account_make

pytestmark = pytest.mark.django_db


class TestPersonalAccount:
    def test_holder_name_and_address(self, supplier: Supplier) -> None:
        account = account_make(supplier=supplier)

        assert account.holder_name == "Иванова Мария Петровна"
        assert account.address == "142100, Московская область, г. Подольск, ул. Садовая, д. 12, кв. 34"

    @pytest.mark.parametrize("number", ["77000000001", "7700000000012", "77000000000A", ""])
    def test_number_must_be_12_digits(self, supplier: Supplier, number: str) -> None:
        # a check constraint on SQLite; on PostgreSQL a longer value is refused by the column length first
        with pytest.raises(DatabaseError), transaction.atomic():
            account_make(supplier=supplier, number=number)

        assert not PersonalAccount.objects.exists()

    def test_number_is_unique_per_supplier(self, supplier: Supplier) -> None:
        account_make(supplier=supplier, number="770000000001")

        with pytest.raises(IntegrityError), transaction.atomic():
            account_make(supplier=supplier, number="770000000001")
        assert PersonalAccount.objects.count() == 1

    def test_closed_account_needs_a_closing_date_after_opening(self, supplier: Supplier) -> None:
        with pytest.raises(IntegrityError), transaction.atomic():
            account_make(supplier=supplier, status=AccountStatus.CLOSED)
        with pytest.raises(IntegrityError), transaction.atomic():
            account_make(supplier=supplier, status=AccountStatus.CLOSED, closed_on=dt.date(2010, 1, 1))

        closed = account_make(supplier=supplier, status=AccountStatus.CLOSED, closed_on=dt.date(2024, 1, 1))
        assert closed.closed_on == dt.date(2024, 1, 1)


class TestPins:
    def test_pin_is_stored_as_a_keyed_hash(self, supplier: Supplier) -> None:
        account = account_make(supplier=supplier, pin="482913")

        assert "482913" not in account.pin_hash
        assert len(account.pin_hash) == 64
        assert pin_matches(supplier_id=supplier.pk, number=account.number, pin="482913", stored=account.pin_hash)
        assert not pin_matches(supplier_id=supplier.pk, number=account.number, pin="482914", stored=account.pin_hash)

    def test_same_pin_on_two_accounts_hashes_differently(self) -> None:
        assert pin_hash(supplier_id=1, number="770000000001", pin="111111") != pin_hash(
            supplier_id=1, number="770000000002", pin="111111"
        )

    def test_hash_depends_on_the_server_key(self, settings) -> None:  # type: ignore[no-untyped-def]
        before = pin_hash(supplier_id=1, number="770000000001", pin="111111")
        settings.PIN_HASH_KEY = "another-key"

        assert pin_hash(supplier_id=1, number="770000000001", pin="111111") != before
