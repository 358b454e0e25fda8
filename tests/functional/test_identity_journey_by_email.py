"""A whole identity journey through the portal with the test client: a person registers with an
e-mail address, adds a phone, logs in on a second device, changes the password there, looks at
their devices and finally asks for the profile to be deleted."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from unittest.mock import patch

import pytest
from django.core import mail
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from abonent.identity.enums import ConsentKind, DeletionStatus
from abonent.identity.models import AuthSession, Consent, DeletionRequest, User
from tests.web.identity import (
    NEW_PASSWORD,
    NOW,
    PASSWORD,
    Browser,
    CaptureCallbacks,
    Clock,
    code_in,
    consent_documents_publish,
    emails_to,
    last_sms_code,
)

pytestmark = pytest.mark.django_db

ADDRESS = "tatiana.ivanova@example.org"
NUMBER = "+79161234567"


@pytest.fixture
def clock(db: None) -> Iterator[Clock]:
    consent_documents_publish()
    fake = Clock()
    with patch("abonent.core.clock.now", fake):
        yield fake


def test_register_by_email_add_a_phone_change_the_password_and_ask_for_deletion(
    clock: Clock, django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    laptop = Browser(
        django_capture_on_commit_callbacks, ip="203.0.113.20", user_agent="Mozilla/5.0 (Windows NT 10.0) Firefox/133.0"
    )
    phone = Browser(
        django_capture_on_commit_callbacks, ip="203.0.113.21", user_agent="Mozilla/5.0 (iPhone) Safari/604.1"
    )

    # registers on the laptop with an e-mail address and the marketing consent
    response = laptop.post(
        "/register/",
        {
            "login": ADDRESS,
            "password": PASSWORD,
            "password2": PASSWORD,
            "personal_data_consent": "on",
            "marketing_consent": "on",
        },
    )
    assertRedirects(response, "/register/confirm/", fetch_redirect_response=False)
    [letter] = emails_to(ADDRESS)
    clock.advance(minutes=2)
    assertRedirects(
        laptop.post("/register/confirm/", {"code": code_in(str(letter.body))}),
        "/home/",
        fetch_redirect_response=False,
    )
    user = User.objects.get()
    assert (user.email, user.is_active, user.email_confirmed_at) == (ADDRESS, True, clock.at)
    assert sorted(Consent.objects.filter(user=user).values_list("kind", flat=True)) == [
        ConsentKind.MARKETING,
        ConsentKind.PERSONAL_DATA,
    ]

    # adds a phone
    clock.advance(minutes=1)
    assertRedirects(
        laptop.post("/profile/phone/", {"phone": "8 916 123-45-67"}),
        "/profile/phone/confirm/",
        fetch_redirect_response=False,
    )
    assertRedirects(
        laptop.post("/profile/phone/confirm/", {"code": last_sms_code(NUMBER)}),
        "/profile/",
        fetch_redirect_response=False,
    )
    user.refresh_from_db()
    assert (user.phone, user.phone_confirmed_at) == (NUMBER, clock.at)

    # logs in on the phone with the number, and changes the password there
    clock.advance(minutes=5)
    assertRedirects(
        phone.post("/login/", {"login": "8 916 123 45 67", "password": PASSWORD, "remember": "on"}),
        "/home/",
        fetch_redirect_response=False,
    )
    assert laptop.get("/profile/").status_code == 200  # both are logged in
    clock.advance(minutes=1)
    assertRedirects(
        phone.post(
            "/profile/password/",
            {"old_password": PASSWORD, "new_password": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        ),
        "/profile/",
        fetch_redirect_response=False,
    )

    # the laptop is logged out; the phone stays and sees only itself
    assertRedirects(laptop.get("/profile/"), "/login/?next=/profile/", fetch_redirect_response=False)
    sessions = phone.get("/profile/sessions/")
    assertContains(
        sessions, '<span>iPhone · Safari</span><span class="badge badge--ok">это устройство</span>', html=True
    )
    assertNotContains(sessions, "Windows · Firefox")
    assert AuthSession.objects.filter(ended_at__isnull=True).count() == 1

    # the laptop logs in again with the new password by e-mail
    assertRedirects(
        laptop.post("/login/", {"login": ADDRESS.upper(), "password": NEW_PASSWORD}),
        "/home/",
        fetch_redirect_response=False,
    )

    # withdraws the marketing consent, then asks for the profile to be deleted
    phone.post("/profile/marketing/", {"given": "0"})
    assertRedirects(
        phone.post("/profile/delete/", {"reason": "Продаю квартиру", "confirm": "on"}),
        "/profile/",
        fetch_redirect_response=False,
    )
    request = DeletionRequest.objects.get()
    assert (request.status, request.due_by, request.contact, request.reason) == (
        DeletionStatus.NEW,
        (NOW + dt.timedelta(minutes=9)).date() + dt.timedelta(days=30),
        NUMBER,
        "Продаю квартиру",
    )
    assertContains(laptop.get("/profile/"), "Заявка от 22.11.2026: принята.")
    assert Consent.objects.get(user=user, kind=ConsentKind.MARKETING).withdrawn_at == clock.at
    assert [m.subject for m in mail.outbox] == ["Код подтверждения регистрации"]
