import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from abonent.identity.enums import AuthChannel, DeletionStatus
from abonent.identity.models import DeletionRequest, User
from abonent.identity.roles import OPERATOR, SENIOR_OPERATOR
from abonent.identity.services import deletion_request_create

# Messages go out after commit: these tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def deletion() -> DeletionRequest:
    user = User.objects.create(
        username="u-maria",
        phone="+79123456789",
        is_active=True,
        phone_confirmed_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )
    return deletion_request_create(
        user=user, reason="Переехала", channel=AuthChannel.WEB, now=dt.datetime(2026, 11, 20, tzinfo=dt.UTC)
    )


def staff(django_user_model, role: str) -> User:  # type: ignore[no-untyped-def]
    member = django_user_model.objects.create_user(username=role, password="x-staff-2026", is_staff=True)
    member.groups.add(Group.objects.get(name=role))
    return member


def test_senior_operator_erases_the_profile(client: Client, django_user_model, deletion: DeletionRequest) -> None:  # type: ignore[no-untyped-def]
    client.force_login(staff(django_user_model, SENIOR_OPERATOR))

    page = client.get(f"/backoffice/identity/deletionrequest/{deletion.pk}/change/")
    response = client.post(
        f"/backoffice/identity/deletionrequest/{deletion.pk}/decide/complete/", {"outcome": "Данные удалены"}
    )

    assert "/decide/complete/" in page.content.decode()
    assert response.status_code == 302
    deletion.refresh_from_db()
    assert (deletion.status, deletion.outcome) == (DeletionStatus.DONE, "Данные удалены")
    user = User.objects.get(pk=deletion.user_id)
    assert (user.phone, user.is_active) == (None, False)


def test_refusal_without_a_reason_is_shown_on_the_form(
    client: Client, django_user_model, deletion: DeletionRequest
) -> None:  # type: ignore[no-untyped-def]
    client.force_login(staff(django_user_model, SENIOR_OPERATOR))

    response = client.post(f"/backoffice/identity/deletionrequest/{deletion.pk}/decide/refuse/", {"outcome": ""})

    assert response.status_code == 200
    assert "Укажите причину отказа: её получит абонент" in response.content.decode()
    deletion.refresh_from_db()
    assert deletion.status == DeletionStatus.NEW


def test_operator_cannot_decide(client: Client, django_user_model, deletion: DeletionRequest) -> None:  # type: ignore[no-untyped-def]
    client.force_login(staff(django_user_model, OPERATOR))

    response = client.post(f"/backoffice/identity/deletionrequest/{deletion.pk}/decide/complete/", {"outcome": "x"})

    assert response.status_code == 403
    deletion.refresh_from_db()
    assert deletion.status == DeletionStatus.NEW
    assert User.objects.get(pk=deletion.user_id).phone == "+79123456789"
