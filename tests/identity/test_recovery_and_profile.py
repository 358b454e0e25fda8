"""Password recovery, changes of contacts and password, consents, profile deletion."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import mail

from abonent.core.errors import ValidationFailed
from abonent.core.models import AuditRecord
from abonent.identity.codes import CodeInvalid
from abonent.identity.contacts import InvalidPhone
from abonent.identity.enums import AuthChannel, ConsentKind, ContactKind, DeletionStatus
from abonent.identity.models import Consent, DeletionRequest, User
from abonent.identity.selectors import deletion_request_open_get, deletion_requests_list, sessions_list
from abonent.identity.services import (
    ContactTaken,
    ContactUnchanged,
    DeletionAlreadyRequested,
    DeletionRequestClosed,
    DeletionRequestTaken,
    InvalidToken,
    ResetLinkInvalid,
    WrongPassword,
    access_token_authenticate,
    app_session_start,
    contact_change_confirm,
    contact_change_start,
    deletion_request_complete,
    deletion_request_create,
    deletion_request_refuse,
    deletion_request_take,
    marketing_consent_set,
    password_change,
    password_reset_by_code,
    password_reset_by_link,
    password_reset_start,
)
from abonent.notifications.models import Delivery, OutboxMessage

# Messages go out after commit: these tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)

NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
PASSWORD = "Зелёный-чайник-42"
NEW_PASSWORD = "Синий-самовар-2027"
LINK_BASE = "https://lk.gaz.example/password/reset/"


@pytest.fixture
def user() -> User:
    user = User(
        username="u-maria",
        phone="+79123456789",
        email="maria@example.org",
        is_active=True,
        phone_confirmed_at=NOW - dt.timedelta(days=30),
        email_confirmed_at=NOW - dt.timedelta(days=30),
    )
    user.set_password(PASSWORD)
    user.save()
    return user


def minutes(n: float) -> dt.datetime:
    return NOW + dt.timedelta(minutes=n)


def sms_code(phone: str) -> str:
    body = OutboxMessage.objects.filter(recipient=phone).order_by("-id").values_list("body", flat=True).first()
    assert body is not None
    match = re.search(r"\b\d{6}\b", body)
    assert match is not None
    return match.group(0)


class TestRecoveryBySms:
    def test_code_sets_the_password_and_ends_every_session(self, user: User) -> None:
        device = app_session_start(user=user, device_name="Pixel 8", user_agent="", ip=None, now=NOW)
        password_reset_start(login="8 912 345-67-89", link_base=LINK_BASE, ip=None, now=minutes(1))

        password_reset_by_code(
            login="+79123456789", code=sms_code("+79123456789"), new_password=NEW_PASSWORD, ip=None, now=minutes(2)
        )

        user.refresh_from_db()
        assert user.check_password(NEW_PASSWORD)
        assert sessions_list(user=user, now=minutes(2)) == []
        with pytest.raises(InvalidToken):
            access_token_authenticate(access_token=device.access_token, now=minutes(2))
        assert AuditRecord.objects.filter(action="password.reset", object_id=str(user.pk)).count() == 1

    def test_wrong_code_changes_nothing(self, user: User) -> None:
        password_reset_start(login="+79123456789", link_base=LINK_BASE, ip=None, now=NOW)
        code = sms_code("+79123456789")

        with pytest.raises(CodeInvalid):
            password_reset_by_code(
                login="+79123456789", code=f"{(int(code) + 1) % 10**6:06d}", new_password=NEW_PASSWORD, ip=None, now=NOW
            )

        user.refresh_from_db()
        assert user.check_password(PASSWORD)

    def test_weak_new_password_keeps_the_code(self, user: User) -> None:
        password_reset_start(login="+79123456789", link_base=LINK_BASE, ip=None, now=NOW)
        code = sms_code("+79123456789")

        with pytest.raises(ValidationFailed) as exc:
            password_reset_by_code(login="+79123456789", code=code, new_password="qwerty", ip=None, now=NOW)

        assert list(exc.value.errors) == ["new_password"]
        password_reset_by_code(login="+79123456789", code=code, new_password=NEW_PASSWORD, ip=None, now=NOW)

    def test_unknown_phone_is_answered_the_same_and_nothing_is_sent(self) -> None:
        sent = password_reset_start(login="+79990001122", link_base=LINK_BASE, ip=None, now=NOW)

        assert sent.masked == "+7 999 ***-**-22"
        assert not OutboxMessage.objects.exists()


class TestRecoveryByEmailLink:
    def link(self) -> tuple[str, str]:
        match = re.search(r"/password/reset/([^/]+)/([^/]+)/", mail.outbox[-1].body)
        assert match is not None
        return match.group(1), match.group(2)

    def test_link_works_once(self, user: User) -> None:
        password_reset_start(login="Maria@example.org", link_base=LINK_BASE, ip=None, now=NOW)
        uid, token = self.link()
        assert mail.outbox[-1].subject == "Восстановление пароля"
        assert mail.outbox[-1].body.startswith(
            "Чтобы задать новый пароль для личного кабинета, откройте ссылку:\n" + LINK_BASE
        )

        password_reset_by_link(uid=uid, token=token, new_password=NEW_PASSWORD, ip=None, now=minutes(5))

        with pytest.raises(ResetLinkInvalid):
            password_reset_by_link(uid=uid, token=token, new_password="Ещё-один-пароль-1", ip=None, now=minutes(6))
        user.refresh_from_db()
        assert user.check_password(NEW_PASSWORD)

    @pytest.mark.parametrize(("uid", "token"), [("!!", "x"), ("MTIzNDU2Nzg5", "abc-def"), ("", "")])
    def test_broken_links(self, user: User, uid: str, token: str) -> None:
        with pytest.raises(ResetLinkInvalid):
            password_reset_by_link(uid=uid, token=token, new_password=NEW_PASSWORD, ip=None, now=NOW)


class TestChanges:
    def test_password_change_keeps_this_session_and_ends_the_others(self, user: User) -> None:
        this = app_session_start(user=user, device_name="this", user_agent="", ip=None, now=NOW)
        other = app_session_start(user=user, device_name="other", user_agent="", ip=None, now=NOW)

        password_change(
            user=user,
            old_password=PASSWORD,
            new_password=NEW_PASSWORD,
            keep_session_id=this.session_id,
            ip=None,
            now=minutes(1),
        )

        assert [s.pk for s in sessions_list(user=user, now=minutes(1))] == [this.session_id]
        with pytest.raises(InvalidToken):
            access_token_authenticate(access_token=other.access_token, now=minutes(1))

    def test_password_change_needs_the_old_one(self, user: User) -> None:
        with pytest.raises(WrongPassword):
            password_change(
                user=user, old_password="не тот", new_password=NEW_PASSWORD, keep_session_id=None, ip=None, now=NOW
            )

        user.refresh_from_db()
        assert user.check_password(PASSWORD)

    def test_phone_change_confirmed_by_a_code_to_the_new_phone(self, user: User) -> None:
        sent = contact_change_start(user=user, kind=ContactKind.PHONE, value="8 999 000-11-22", ip=None, now=NOW)
        assert sent.recipient == "+79990001122"

        contact_change_confirm(
            user=user,
            kind=ContactKind.PHONE,
            value="+79990001122",
            code=sms_code("+79990001122"),
            ip=None,
            now=minutes(1),
        )

        user.refresh_from_db()
        assert (user.phone, user.phone_confirmed_at) == ("+79990001122", minutes(1))
        record = AuditRecord.objects.get(action="phone.changed")
        assert (record.before, record.after) == ({"phone": "+79123456789"}, {"phone": "+79990001122"})

    def test_phone_taken_by_another_profile(self, user: User) -> None:
        User.objects.create(username="u-other", phone="+79990001122", is_active=True)
        contact_change_start(user=user, kind=ContactKind.PHONE, value="+79990001122", ip=None, now=NOW)

        with pytest.raises(ContactTaken) as exc:
            contact_change_confirm(
                user=user, kind=ContactKind.PHONE, value="+79990001122", code=sms_code("+79990001122"), ip=None, now=NOW
            )

        assert str(exc.value) == "Этот телефон уже указан в другом профиле"
        user.refresh_from_db()
        assert user.phone == "+79123456789"

    def test_same_phone_is_not_a_change(self, user: User) -> None:
        with pytest.raises(ContactUnchanged):
            contact_change_start(user=user, kind=ContactKind.PHONE, value="89123456789", ip=None, now=NOW)
        assert not OutboxMessage.objects.exists()

    def test_bad_phone(self, user: User) -> None:
        with pytest.raises(InvalidPhone):
            contact_change_start(user=user, kind=ContactKind.PHONE, value="12-34", ip=None, now=NOW)

    def test_email_change(self, user: User) -> None:
        contact_change_start(user=user, kind=ContactKind.EMAIL, value="Maria.New@Example.org", ip=None, now=NOW)
        code = re.search(r"\b\d{6}\b", mail.outbox[-1].body).group(0)  # type: ignore[union-attr]

        contact_change_confirm(
            user=user, kind=ContactKind.EMAIL, value="Maria.New@example.org", code=code, ip=None, now=NOW
        )

        user.refresh_from_db()
        assert user.email == "Maria.New@example.org"


class TestConsents:
    def test_marketing_consent_is_given_and_withdrawn_separately(self, user: User) -> None:
        marketing_consent_set(user=user, given=True, channel=AuthChannel.WEB, ip="203.0.113.5", now=NOW)
        marketing_consent_set(user=user, given=False, channel=AuthChannel.APP, ip=None, now=minutes(5))
        marketing_consent_set(user=user, given=False, channel=AuthChannel.APP, ip=None, now=minutes(6))

        consent = Consent.objects.get(user=user, kind=ConsentKind.MARKETING)
        assert (consent.granted_at, consent.withdrawn_at, consent.withdrawn_channel) == (NOW, minutes(5), "app")


class TestDeletion:
    def test_request_then_completion_erases_the_profile(self, user: User, django_user_model) -> None:  # type: ignore[no-untyped-def]
        operator = django_user_model.objects.create_user(username="operator", password="x-operator-2026", is_staff=True)
        request = deletion_request_create(user=user, reason="Переехала", channel=AuthChannel.WEB, now=NOW)
        assert (request.status, request.due_by, request.contact) == (
            DeletionStatus.NEW,
            dt.date(2026, 12, 20),
            "+79123456789",
        )
        assert deletion_request_open_get(user=user) == request

        deletion_request_complete(request_id=request.pk, operator=operator, outcome="", now=minutes(60))

        user.refresh_from_db()
        assert (user.phone, user.email, user.is_active, user.has_usable_password()) == (None, None, False, False)
        assert user.username == f"deleted-{user.pk}"
        assert OutboxMessage.objects.filter(recipient="+79123456789").order_by("-id").first().body == (  # type: ignore[union-attr]
            "Ваш профиль в личном кабинете удалён. Профиль удалён"
        )
        with pytest.raises(DeletionRequestClosed):
            deletion_request_refuse(request_id=request.pk, operator=operator, outcome="нет", now=minutes(61))

    def test_one_open_request_at_a_time(self, user: User) -> None:
        deletion_request_create(user=user, reason="", channel=AuthChannel.WEB, now=NOW)

        with pytest.raises(DeletionAlreadyRequested):
            deletion_request_create(user=user, reason="", channel=AuthChannel.WEB, now=minutes(1))
        assert DeletionRequest.objects.count() == 1

    def test_take_puts_a_new_request_in_progress(self, user: User, django_user_model) -> None:  # type: ignore[no-untyped-def]
        operator = django_user_model.objects.create_user(username="operator", password="x-operator-2026", is_staff=True)
        request = deletion_request_create(user=user, reason="Переехала", channel=AuthChannel.WEB, now=NOW)
        deliveries = Delivery.objects.count()

        taken = deletion_request_take(request_id=request.pk, operator=operator, now=minutes(30))

        request.refresh_from_db()
        assert taken == request
        assert (request.status, request.taken_at, request.processed_by, request.processed_at, request.outcome) == (
            DeletionStatus.IN_PROGRESS,
            minutes(30),
            operator,
            None,
            "",
        )
        assert deletion_request_open_get(user=user) == request  # still open: the subscriber sees it «в работе»
        assert list(
            AuditRecord.objects.filter(object_type="deletion_request", object_id=str(request.pk))
            .order_by("pk")
            .values_list("at", "actor_id", "channel", "action", "before", "after")
        ) == [
            (NOW, user.pk, "web", "deletion.requested", None, None),
            (
                minutes(30),
                operator.pk,
                "operator",
                "deletion.in_progress",
                {"status": "new"},
                {"status": "in_progress"},
            ),
        ]
        assert Delivery.objects.count() == deliveries  # taking it tells the subscriber nothing
        with pytest.raises(DeletionAlreadyRequested):  # one open request, taken or not
            deletion_request_create(user=user, reason="", channel=AuthChannel.WEB, now=minutes(31))

        deletion_request_complete(request_id=request.pk, operator=operator, outcome="", now=minutes(60))

        request.refresh_from_db()
        assert (request.status, request.taken_at, request.processed_at) == (
            DeletionStatus.DONE,
            minutes(30),
            minutes(60),
        )
        assert AuditRecord.objects.filter(object_type="deletion_request", object_id=str(request.pk)).order_by(
            "-pk"
        ).values_list("action", "before", "after").first() == (
            "deletion.done",
            {"status": "in_progress"},
            {"status": "done"},
        )

    def test_a_request_is_taken_once(self, user: User, django_user_model) -> None:  # type: ignore[no-untyped-def]
        first = django_user_model.objects.create_user(username="operator-1", password="x-operator-2026", is_staff=True)
        second = User.objects.create(username="operator-2", is_staff=True)
        request = deletion_request_create(user=user, reason="", channel=AuthChannel.WEB, now=NOW)
        deletion_request_take(request_id=request.pk, operator=first, now=minutes(10))
        audit = AuditRecord.objects.count()

        with pytest.raises(DeletionRequestTaken) as taken:
            deletion_request_take(request_id=request.pk, operator=second, now=minutes(20))

        assert (taken.value.code, taken.value.text) == ("deletion_request_taken", "Заявка уже в работе")
        request.refresh_from_db()
        assert (request.status, request.taken_at, request.processed_by) == (
            DeletionStatus.IN_PROGRESS,
            minutes(10),
            first,
        )
        assert AuditRecord.objects.count() == audit

    def test_a_decided_request_cannot_be_taken(self, user: User, django_user_model) -> None:  # type: ignore[no-untyped-def]
        operator = django_user_model.objects.create_user(username="operator", password="x-operator-2026", is_staff=True)
        request = deletion_request_create(user=user, reason="", channel=AuthChannel.WEB, now=NOW)
        deletion_request_refuse(request_id=request.pk, operator=operator, outcome="Есть долг", now=minutes(5))
        audit, deliveries = AuditRecord.objects.count(), Delivery.objects.count()

        with pytest.raises(DeletionRequestClosed) as closed:
            deletion_request_take(request_id=request.pk, operator=operator, now=minutes(10))

        assert closed.value.text == "Заявка уже обработана"
        request.refresh_from_db()
        assert (request.status, request.taken_at, request.processed_at, request.outcome) == (
            DeletionStatus.REFUSED,
            None,
            minutes(5),
            "Есть долг",
        )
        assert (AuditRecord.objects.count(), Delivery.objects.count()) == (audit, deliveries)
        assert deletion_requests_list(user=user) == [request]

    def test_a_taken_request_may_be_refused(self, user: User, django_user_model) -> None:  # type: ignore[no-untyped-def]
        operator = django_user_model.objects.create_user(username="operator", password="x-operator-2026", is_staff=True)
        request = deletion_request_create(user=user, reason="", channel=AuthChannel.WEB, now=NOW)
        deletion_request_take(request_id=request.pk, operator=operator, now=minutes(10))

        deletion_request_refuse(request_id=request.pk, operator=operator, outcome="Есть долг", now=minutes(20))

        request.refresh_from_db()
        assert (request.status, request.taken_at, request.processed_at) == (
            DeletionStatus.REFUSED,
            minutes(10),
            minutes(20),
        )
        assert OutboxMessage.objects.filter(recipient="+79123456789").order_by("-id").first().body == (  # type: ignore[union-attr]
            "Заявка на удаление профиля отклонена: Есть долг"
        )

    def test_refusal_needs_a_reason(self, user: User, django_user_model) -> None:  # type: ignore[no-untyped-def]
        operator = django_user_model.objects.create_user(username="operator", password="x-operator-2026", is_staff=True)
        request = deletion_request_create(user=user, reason="", channel=AuthChannel.WEB, now=NOW)

        with pytest.raises(ValidationFailed):
            deletion_request_refuse(request_id=request.pk, operator=operator, outcome="  ", now=NOW)
        request.refresh_from_db()
        assert request.status == DeletionStatus.NEW
