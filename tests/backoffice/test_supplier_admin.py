import pytest
from django.test import Client

from abonent.core.models import Supplier, SupplierTerms
from tests.conftest import SUPPLIER_MOSCOW

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client: Client, django_user_model) -> Client:  # type: ignore[no-untyped-def]
    client.force_login(django_user_model.objects.create_superuser(username="adm", password="x-admin-2026"))
    return client


def form_data(**overrides: str) -> dict[str, str]:
    data = {k: v for k, v in SUPPLIER_MOSCOW.items() if isinstance(v, str)}
    data.update({"is_active": "on", "terms-TOTAL_FORMS": "0", "terms-INITIAL_FORMS": "0"})
    data.update(overrides)
    return data


def test_supplier_added_in_the_back_office_gets_the_statutory_terms(admin_client: Client) -> None:
    response = admin_client.post("/backoffice/core/supplier/add/", form_data())

    assert response.status_code == 302
    supplier = Supplier.objects.get(code="gaz-msk")
    assert list(supplier.terms.order_by("effective_from").values_list("due_day", flat=True)) == [10, 15]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "settlement_account",
            "40702810938000000002",
            "Расчётный счёт не соответствует БИК банка: проверьте цифры счёта и БИК",
        ),
        ("inn", "7707083894", "Неверное контрольное число ИНН: проверьте цифры"),
        ("bic", "04452522", "БИК — 9 цифр"),
    ],
)
def test_bad_bank_details_are_shown_next_to_the_field(
    admin_client: Client, field: str, value: str, message: str
) -> None:
    response = admin_client.post("/backoffice/core/supplier/add/", form_data(**{field: value}))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors[field] == [message]
    assert not Supplier.objects.exists()
    assert not SupplierTerms.objects.exists()
