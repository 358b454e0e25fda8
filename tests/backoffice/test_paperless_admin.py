"""Paper bills in the back office: a supplier's terms say whether its subscribers may give
them up; an account's page shows who gave it up and since when, and no form changes that
(it is the subscriber's choice, made in their account)."""

from __future__ import annotations

import datetime as dt

import pytest

from abonent.core.models import Supplier, SupplierTerms
from abonent.customers.models import AccountLink
from abonent.customers.services import paper_bill_set
from abonent.identity.roles import ADMINISTRATOR, SENIOR_OPERATOR
from tests.backoffice.staff import staff, subscriber_make
from tests.factories import account_make

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 23, 7, 0, tzinfo=dt.UTC)


def test_the_terms_say_whether_paper_bills_may_be_given_up(supplier: Supplier) -> None:
    admin = staff(ADMINISTRATOR, "adm")
    terms = SupplierTerms.objects.filter(supplier=supplier).order_by("effective_from").last()
    assert terms is not None

    listing = admin.get("/backoffice/core/supplierterms/")
    page = admin.get(f"/backoffice/core/supplierterms/{terms.pk}/change/")
    supplier_page = admin.get(f"/backoffice/core/supplier/{supplier.pk}/change/")

    assert "можно отказаться от бумажной квитанции" in listing.content.decode().lower()
    assert "paperless_allowed" in page.context["adminform"].form.fields
    assert "paperless_allowed" in supplier_page.context["inline_admin_formsets"][0].formset.form.base_fields


def test_the_account_shows_who_gave_up_the_paper_bill_and_no_form_changes_it(supplier: Supplier) -> None:
    maria = subscriber_make("maria", phone="+79123456789", email="maria@example.org", now=NOW)
    account = account_make(supplier=supplier)
    AccountLink.objects.create(user=maria, account=account, proof="pin", channel="web", linked_at=NOW)
    paper_bill_set(user=maria, account_id=account.pk, paper=False, channel="web", ip=None, now=NOW)
    senior = staff(SENIOR_OPERATOR, "senior")

    response = senior.get(f"/backoffice/customers/personalaccount/{account.pk}/change/")

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert {"paperless_user", "paperless_since"}.isdisjoint(form.fields)
    assert {"paperless_user", "paperless_since"} <= set(response.context["adminform"].readonly_fields)
    html = response.content.decode()
    assert "без бумажной квитанции с" in html.lower()
    assert "23.11.2026" in html
    account.refresh_from_db()
    assert (account.paperless_user, account.paperless_since) == (maria, NOW)
