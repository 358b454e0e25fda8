import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from abonent.core.errors import ValidationFailed
from abonent.core.models import Supplier, SupplierTerms
from abonent.core.periods import Period
from abonent.core.selectors import (
    SupplierNotFound,
    TermsNotSet,
    bill_delivery_date,
    payment_due_date,
    supplier_by_code,
    supplier_local_date,
    supplier_terms_on,
)
from abonent.core.services import TermsAlreadyExist, supplier_create, supplier_terms_change
from tests.conftest import SUPPLIER_MOSCOW

pytestmark = pytest.mark.django_db


class TestSupplierCreate:
    def test_creates_the_statutory_terms_history(self, supplier: Supplier) -> None:
        versions = list(
            supplier.terms.order_by("effective_from").values_list("effective_from", "due_day", "bill_delivery_day")
        )

        assert versions == [(dt.date(2005, 3, 1), 10, 1), (dt.date(2026, 3, 1), 15, 5)]

    @pytest.mark.parametrize(
        ("field", "value", "message"),
        [
            ("inn", "7707083894", "Неверное контрольное число ИНН: проверьте цифры"),
            ("kpp", "77360100", "КПП — 9 символов: 4 цифры, 2 цифры или заглавные латинские буквы, 3 цифры"),
            ("ogrn", "1027700132196", "Неверное контрольное число ОГРН: проверьте цифры"),
            ("bic", "144525225", "БИК банка в России начинается с 04"),
            (
                "settlement_account",
                "40702810938000000002",
                "Расчётный счёт не соответствует БИК банка: проверьте цифры счёта и БИК",
            ),
            (
                "correspondent_account",
                "30101810400000000226",
                "Корреспондентский счёт не соответствует БИК банка: проверьте цифры счёта и БИК",
            ),
            ("time_zone", "Europe/Mordor", "Неизвестный часовой пояс «Europe/Mordor»: укажите его как Europe/Moscow"),
            ("email", "info@", "Введите правильный адрес электронной почты."),
            ("hotline_phone", "звоните", "Телефон: цифры, пробелы, +, скобки и дефисы"),
            (
                "bank_name",
                "Филиал «Центральный» Банка ВТБ (публичное акционерное общество)",
                "Для QR-кода на квитанции (ГОСТ Р 56042) название банка — не длиннее 45 символов",
            ),
        ],
    )
    def test_bad_requisite_is_named_and_nothing_is_written(self, field: str, value: str, message: str) -> None:
        with pytest.raises(ValidationFailed) as exc:
            supplier_create(**{**SUPPLIER_MOSCOW, field: value})

        assert exc.value.errors == {field: [message]}
        assert not Supplier.objects.exists()
        assert not SupplierTerms.objects.exists()

    def test_bad_term_rolls_back_the_supplier(self) -> None:
        with pytest.raises(ValidationFailed) as exc:
            supplier_create(**SUPPLIER_MOSCOW, terms={"reading_window_start_day": 26, "reading_window_end_day": 20})

        assert exc.value.errors == {
            "reading_window_end_day": ["Окончание приёма показаний не может быть раньше начала"]
        }
        assert not Supplier.objects.exists()

    def test_link_proofs_must_be_known(self) -> None:
        with pytest.raises(ValidationFailed) as exc:
            supplier_create(**SUPPLIER_MOSCOW, terms={"link_proofs": ["pin", "passport"]})

        assert exc.value.errors == {
            "link_proofs": ["Укажите хотя бы один способ из: pin, last_charge, meter_value, без повторов"]
        }
        assert not Supplier.objects.exists()

    def test_database_refuses_a_bad_bic_that_skips_validation(self, supplier: Supplier) -> None:
        with pytest.raises(IntegrityError), transaction.atomic():
            Supplier.objects.filter(pk=supplier.pk).update(bic="12345")


