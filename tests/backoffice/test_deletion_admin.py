import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.test import Client

from abonent.core.models import AuditRecord
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


def colleague(role: str) -> User:
    """A second member of staff in a test (``staff`` makes one: its e-mail is empty, unique)."""
    member = User.objects.create(username=f"{role}-2", is_staff=True)
    member.groups.add(Group.objects.get(name=role))
    return member


def test_senior_operator_takes_the_request_into_work(
    client: Client, django_user_model, deletion: DeletionRequest
) -> None:  # type: ignore[no-untyped-def]
    senior = staff(django_user_model, SENIOR_OPERATOR)
    client.force_login(senior)

    page = client.get(f"/backoffice/identity/deletionrequest/{deletion.pk}/change/").content.decode()
    response = client.post(f"/backoffice/identity/deletionrequest/{deletion.pk}/take/")

    assert f'action="/backoffice/identity/deletionrequest/{deletion.pk}/take/"' in page
    assert response.status_code == 302
    assert response["Location"] == f"/backoffice/identity/deletionrequest/{deletion.pk}/change/"
    after = client.get(response["Location"])
    assert [str(m) for m in get_messages(after.wsgi_request)] == [
        "Заявка взята в работу: абонент видит её в состоянии «в работе»"
    ]
    assert "/take/" not in after.content.decode()  # taken: the button is gone, the decisions stay
    assert "/decide/complete/" in after.content.decode()
    deletion.refresh_from_db()
    assert (deletion.status, deletion.processed_by, deletion.processed_at) == (DeletionStatus.IN_PROGRESS, senior, None)
    assert deletion.taken_at is not None
    record = AuditRecord.objects.get(action="deletion.in_progress")
    assert (record.object_id, record.actor_id, record.before, record.after) == (
        str(deletion.pk),
        senior.pk,
        {"status": "new"},
        {"status": "in_progress"},
    )


def test_a_request_taken_already_is_not_taken_again(
    client: Client, django_user_model, deletion: DeletionRequest
) -> None:  # type: ignore[no-untyped-def]
    first = staff(django_user_model, SENIOR_OPERATOR)
    client.force_login(first)
    client.post(f"/backoffice/identity/deletionrequest/{deletion.pk}/take/", follow=True)
    client.force_login(colleague(SENIOR_OPERATOR))

    response = client.post(f"/backoffice/identity/deletionrequest/{deletion.pk}/take/")

    after = client.get(response["Location"])
    assert [str(m) for m in get_messages(after.wsgi_request)] == ["Заявка уже в работе"]
    deletion.refresh_from_db()
    assert (deletion.status, deletion.processed_by) == (DeletionStatus.IN_PROGRESS, first)
    assert AuditRecord.objects.filter(action="deletion.in_progress").count() == 1


def test_a_decided_request_is_not_taken(client: Client, django_user_model, deletion: DeletionRequest) -> None:  # type: ignore[no-untyped-def]
    client.force_login(staff(django_user_model, SENIOR_OPERATOR))
    client.post(
        f"/backoffice/identity/deletionrequest/{deletion.pk}/decide/refuse/", {"outcome": "Есть долг"}, follow=True
    )

    response = client.post(f"/backoffice/identity/deletionrequest/{deletion.pk}/take/")

    after = client.get(response["Location"])
    assert [str(m) for m in get_messages(after.wsgi_request)] == ["Заявка уже обработана"]
    deletion.refresh_from_db()
    assert deletion.status == DeletionStatus.REFUSED
    assert deletion.taken_at is None


def test_operator_cannot_take_and_a_get_takes_nothing(
    client: Client, django_user_model, deletion: DeletionRequest
) -> None:  # type: ignore[no-untyped-def]
    client.force_login(staff(django_user_model, OPERATOR))

    page = client.get(f"/backoffice/identity/deletionrequest/{deletion.pk}/change/").content.decode()
    refused = client.post(f"/backoffice/identity/deletionrequest/{deletion.pk}/take/")
    client.force_login(colleague(SENIOR_OPERATOR))
    by_link = client.get(f"/backoffice/identity/deletionrequest/{deletion.pk}/take/")
    missing = client.post(f"/backoffice/identity/deletionrequest/{deletion.pk + 1}/take/")

    assert "/take/" not in page
    assert refused.status_code == 403
    assert by_link.status_code == 405
    assert missing.status_code == 404
    deletion.refresh_from_db()
    assert (deletion.status, deletion.taken_at) == (DeletionStatus.NEW, None)
