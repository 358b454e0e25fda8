"""``identity.external``: what a login through Госуслуги does, once the provider vouched for
the person — (a) the linked profile logs in; (b) a profile with the same confirmed phone or
e-mail is linked only with a code sent to it; (c) a new profile only with consent — with
exact values, and nothing written or sent when something is refused."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest
from django.contrib.sessions.models import Session
from pytest_django.fixtures import Settings as SettingsWrapper

from abonent.core.models import AuditRecord
from abonent.identity import external
from abonent.identity.codes import CodeInvalid
from abonent.identity.enums import AuthChannel, CodePurpose, ConsentKind, ContactKind
from abonent.identity.models import ConfirmationCode, Consent, ExternalIdentity, User
from abonent.identity.services import ConsentRequired, TooManyAttempts
from abonent.notifications.models import OutboxMessage

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 22, 9, 0, tzinfo=dt.UTC)
IP = "203.0.113.9"

NEW_PERSON = {
    "sub": "esia-1001",
    "family_name": "Соколова",
    "given_name": "Анна",
    "middle_name": "Сергеевна",
    "phone_number": "+7 (916) 111-22-33",
    "phone_number_verified": True,
    "email": "Sokolova@Example.RU",
    "email_verified": True,
}


def person(**changes: Any) -> dict[str, Any]:
    claims = {**NEW_PERSON, **changes}
    return {k: v for k, v in claims.items() if v is not None}


def profile(*, phone: str | None = None, email: str | None = None, confirmed: bool = True, **fields: Any) -> User:
    user = User(
        username=f"u-{phone or email}",
        phone=phone,
        email=email,
        is_active=fields.pop("is_active", True),
        phone_confirmed_at=NOW - dt.timedelta(days=30) if phone and confirmed else None,
        email_confirmed_at=NOW - dt.timedelta(days=30) if email and confirmed else None,
        **fields,
    )
    user.set_password("Зелёный-чайник-42")
    user.save()
    return user


def new_profile_step(claims: dict[str, Any] = NEW_PERSON) -> external.PendingProfile:
    outcome = external.external_login(provider="esia", claims=claims, ip=IP, now=NOW)
    assert isinstance(outcome, external.ConsentNeeded)
    return outcome.pending


def sms(phone: str) -> list[str]:
    return list(OutboxMessage.objects.filter(recipient=phone).order_by("id").values_list("body", flat=True))


def code_in(text: str) -> str:
    return text.split(": ")[1][:6]


Capture = Callable[..., AbstractContextManager[Any]]


@pytest.fixture
def sent(django_capture_on_commit_callbacks: Capture) -> Callable[..., Any]:
    """Run a call with its messages delivered, as a real commit would."""

    def run(call: Callable[..., Any], **kwargs: Any) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return call(**kwargs)

    return run


def nothing_written(users_before: int) -> None:
    assert User.objects.count() == users_before
    assert ExternalIdentity.objects.count() == 0
    assert Consent.objects.filter(channel=AuthChannel.ESIA).count() == 0
    assert OutboxMessage.objects.count() == 0
    assert not AuditRecord.objects.filter(action__in=["external.linked", "user.registered"]).exists()


# --- What the provider said ----------------------------------------------------------------


class TestPerson:
    def test_verified_contacts_normalised_and_names(self) -> None:
        assert external.ExternalPerson.from_claims(NEW_PERSON) == external.ExternalPerson(
            subject="esia-1001",
            phone="+79161112233",
            email="Sokolova@example.ru",
            last_name="Соколова",
            first_name="Анна",
            middle_name="Сергеевна",
        )

    def test_unverified_or_foreign_contacts_are_dropped(self) -> None:
        found = external.ExternalPerson.from_claims(
            person(phone_number_verified=False, email_verified="false", sub=1000299353)
        )
        assert (found.subject, found.phone, found.email) == ("1000299353", None, None)
        assert external.ExternalPerson.from_claims(person(phone_number="+44 20 7946 0958")).phone is None
        assert external.ExternalPerson.from_claims(person(email_verified="true")).email == "Sokolova@example.ru"

    @pytest.mark.parametrize("sub", [None, "", "  ", True])
    def test_no_subject_no_login(self, sub: Any) -> None:
        with pytest.raises(external.ExternalResponseInvalid):
            external.external_login(provider="esia", claims=person(sub=sub) | {"sub": sub}, ip=IP, now=NOW)

    def test_pending_steps_survive_a_session_round_trip(self) -> None:
        link = external.PendingLink("esia", "esia-1", 7, ContactKind.PHONE, "+79165550101", NOW)
        new = external.PendingProfile("esia", external.ExternalPerson.from_claims(NEW_PERSON), NOW)

        assert external.pending_from_dict(external.pending_as_dict(link)) == link
        assert external.pending_from_dict(external.pending_as_dict(new)) == new
        assert external.pending_from_dict({"kind": "link"}) is None
        assert external.pending_from_dict("rubbish") is None


# --- (a) A linked profile -------------------------------------------------------------------


class TestLinked:
    def test_logs_in_and_notes_the_time(self) -> None:
        user = profile(phone="+79165550101")
        link = ExternalIdentity.objects.create(user=user, provider="esia", subject="esia-1001", created_at=NOW)

        outcome = external.external_login(provider="esia", claims=NEW_PERSON, ip=IP, now=NOW)

        assert outcome == external.LoggedIn(user=user, created=False)
        link.refresh_from_db()
        user.refresh_from_db()
        assert link.last_login_at == NOW
        assert user.last_login == NOW
        assert User.objects.count() == 1
        assert OutboxMessage.objects.count() == 0

    def test_a_disabled_profile_is_refused(self) -> None:
        user = profile(phone="+79165550101", is_active=False)
        ExternalIdentity.objects.create(user=user, provider="esia", subject="esia-1001", created_at=NOW)

        with pytest.raises(external.ExternalProfileInactive):
            external.external_login(provider="esia", claims=NEW_PERSON, ip=IP, now=NOW)

        assert ExternalIdentity.objects.get().last_login_at is None
        assert User.objects.get().last_login is None

    def test_the_subject_of_another_provider_is_not_this_one(self) -> None:
        user = profile(phone="+79165550101")
        ExternalIdentity.objects.create(user=user, provider="other", subject="esia-1001", created_at=NOW)

        outcome = external.external_login(provider="esia", claims=NEW_PERSON, ip=IP, now=NOW)

        assert isinstance(outcome, external.ConsentNeeded)


# --- (b) A profile with the same confirmed contact ------------------------------------------


class TestMatchByContact:
    def test_phone_match_sends_a_code_and_links_nothing_yet(self, sent: Any) -> None:
        user = profile(phone="+79161112233")

        outcome = sent(external.external_login, provider="esia", claims=NEW_PERSON, ip=IP, now=NOW)

        assert outcome == external.ConfirmationNeeded(
            pending=external.PendingLink(
                provider="esia",
                subject="esia-1001",
                user_id=user.pk,
                contact_kind=ContactKind.PHONE,
                recipient="+79161112233",
                started_at=NOW,
            ),
            sent=external.CodeSent(contact_kind=ContactKind.PHONE, recipient="+79161112233", masked="+7 916 ***-**-33"),
        )
        [text] = sms("+79161112233")
        assert (
            text == f"Код для входа через Госуслуги: {code_in(text)}. Никому его не сообщайте. Код действует 10 минут."
        )
        row = ConfirmationCode.objects.get()
        assert (row.purpose, row.user_id, row.payload) == (
            CodePurpose.LINK_EXTERNAL,
            user.pk,
            {"provider": "esia", "subject": "esia-1001"},
        )
        assert ExternalIdentity.objects.count() == 0
        assert User.objects.count() == 1

    def test_the_code_links_and_logs_in(self, sent: Any) -> None:
        user = profile(phone="+79161112233")
        outcome = sent(external.external_login, provider="esia", claims=NEW_PERSON, ip=IP, now=NOW)
        code = code_in(sms("+79161112233")[-1])

        linked = external.external_link_confirm(
            pending=outcome.pending, code=code, ip=IP, now=NOW + dt.timedelta(minutes=2)
        )

        assert linked == user
        link = ExternalIdentity.objects.get()
        assert (link.user_id, link.provider, link.subject) == (user.pk, "esia", "esia-1001")
        assert link.created_at == link.last_login_at == NOW + dt.timedelta(minutes=2)
        user.refresh_from_db()
        assert user.last_login == NOW + dt.timedelta(minutes=2)
        assert user.check_password("Зелёный-чайник-42")  # the profile is otherwise untouched
        audit = AuditRecord.objects.get(action="external.linked")
        assert (audit.actor_id, audit.channel, audit.object_id, audit.ip) == (user.pk, "esia", str(link.pk), IP)
        assert audit.after == {"provider": "esia", "subject": "esia-1001", "confirmed_by": "phone"}
        # next time the link is used directly
        again = external.external_login(provider="esia", claims=NEW_PERSON, ip=IP, now=NOW + dt.timedelta(days=1))
        assert again == external.LoggedIn(user=user)

    def test_a_wrong_code_links_nothing(self, sent: Any) -> None:
        profile(phone="+79161112233")
        outcome = sent(external.external_login, provider="esia", claims=NEW_PERSON, ip=IP, now=NOW)
        code = code_in(sms("+79161112233")[-1])

        with pytest.raises(CodeInvalid) as caught:
            external.external_link_confirm(
                pending=outcome.pending, code=f"{(int(code) + 1) % 10**6:06d}", ip=IP, now=NOW
            )

        assert caught.value.text == "Неверный код. Осталось попыток: 4"
        assert ExternalIdentity.objects.count() == 0
        assert not AuditRecord.objects.filter(action="external.linked").exists()

    def test_a_step_half_an_hour_old_is_over(self, sent: Any) -> None:
        profile(phone="+79161112233")
        outcome = sent(external.external_login, provider="esia", claims=NEW_PERSON, ip=IP, now=NOW)
        code = code_in(sms("+79161112233")[-1])

        with pytest.raises(external.ExternalStepExpired):
            external.external_link_confirm(
                pending=outcome.pending, code=code, ip=IP, now=NOW + dt.timedelta(minutes=31)
            )

        assert ExternalIdentity.objects.count() == 0
        assert ConfirmationCode.objects.get().consumed_at is None

    def test_a_code_sent_for_another_subject_does_not_link_this_one(self, sent: Any) -> None:
        profile(phone="+79161112233")
        first = sent(external.external_login, provider="esia", claims=NEW_PERSON, ip=IP, now=NOW)
        sent(
            external.external_login,
            provider="esia",
            claims=person(sub="esia-2002"),
            ip=IP,
            now=NOW + dt.timedelta(minutes=2),
        )
        newest = code_in(sms("+79161112233")[-1])

        with pytest.raises(external.ExternalStepExpired):
            external.external_link_confirm(pending=first.pending, code=newest, ip=IP, now=NOW + dt.timedelta(minutes=3))

        assert ExternalIdentity.objects.count() == 0

    def test_coming_back_within_a_minute_reuses_the_code_just_sent(self, sent: Any) -> None:
        profile(phone="+79161112233")
        sent(external.external_login, provider="esia", claims=NEW_PERSON, ip=IP, now=NOW)

        again = sent(
            external.external_login, provider="esia", claims=NEW_PERSON, ip=IP, now=NOW + dt.timedelta(seconds=20)
        )

        assert isinstance(again, external.ConfirmationNeeded)
        assert len(sms("+79161112233")) == 1
        code = code_in(sms("+79161112233")[0])
        assert external.external_link_confirm(
            pending=again.pending, code=code, ip=IP, now=NOW + dt.timedelta(seconds=30)
        )

    def test_resend_sends_a_new_code_and_the_old_one_stops_working(self, sent: Any) -> None:
        profile(phone="+79161112233")
        outcome = sent(external.external_login, provider="esia", claims=NEW_PERSON, ip=IP, now=NOW)
        old = code_in(sms("+79161112233")[-1])

        resent = sent(
            external.external_link_code_resend, pending=outcome.pending, ip=IP, now=NOW + dt.timedelta(minutes=2)
        )

        assert resent.masked == "+7 916 ***-**-33"
        assert len(sms("+79161112233")) == 2
        new = code_in(sms("+79161112233")[-1])
        if new != old:  # one time in a million they are the same
            with pytest.raises(CodeInvalid):
                external.external_link_confirm(
                    pending=outcome.pending, code=old, ip=IP, now=NOW + dt.timedelta(minutes=3)
                )
        assert external.external_link_confirm(
            pending=outcome.pending, code=new, ip=IP, now=NOW + dt.timedelta(minutes=3)
        )

    def test_email_match_ignores_case(self, sent: Any) -> None:
        user = profile(email="sokolova@example.ru")

        outcome = sent(external.external_login, provider="esia", claims=person(phone_number=None), ip=IP, now=NOW)

        assert isinstance(outcome, external.ConfirmationNeeded)
        assert outcome.pending.user_id == user.pk
        assert (outcome.sent.contact_kind, outcome.sent.recipient, outcome.sent.masked) == (
            ContactKind.EMAIL,
            "sokolova@example.ru",
            "so***@example.ru",
        )

    def test_phone_first_when_phone_and_email_match_two_profiles(self, sent: Any) -> None:
        profile(email="sokolova@example.ru")
        by_phone = profile(phone="+79161112233")

        outcome = sent(external.external_login, provider="esia", claims=NEW_PERSON, ip=IP, now=NOW)

        assert outcome.pending.user_id == by_phone.pk

    @pytest.mark.parametrize(
        "holder",
        [
            {"phone": "+79161112233", "confirmed": False},  # the contact is not confirmed in the portal
            {"phone": "+79161112233", "is_active": False},  # the profile is not active
            {"phone": "+79161112233", "is_staff": True},  # staff are never linked
        ],
    )
    def test_no_match_without_a_confirmed_contact_of_an_active_subscriber(self, holder: dict[str, Any]) -> None:
        profile(**holder)

        outcome = external.external_login(provider="esia", claims=person(email=None), ip=IP, now=NOW)

        assert isinstance(outcome, external.ConsentNeeded)
        assert OutboxMessage.objects.count() == 0

    def test_unverified_claims_match_nobody(self) -> None:
        profile(phone="+79161112233")

        outcome = external.external_login(
            provider="esia", claims=person(phone_number_verified=False, email=None), ip=IP, now=NOW
        )

        assert isinstance(outcome, external.ConsentNeeded)
        assert outcome.pending.person.phone is None
        assert OutboxMessage.objects.count() == 0

    def test_a_profile_linked_to_another_account_is_not_offered(self) -> None:
        user = profile(phone="+79161112233")
        ExternalIdentity.objects.create(user=user, provider="esia", subject="esia-other", created_at=NOW)
        users = User.objects.count()

        with pytest.raises(external.ExternalAlreadyLinked):
            external.external_login(provider="esia", claims=NEW_PERSON, ip=IP, now=NOW)

        assert User.objects.count() == users
        assert ExternalIdentity.objects.count() == 1
        assert OutboxMessage.objects.count() == 0
        assert ConfirmationCode.objects.count() == 0


# --- (c) A new profile, with consent ---------------------------------------------------------


class TestNewProfile:
    def test_nothing_is_written_before_the_consent(self) -> None:
        outcome = external.external_login(provider="esia", claims=NEW_PERSON, ip=IP, now=NOW)

        assert isinstance(outcome, external.ConsentNeeded)
        assert outcome == external.ConsentNeeded(
            pending=external.PendingProfile(
                provider="esia", person=external.ExternalPerson.from_claims(NEW_PERSON), started_at=NOW
            ),
            documents=outcome.documents,
        )
        assert sorted(outcome.documents) == ["marketing", "personal_data"]
        nothing_written(users_before=0)

    def test_without_consent_nothing_is_made(self) -> None:
        pending = new_profile_step()

        with pytest.raises(ConsentRequired) as caught:
            external.external_register(
                pending=pending, personal_data_consent=False, marketing_consent=True, ip=IP, now=NOW
            )

        assert caught.value.field == "personal_data_consent"
        nothing_written(users_before=0)

    def test_the_profile_with_verified_contacts_name_link_and_consent(self) -> None:
        pending = new_profile_step()
        at = NOW + dt.timedelta(minutes=3)

        user = external.external_register(
            pending=pending, personal_data_consent=True, marketing_consent=False, ip=IP, now=at
        )

        user.refresh_from_db()
        assert user.is_active
        assert (user.last_name, user.first_name, user.middle_name) == ("Соколова", "Анна", "Сергеевна")
        assert (user.phone, user.phone_confirmed_at) == ("+79161112233", at)
        assert (user.email, user.email_confirmed_at) == ("Sokolova@example.ru", at)
        assert not user.has_usable_password()
        assert (user.last_login, user.date_joined) == (at, at)
        link = ExternalIdentity.objects.get()
        assert (link.user_id, link.provider, link.subject, link.created_at, link.last_login_at) == (
            user.pk,
            "esia",
            "esia-1001",
            at,
            at,
        )
        [consent] = Consent.objects.filter(user=user)
        assert (consent.kind, consent.channel, consent.ip, consent.granted_at) == (
            ConsentKind.PERSONAL_DATA,
            AuthChannel.ESIA,
            IP,
            at,
        )
        assert consent.document.kind == ConsentKind.PERSONAL_DATA
        audit = AuditRecord.objects.get(action="user.registered")
        assert (audit.actor_id, audit.channel, audit.after) == (
            user.pk,
            "esia",
            {"provider": "esia", "external_identity": link.pk},
        )
        assert OutboxMessage.objects.count() == 0

    def test_marketing_consent_when_given(self) -> None:
        pending = new_profile_step()

        user = external.external_register(
            pending=pending, personal_data_consent=True, marketing_consent=True, ip=None, now=NOW
        )

        assert sorted(Consent.objects.filter(user=user).values_list("kind", flat=True)) == [
            "marketing",
            "personal_data",
        ]

    def test_no_contacts_no_problem(self) -> None:
        pending = new_profile_step({"sub": "esia-3003", "given_name": "Пётр"})

        user = external.external_register(
            pending=pending, personal_data_consent=True, marketing_consent=False, ip=IP, now=NOW
        )

        assert (user.phone, user.email, user.first_name) == (None, None, "Пётр")

    def test_too_late(self) -> None:
        pending = new_profile_step()

        with pytest.raises(external.ExternalStepExpired):
            external.external_register(
                pending=pending,
                personal_data_consent=True,
                marketing_consent=False,
                ip=IP,
                now=NOW + dt.timedelta(minutes=31),
            )

        nothing_written(users_before=0)

    def test_twice_makes_one_profile(self) -> None:
        pending = new_profile_step()
        external.external_register(pending=pending, personal_data_consent=True, marketing_consent=False, ip=IP, now=NOW)

        with pytest.raises(external.ExternalStepExpired):
            external.external_register(
                pending=pending, personal_data_consent=True, marketing_consent=False, ip=IP, now=NOW
            )

        assert User.objects.count() == 1
        assert ExternalIdentity.objects.count() == 1

    def test_a_matching_profile_made_meanwhile_sends_the_person_back_to_log_in(self) -> None:
        pending = new_profile_step()
        profile(phone="+79161112233")

        with pytest.raises(external.ExternalStepExpired):
            external.external_register(
                pending=pending, personal_data_consent=True, marketing_consent=False, ip=IP, now=NOW
            )

        assert User.objects.count() == 1
        assert ExternalIdentity.objects.count() == 0
        assert Consent.objects.count() == 0

    def test_a_registration_never_confirmed_gives_way(self) -> None:
        abandoned = profile(phone="+79161112233", confirmed=False, is_active=False)
        pending = new_profile_step()

        user = external.external_register(
            pending=pending, personal_data_consent=True, marketing_consent=False, ip=IP, now=NOW
        )

        assert not User.objects.filter(pk=abandoned.pk).exists()
        assert user.phone == "+79161112233"

    def test_a_contact_kept_by_someone_else_is_left_out(self) -> None:
        staff = profile(phone="+79161112233", is_staff=True)
        pending = new_profile_step()

        user = external.external_register(
            pending=pending, personal_data_consent=True, marketing_consent=False, ip=IP, now=NOW
        )

        assert (user.phone, user.email) == (None, "Sokolova@example.ru")
        staff.refresh_from_db()
        assert staff.phone == "+79161112233"


# --- Starting and finishing at the provider ---------------------------------------------------


@pytest.fixture
def esia_on(settings: SettingsWrapper) -> SettingsWrapper:
    """Switched on with endpoints that are never called by these tests."""
    settings.ESIA_ENABLED = True
    settings.ESIA_PROTOCOL = "oidc"
    settings.ESIA_ISSUER = "https://idp.example"
    settings.ESIA_AUTHORIZATION_URL = "https://idp.example/auth"
    settings.ESIA_TOKEN_URL = "https://idp.example/token"
    settings.ESIA_JWKS_URL = "https://idp.example/jwks"
    settings.ESIA_CLIENT_ID = "abonent-portal"
    settings.ESIA_CLIENT_SECRET = "secret"
    settings.ESIA_SIGNER = "static"
    settings.ESIA_REDIRECT_URI = "https://lk.example.ru/auth/esia/callback/"
    settings.ESIA_APP_REDIRECT_URIS = ["https://app.example.ru/esia"]
    return settings


class TestFlow:
    def test_switched_off(self, settings: SettingsWrapper) -> None:
        settings.ESIA_ENABLED = False

        with pytest.raises(external.ExternalLoginDisabled) as caught:
            external.external_login_start(provider="esia", ip=IP, now=NOW)
        assert caught.value.text == "Вход через Госуслуги сейчас недоступен. Войдите по номеру телефона или e-mail"

    def test_only_registered_return_addresses(self, esia_on: SettingsWrapper) -> None:
        assert external.external_login_start(
            provider="esia", ip=IP, now=NOW, redirect_uri="https://app.example.ru/esia"
        )
        with pytest.raises(external.RedirectUriNotAllowed):
            external.external_login_start(provider="esia", ip=IP, now=NOW, redirect_uri="https://attacker.example/")

    def test_starts_from_one_address_are_limited(self, esia_on: SettingsWrapper) -> None:
        for _ in range(30):
            external.external_login_start(provider="esia", ip=IP, now=NOW)

        with pytest.raises(TooManyAttempts):
            external.external_login_start(provider="esia", ip=IP, now=NOW)
        assert external.external_login_start(provider="esia", ip="198.51.100.1", now=NOW)

    def callback(self, flow: dict[str, Any] | None, **params: Any) -> Any:
        values = {"state": "", "code": "", "error": "", "iss": None, "ip": IP, "now": NOW, **params}
        return external.external_login_callback(provider="esia", flow=flow, **values)

    def test_a_state_that_is_not_ours_is_refused(self, esia_on: SettingsWrapper) -> None:
        flow = external.external_login_start(provider="esia", ip=IP, now=NOW).flow.as_dict()

        with pytest.raises(external.ExternalStateInvalid):
            self.callback(None, state=flow["state"], code="c")
        with pytest.raises(external.ExternalStateInvalid):
            self.callback(flow, state=flow["state"] + "x", code="c")
        with pytest.raises(external.ExternalStateInvalid):
            self.callback(flow, state="", code="c")
        with pytest.raises(external.ExternalStateInvalid):
            self.callback(flow, state=flow["state"], code="c", now=NOW + dt.timedelta(minutes=16))
        nothing_written(users_before=0)

    @pytest.mark.parametrize(
        ("error", "raised"),
        [
            ("access_denied", external.ExternalLoginCancelled),
            ("temporarily_unavailable", external.ExternalLoginUnavailable),
            ("server_error", external.ExternalLoginUnavailable),
            ("invalid_scope", external.ExternalLoginRefused),
            ("Access_Denied\n<script>", external.ExternalLoginRefused),
        ],
    )
    def test_errors_from_the_provider(self, esia_on: SettingsWrapper, error: str, raised: type[Exception]) -> None:
        flow = external.external_login_start(provider="esia", ip=IP, now=NOW).flow.as_dict()

        with pytest.raises(raised):
            self.callback(flow, state=flow["state"], error=error)

    def test_no_code_no_login(self, esia_on: SettingsWrapper) -> None:
        flow = external.external_login_start(provider="esia", ip=IP, now=NOW).flow.as_dict()

        with pytest.raises(external.ExternalResponseInvalid):
            self.callback(flow, state=flow["state"])

    def test_the_provider_not_answering(self, esia_on: SettingsWrapper) -> None:
        esia_on.ESIA_TOKEN_URL = "http://127.0.0.1:9/token"  # discard port: nothing listens
        flow = external.external_login_start(provider="esia", ip=IP, now=NOW).flow.as_dict()

        with pytest.raises(external.ExternalLoginUnavailable):
            self.callback(flow, state=flow["state"], code="c")

    def test_app_flow_is_kept_on_the_server_under_state_and_flow_key(self, esia_on: SettingsWrapper) -> None:
        started = external.external_app_start(provider="esia", redirect_uri=None, ip=IP, now=NOW)

        assert started.expires_at == NOW + dt.timedelta(minutes=15)
        assert f"state={started.state}" in started.authorization_url
        assert started.flow_key not in started.authorization_url
        row = Session.objects.get()
        assert row.expire_date == NOW + dt.timedelta(minutes=15)
        assert started.state not in row.session_key
        assert started.flow_key not in row.session_key
        # the state alone is not enough, and a state works once
        with pytest.raises(external.ExternalStateInvalid):
            external.external_app_complete(
                provider="esia",
                state=started.state,
                flow_key="guessed",
                code="c",
                device_name="",
                user_agent="",
                ip=IP,
                now=NOW,
            )
        assert Session.objects.count() == 1
        with pytest.raises(external.ExternalLoginCancelled):
            external.external_app_complete(
                provider="esia",
                state=started.state,
                flow_key=started.flow_key,
                code="",
                error="access_denied",
                device_name="",
                user_agent="",
                ip=IP,
                now=NOW,
            )
        assert Session.objects.count() == 0