class TestDueDates:
    @pytest.mark.parametrize(
        ("period", "due"),
        [
            (Period(2025, 12), dt.date(2026, 1, 10)),
            (Period(2026, 1), dt.date(2026, 2, 10)),
            (Period(2026, 2), dt.date(2026, 3, 15)),  # the day in force on 01.03.2026
            (Period(2026, 11), dt.date(2026, 12, 15)),
            (Period(2026, 12), dt.date(2027, 1, 15)),
        ],
    )
    def test_payment_due_date_follows_the_law_change(self, supplier: Supplier, period: Period, due: dt.date) -> None:
        assert payment_due_date(supplier=supplier, period=period) == due

    @pytest.mark.parametrize(
        ("period", "delivery"), [(Period(2026, 1), dt.date(2026, 2, 1)), (Period(2026, 2), dt.date(2026, 3, 5))]
    )
    def test_bill_delivery_date(self, supplier: Supplier, period: Period, delivery: dt.date) -> None:
        assert bill_delivery_date(supplier=supplier, period=period) == delivery

    def test_no_terms_before_the_first_version(self, supplier: Supplier) -> None:
        with pytest.raises(TermsNotSet) as exc:
            supplier_terms_on(supplier=supplier, day=dt.date(2004, 12, 31))

        assert exc.value.code == "supplier_terms_not_set"
        assert str(exc.value) == "У поставщика «Газпром межрегионгаз Москва» не заданы условия на 31.12.2004"


class TestTermsChange:
    def test_change_takes_effect_on_its_date_and_keeps_the_rest(self, supplier: Supplier) -> None:
        supplier_terms_change(
            supplier=supplier,
            effective_from=dt.date(2027, 1, 1),
            reading_window_start_day=20,
            max_monthly_consumption=Decimal("5000"),
        )

        before = supplier_terms_on(supplier=supplier, day=dt.date(2026, 12, 31))
        after = supplier_terms_on(supplier=supplier, day=dt.date(2027, 1, 1))
        assert (before.reading_window_start_day, before.max_monthly_consumption) == (15, Decimal("10000.000"))
        assert (after.reading_window_start_day, after.max_monthly_consumption) == (20, Decimal("5000.000"))
        assert (after.due_day, after.bill_delivery_day, after.reading_window_end_day) == (15, 5, 25)

    def test_change_between_versions_copies_the_version_then_in_force(self, supplier: Supplier) -> None:
        terms = supplier_terms_change(supplier=supplier, effective_from=dt.date(2020, 1, 1), sbp_allowed=False)

        assert (terms.due_day, terms.bill_delivery_day, terms.sbp_allowed) == (10, 1, False)
        assert supplier_terms_on(supplier=supplier, day=dt.date(2026, 3, 1)).sbp_allowed is True

    def test_second_version_on_the_same_date_is_refused(self, supplier: Supplier) -> None:
        with pytest.raises(TermsAlreadyExist) as exc:
            supplier_terms_change(supplier=supplier, effective_from=dt.date(2026, 3, 1), due_day=20)

        assert str(exc.value) == "Условия поставщика с 01.03.2026 уже заданы: измените их, а не добавляйте новые"
        assert supplier_terms_on(supplier=supplier, day=dt.date(2026, 3, 1)).due_day == 15

    @pytest.mark.parametrize(
        ("changes", "errors"),
        [
            ({"due_day": 31}, {"due_day": ["Убедитесь, что это значение меньше либо равно 28."]}),
            ({"due_day": 0}, {"due_day": ["Убедитесь, что это значение больше либо равно 1."]}),
            ({"colour": "red"}, {"colour": ["Такого условия нет"]}),
        ],
    )
    def test_bad_change_is_refused_and_nothing_is_written(
        self, supplier: Supplier, changes: dict, errors: dict
    ) -> None:
        with pytest.raises(ValidationFailed) as exc:
            supplier_terms_change(supplier=supplier, effective_from=dt.date(2027, 1, 1), **changes)

        assert exc.value.errors == errors
        assert supplier.terms.count() == 2


class TestSelectors:
    def test_supplier_by_code(self, supplier: Supplier) -> None:
        assert supplier_by_code(code="gaz-msk") == supplier

    def test_inactive_supplier_is_not_found(self, supplier: Supplier) -> None:
        Supplier.objects.filter(pk=supplier.pk).update(is_active=False)

        with pytest.raises(SupplierNotFound) as exc:
            supplier_by_code(code="gaz-msk")
        assert str(exc.value) == "Поставщик «gaz-msk» не найден"

    def test_local_date_at_the_suppliers_place(self, supplier: Supplier) -> None:
        supplier.time_zone = "Europe/Kaliningrad"
        moment = dt.datetime(2026, 11, 30, 22, 30, tzinfo=dt.UTC)  # 01:30 in Moscow, 00:30 in Kaliningrad

        assert supplier_local_date(supplier=supplier, now=moment) == dt.date(2026, 12, 1)
        supplier.time_zone = "Europe/Moscow"
        assert supplier_local_date(supplier=supplier, now=dt.datetime(2026, 11, 30, 20, 59, tzinfo=dt.UTC)) == dt.date(
            2026, 11, 30
        )
