"""«Войти через Госуслуги», the whole journey over HTTP: the portal on a live server, a real
OpenID provider (panva's oidc-provider, started by node: tests/identity/oidc/provider) and
a browser made of urllib with a cookie jar, hopping from one to the other by the redirects
they give. Nothing of our OpenID client is mocked.

The web journeys: a new person (the consent step, then the profile), a returning one, one
whose confirmed phone matches a profile (a code, then the link), a tampered or replayed
state, the person refusing at the provider, the consent declined. The same journeys
through the API of the mobile apps (``/api/v1/auth/esia/…``).

API wiring: ``api/urls.py`` mounts ``abonent.api.esia.router`` at ``/auth/esia`` (the
lead's part). Until it does, this module serves the router itself (see ``urlpatterns`` at
the end, used as ROOT_URLCONF by the API tests), and adds the HTTP statuses proposed for the
Госуслуги errors to ``api/errors.py``'s table where it has none (``api_statuses``); once
both are wired these are no-ops.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, path
from ninja import NinjaAPI
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from abonent.api import errors as api_errors
from abonent.api import esia as esia_api
from abonent.config import urls as config_urls
from abonent.core.errors import DomainError
from abonent.identity import external
from abonent.identity.enums import AuthChannel, ConsentKind, SessionKind
from abonent.identity.models import AuthSession, ConfirmationCode, Consent, ConsentDocument, ExternalIdentity, User
from abonent.identity.oidc.discovery import caches_clear
from abonent.notifications.models import OutboxMessage
from tests.identity.oidc.oidc_provider import (
    CLIENT_ID,
    CLIENT_SECRET,
    Browser,
    Page,
    Provider,
    provider_login,
    provider_refuse,
    provider_running,
    query_of,
)
from tests.web.html import heading_levels, headings_in_order, inline_code

APP_REDIRECT_URI = "https://app.abonent.example/esia/return"
PHONE_OF_PROFILE = "+79165550101"  # the phone of the "phone-match" account at the provider

# --- The provider, the portal's settings, people ---------------------------------------------


@pytest.fixture(scope="module")
def provider(live_server: LiveServer) -> Iterator[Provider]:
    with provider_running(redirect_uris=[live_server.url + "/auth/esia/callback/", APP_REDIRECT_URI]) as running:
        yield running


@pytest.fixture
def portal(live_server: LiveServer, provider: Provider, settings: Settings) -> str:
    """The portal with Госуслуги switched on against the test provider; its address."""
    settings.ESIA_ENABLED = True
    settings.ESIA_PROTOCOL = "oidc"
    settings.ESIA_ISSUER = provider.issuer
    settings.ESIA_DISCOVERY_URL = ""
    settings.ESIA_AUTHORIZATION_URL = settings.ESIA_TOKEN_URL = settings.ESIA_JWKS_URL = ""
    settings.ESIA_USERINFO_URL = ""
    settings.ESIA_USE_USERINFO = True
    settings.ESIA_CLIENT_ID = CLIENT_ID
    settings.ESIA_SIGNER = "static"
    settings.ESIA_CLIENT_SECRET = CLIENT_SECRET
    settings.ESIA_REDIRECT_URI = live_server.url + "/auth/esia/callback/"
    settings.ESIA_APP_REDIRECT_URIS = [APP_REDIRECT_URI]
    settings.ESIA_SCOPES = ["openid", "profile", "email", "phone"]
    settings.ESIA_TOKEN_AUTH_METHOD = "client_secret_post"
    settings.ESIA_ID_TOKEN_ALGORITHMS = ["RS256", "ES256"]
    caches_clear()
    # a transactional test empties the tables: the consent texts the migration publishes
    for kind in ConsentKind:
        ConsentDocument.objects.get_or_create(
            kind=kind,
            version="test",
            defaults={
                "purpose": f"Цель: {kind.label}",
                "text": f"Текст согласия: {kind.label}.",
                "effective_from": dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
            },
        )
    return str(live_server.url)


def subscriber(*, phone: str | None = None, email: str | None = None) -> User:
    """An active profile made by registration, its contact confirmed."""
    user = User(
        username=f"u-{phone or email}",
        phone=phone,
        email=email,
        is_active=True,
        first_name="Иван",
        last_name="Петров",
        phone_confirmed_at=dt.datetime(2026, 1, 10, tzinfo=dt.UTC) if phone else None,
        email_confirmed_at=dt.datetime(2026, 1, 10, tzinfo=dt.UTC) if email else None,
    )
    user.set_password("Зелёный-чайник-42")
    user.save()
    return user


def nothing_made() -> None:
    assert not User.objects.filter(external_identities__isnull=False).exists()
    assert ExternalIdentity.objects.count() == 0
    assert not Consent.objects.filter(channel=AuthChannel.ESIA).exists()
    assert AuthSession.objects.count() == 0


def csrf_of(page: Page) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
    assert match is not None, page.body[:500]
    return match.group(1)


def last_code_to(recipient: str) -> str:
    body = OutboxMessage.objects.filter(recipient=recipient).order_by("-id").values_list("body", flat=True).first()
    assert body is not None, f"no message to {recipient}"
    match = re.search(r"\b(\d{6})\b", body)
    assert match is not None, body
    return match.group(1)


def text_of(page: Page) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.body))


def well_formed(page: Page) -> Page:
    """A page of the portal: nothing inline that the CSP would block, headings in order."""
    assert inline_code(page.body) == []
    assert headings_in_order(heading_levels(page.body)), heading_levels(page.body)
    return page


# --- The portal ---------------------------------------------------------------------------------


def to_the_callback(browser: Browser, portal: str, *, account: str) -> str:
    """Start at the portal, log in at the provider; the callback address it sends back to."""
    start = browser.open(portal + "/auth/esia/start/")
    assert start.status == 302
    assert "/auth?" in start.location
    return provider_login(browser, start.location, account=account, until=portal + "/auth/esia/callback/")


class TestWeb:
    def test_a_new_person_gives_consent_and_gets_a_profile(self, portal: str) -> None:
        browser = Browser()

        callback = to_the_callback(browser, portal, account="new-person")
        page = browser.open(callback)

        assert (page.status, page.location) == (302, portal + "/auth/esia/consent/")
        nothing_made()  # nothing is written before the consent
        page = well_formed(browser.open(page.location))
        assert page.status == 200
        text = text_of(page)
        assert "Создать профиль по данным Госуслуг" in text
        assert "Соколова Анна Сергеевна" in text
        assert "sokolova@example.ru" in text
        current = ConsentDocument.objects.filter(kind=ConsentKind.PERSONAL_DATA).order_by("-effective_from")[0]
        assert current.text.splitlines()[0] in text

        page = browser.open(
            portal + "/auth/esia/consent/",
            {"csrfmiddlewaretoken": csrf_of(page), "personal_data_consent": "on", "action": "accept"},
        )

        assert (page.status, page.location) == (302, portal + "/home/")
        user = User.objects.get(external_identities__subject="new-person")
        assert (user.last_name, user.first_name, user.middle_name) == ("Соколова", "Анна", "Сергеевна")
        assert (user.phone, user.email) == ("+79161112233", "sokolova@example.ru")
        assert user.phone_confirmed_at is not None
        assert user.email_confirmed_at is not None
        assert user.is_active
        assert not user.has_usable_password()
        assert list(Consent.objects.filter(user=user).values_list("kind", "channel")) == [
            (ConsentKind.PERSONAL_DATA, AuthChannel.ESIA)
        ]
        [session] = AuthSession.objects.filter(user=user)
        assert (session.kind, session.ended_at) == (SessionKind.WEB, None)
        assert browser.open(page.location).location == portal + "/accounts/link/"  # no accounts yet
        profile = browser.open(portal + "/profile/")
        assert profile.status == 200
        assert "sokolova@example.ru" in text_of(profile)  # logged in: the profile page is theirs

    def test_declining_the_consent_makes_nothing(self, portal: str) -> None:
        browser = Browser()
        page = browser.follow(browser.open(to_the_callback(browser, portal, account="new-person")))

        page = browser.open(portal + "/auth/esia/consent/", {"csrfmiddlewaretoken": csrf_of(page), "action": "decline"})

        assert well_formed(page).status == 200
        assert "Профиль не создан" in text_of(page)
        nothing_made()
        assert browser.open(portal + "/auth/esia/consent/").status == 400  # the step is gone

    def test_no_profile_without_the_consent_box(self, portal: str) -> None:
        browser = Browser()
        page = browser.follow(browser.open(to_the_callback(browser, portal, account="new-person")))

        page = browser.open(portal + "/auth/esia/consent/", {"csrfmiddlewaretoken": csrf_of(page), "action": "accept"})

        assert page.status == 200
        assert "Чтобы зарегистрироваться, дайте согласие на обработку персональных данных" in text_of(page)
        nothing_made()

    def test_a_returning_person_is_logged_in_at_once(self, portal: str) -> None:
        user = subscriber(phone="+79161112233")
        ExternalIdentity.objects.create(
            user=user, provider="esia", subject="new-person", created_at=dt.datetime(2026, 1, 10, tzinfo=dt.UTC)
        )
        browser = Browser()

        page = browser.open(to_the_callback(browser, portal, account="new-person"))

        assert (page.status, page.location) == (302, portal + "/home/")
        assert ExternalIdentity.objects.get().last_login_at is not None
        assert AuthSession.objects.filter(user=user, kind=SessionKind.WEB).count() == 1
        assert User.objects.count() == 1
        assert browser.open(page.location).location == portal + "/accounts/link/"
        assert browser.open(portal + "/profile/").status == 200

    def test_next_is_kept_through_the_provider(self, portal: str) -> None:
        user = subscriber(phone="+79161112233")
        ExternalIdentity.objects.create(
            user=user, provider="esia", subject="new-person", created_at=dt.datetime(2026, 1, 10, tzinfo=dt.UTC)
        )
        browser = Browser()
        start = browser.open(portal + "/auth/esia/start/?next=/profile/sessions/")

        callback = provider_login(browser, start.location, account="new-person", until=portal + "/auth/esia/callback/")

        assert browser.open(callback).location == portal + "/profile/sessions/"

    def test_a_matching_phone_is_linked_with_the_code_sent_to_it(self, portal: str) -> None:
        user = subscriber(phone=PHONE_OF_PROFILE)
        browser = Browser()

        page = browser.open(to_the_callback(browser, portal, account="phone-match"))

        assert (page.status, page.location) == (302, portal + "/auth/esia/confirm/")
        assert ExternalIdentity.objects.count() == 0
        page = well_formed(browser.open(page.location))
        assert "+7 916 ***-**-01" in text_of(page)
        code = last_code_to(PHONE_OF_PROFILE)
        wrong = f"{(int(code) + 1) % 10**6:06d}"

        page = browser.open(portal + "/auth/esia/confirm/", {"csrfmiddlewaretoken": csrf_of(page), "code": wrong})
        assert page.status == 200
        assert "Неверный код. Осталось попыток: 4" in text_of(page)
        assert ExternalIdentity.objects.count() == 0

        page = browser.open(portal + "/auth/esia/confirm/", {"csrfmiddlewaretoken": csrf_of(page), "code": code})

        assert (page.status, page.location) == (302, portal + "/home/")
        link = ExternalIdentity.objects.get()
        assert (link.user_id, link.provider, link.subject) == (user.pk, "esia", "phone-match")
        assert User.objects.count() == 1
        assert AuthSession.objects.filter(user=user, kind=SessionKind.WEB).count() == 1

    def test_a_new_code_only_after_a_minute(self, portal: str, monkeypatch: pytest.MonkeyPatch) -> None:
        subscriber(phone=PHONE_OF_PROFILE)
        browser = Browser()
        page = browser.follow(browser.open(to_the_callback(browser, portal, account="phone-match")))

        page = browser.open(portal + "/auth/esia/confirm/resend/", {"csrfmiddlewaretoken": csrf_of(page)})

        assert (page.status, page.location) == (302, portal + "/auth/esia/confirm/")
        page = well_formed(browser.open(page.location))
        assert "Новый код можно запросить через" in text_of(page)
        assert OutboxMessage.objects.filter(recipient=PHONE_OF_PROFILE).count() == 1

        later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=2)
        monkeypatch.setattr("abonent.core.clock.now", lambda: later)
        page = browser.follow(
            browser.open(portal + "/auth/esia/confirm/resend/", {"csrfmiddlewaretoken": csrf_of(page)})
        )

        assert "Мы отправили новый код на +7 916 ***-**-01." in text_of(page)
        assert OutboxMessage.objects.filter(recipient=PHONE_OF_PROFILE).count() == 2
        page = browser.open(
            portal + "/auth/esia/confirm/",
            {"csrfmiddlewaretoken": csrf_of(page), "code": last_code_to(PHONE_OF_PROFILE)},
        )
        assert (page.status, page.location) == (302, portal + "/home/")

    def test_the_steps_need_a_login_at_the_provider_first(self, portal: str) -> None:
        for step in ("confirm", "consent"):
            page = Browser().open(f"{portal}/auth/esia/{step}/")

            assert page.status == 400
            assert "Время на этот шаг истекло. Начните вход через Госуслуги заново" in text_of(page)

    def test_a_tampered_state_is_refused_and_nothing_is_made(self, portal: str) -> None:
        browser = Browser()
        callback = to_the_callback(browser, portal, account="new-person")
        params = query_of(callback)
        tampered = callback.replace(f"state={params['state']}", f"state={params['state'][:-2]}xx")

        page = well_formed(browser.open(tampered))

        assert page.status == 400
        assert "Вход через Госуслуги устарел или был начат в другом окне. Начните вход заново" in text_of(page)
        nothing_made()

    def test_a_callback_works_once(self, portal: str) -> None:
        browser = Browser()
        callback = to_the_callback(browser, portal, account="new-person")
        assert browser.open(callback).location == portal + "/auth/esia/consent/"

        replay = browser.open(callback)

        assert replay.status == 400
        assert "устарел" in text_of(replay)

    def test_another_browser_cannot_use_the_callback(self, portal: str) -> None:
        """Login CSRF: someone's code and state, opened in another person's browser."""
        callback = to_the_callback(Browser(), portal, account="new-person")

        page = Browser().open(callback)

        assert page.status == 400
        nothing_made()

    def test_refusing_at_the_provider_is_shown_kindly(self, portal: str) -> None:
        browser = Browser()
        start = browser.open(portal + "/auth/esia/start/")
        callback = provider_refuse(browser, start.location, until=portal + "/auth/esia/callback/")
        assert query_of(callback)["error"] == "access_denied"

        page = well_formed(browser.open(callback))

        assert page.status == 200
        text = text_of(page)
        assert "Вход отменён" in text
        assert "Вход через Госуслуги отменён. Можно попробовать ещё раз или войти по номеру телефона или e-mail" in text
        assert 'href="/auth/esia/start/"' in page.body
        nothing_made()

    def test_switched_off(self, portal: str, settings: Settings) -> None:
        settings.ESIA_ENABLED = False

        page = Browser().open(portal + "/auth/esia/start/")

        assert page.status == 404
        assert "Вход через Госуслуги сейчас недоступен" in text_of(page)


# --- The API of the mobile apps -------------------------------------------------------------------

#: The statuses proposed for api/errors.py's table (STATUS_BY_ERROR).
PROPOSED_STATUSES: dict[type[DomainError], int] = {
    external.ExternalLoginDisabled: 404,
    external.ExternalLoginUnavailable: 503,
    external.ExternalLoginCancelled: 403,
    external.ExternalLoginRefused: 502,
    external.ExternalStateInvalid: 422,
    external.ExternalResponseInvalid: 502,
    external.ExternalStepExpired: 422,
    external.ExternalProfileInactive: 403,
    external.ExternalAlreadyLinked: 409,
    external.RedirectUriNotAllowed: 422,
}


def _router_wired() -> bool:
    from abonent.api.urls import api

    return any(registration[1] is esia_api.router for registration in api._router_registrations)


def _unwired_api() -> list[URLPattern | URLResolver]:
    if _router_wired():
        return []
    standalone = NinjaAPI(urls_namespace="esia-unwired", docs_url=None, openapi_url=None)
    api_errors.install(standalone)
    standalone.add_router("/auth/esia", esia_api.router)
    return [path("api/v1/", standalone.urls)]


# Used as ROOT_URLCONF by the API tests: the project's URLs, with the router served here
# until api/urls.py mounts it.
urlpatterns = [*_unwired_api(), *config_urls.urlpatterns]
handler400, handler403 = config_urls.handler400, config_urls.handler403
handler404, handler500 = config_urls.handler404, config_urls.handler500


@pytest.fixture
def api(portal: str, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Any:
    """POST JSON to /api/v1/auth/esia/… of the live portal: (status, body)."""
    settings.ROOT_URLCONF = __name__
    for error, status in PROPOSED_STATUSES.items():
        if error not in api_errors.STATUS_BY_ERROR:
            monkeypatch.setitem(api_errors.STATUS_BY_ERROR, error, status)

    def post(endpoint: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        request = urllib.request.Request(
            f"{portal}/api/v1/auth/esia/{endpoint}",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "User-Agent": "abonent-android/3.1 (Android 14)"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=20) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    return post


def app_login(api: Any, account: str) -> tuple[dict[str, Any], dict[str, str]]:
    """/start, then the person logs in at the provider in the phone's browser: what /start
    gave and what the provider sent back to the app."""
    status, started = api("start", {"redirect_uri": APP_REDIRECT_URI})
    assert status == 200, started
    back = provider_login(Browser(), started["authorization_url"], account=account, until=APP_REDIRECT_URI)
    return started, query_of(back)


def complete(api: Any, started: dict[str, Any], back: dict[str, str], **changes: Any) -> tuple[int, dict[str, Any]]:
    body = {"state": back["state"], "flow_key": started["flow_key"], "code": back["code"], "iss": back["iss"]}
    return api("complete", {**body, "device_name": "Pixel 8", **changes})


class TestApi:
    def test_start(self, api: Any, provider: Provider) -> None:
        status, body = api("start", {})

        assert status == 200
        assert set(body) == {"authorization_url", "state", "flow_key", "expires_at"}
        assert body["authorization_url"].startswith(provider.issuer + "/auth?")
        assert query_of(body["authorization_url"])["state"] == body["state"]
        assert body["flow_key"] not in body["authorization_url"]

    def test_start_refuses_an_unregistered_return_address(self, api: Any) -> None:
        status, body = api("start", {"redirect_uri": "https://attacker.example/cb"})

        assert (status, body["code"]) == (422, "redirect_uri_not_allowed")
        assert body["errors"] == [
            {"field": "redirect_uri", "message": "Этот адрес возврата не зарегистрирован для входа через Госуслуги"}
        ]

    def test_a_new_person(self, api: Any) -> None:
        started, back = app_login(api, "new-person")

        status, step = complete(api, started, back)

        assert status == 202
        assert step["status"] == "consent_required"
        assert step["state"] == started["state"]
        assert step["code_sent"] is None
        assert step["person"] == {
            "last_name": "Соколова",
            "first_name": "Анна",
            "middle_name": "Сергеевна",
            "phone": "+79161112233",
            "email": "sokolova@example.ru",
        }
        assert sorted(d["kind"] for d in step["consent_documents"]) == ["marketing", "personal_data"]
        nothing_made()

        status, body = api(
            "consent", {"state": started["state"], "flow_key": started["flow_key"], "personal_data_consent": False}
        )
        assert (status, body["code"]) == (422, "consent_required")
        nothing_made()

        status, tokens = api(
            "consent",
            {
                "state": started["state"],
                "flow_key": started["flow_key"],
                "personal_data_consent": True,
                "marketing_consent": True,
                "device_name": "Pixel 8",
            },
        )

        assert status == 201
        assert tokens["token_type"] == "Bearer"
        assert tokens["access_token"].startswith("at_")
        user = User.objects.get(external_identities__subject="new-person")
        assert sorted(Consent.objects.filter(user=user).values_list("kind", flat=True)) == [
            "marketing",
            "personal_data",
        ]
        [session] = AuthSession.objects.filter(user=user)
        assert (session.kind, session.device_name, session.pk) == (SessionKind.APP, "Pixel 8", tokens["session_id"])
        # the step is over
        status, body = api(
            "consent", {"state": started["state"], "flow_key": started["flow_key"], "personal_data_consent": True}
        )
        assert (status, body["code"]) == (422, "external_step_expired")

    def test_a_returning_person_gets_tokens_at_once(self, api: Any) -> None:
        user = subscriber(phone="+79161112233")
        ExternalIdentity.objects.create(
            user=user, provider="esia", subject="new-person", created_at=dt.datetime(2026, 1, 10, tzinfo=dt.UTC)
        )
        started, back = app_login(api, "new-person")

        status, tokens = complete(api, started, back)

        assert status == 200
        assert set(tokens) == {
            "access_token",
            "refresh_token",
            "token_type",
            "expires_in",
            "refresh_expires_at",
            "session_id",
        }
        assert AuthSession.objects.get(pk=tokens["session_id"]).user == user

    def test_a_matching_phone_is_linked_with_the_code(self, api: Any) -> None:
        user = subscriber(phone=PHONE_OF_PROFILE)
        started, back = app_login(api, "phone-match")

        status, step = complete(api, started, back)

        assert status == 202
        assert step["status"] == "confirmation_required"
        assert step["code_sent"] == {"contact_kind": "phone", "masked": "+7 916 ***-**-01", "resend_after_seconds": 60}
        assert step["person"] is None
        assert step["consent_documents"] is None
        code = last_code_to(PHONE_OF_PROFILE)
        flow = {"state": started["state"], "flow_key": started["flow_key"]}

        status, body = api("confirm", {**flow, "code": f"{(int(code) + 1) % 10**6:06d}"})
        assert (status, body["code"], body["detail"]) == (422, "code_invalid", "Неверный код. Осталось попыток: 4")
        assert ExternalIdentity.objects.count() == 0

        status, body = api("confirm", {**flow, "flow_key": "someone-elses", "code": code})
        assert (status, body["code"]) == (422, "external_step_expired")

        status, tokens = api("confirm", {**flow, "code": code, "device_name": "iPhone"})

        assert status == 200
        link = ExternalIdentity.objects.get()
        assert (link.user_id, link.subject) == (user.pk, "phone-match")
        assert AuthSession.objects.get(pk=tokens["session_id"]).user == user
        assert ConfirmationCode.objects.get().consumed_at is not None

    def test_a_code_and_state_without_the_flow_key_are_not_enough(self, api: Any) -> None:
        started, back = app_login(api, "new-person")

        status, body = complete(api, started, back, flow_key="intercepted-without-it")

        assert (status, body["code"]) == (422, "external_state_invalid")
        assert body["detail"] == "Вход через Госуслуги устарел или был начат в другом окне. Начните вход заново"
        # and the real app can still finish
        assert complete(api, started, back)[0] == 202

    def test_a_state_works_once(self, api: Any) -> None:
        started, back = app_login(api, "new-person")
        assert complete(api, started, back)[0] == 202

        status, body = complete(api, started, back)

        assert (status, body["code"]) == (422, "external_state_invalid")

    def test_the_person_refused_at_the_provider(self, api: Any) -> None:
        status, started = api("start", {"redirect_uri": APP_REDIRECT_URI})
        back = query_of(provider_refuse(Browser(), started["authorization_url"], until=APP_REDIRECT_URI))

        status, body = api(
            "complete", {"state": back["state"], "flow_key": started["flow_key"], "error": back["error"]}
        )

        assert (status, body["code"]) == (403, "external_login_cancelled")
        nothing_made()

    def test_a_forged_code_is_refused_by_the_provider(self, api: Any) -> None:
        started, back = app_login(api, "new-person")

        status, body = complete(api, started, back, code="forged-code")

        assert (status, body["code"]) == (502, "external_response_invalid")
        nothing_made()

    def test_strict_input(self, api: Any) -> None:
        status, body = api("complete", {"state": "s", "code": "c", "surprise": 1})

        assert status == 422
        assert {e["field"] for e in body["errors"]} == {"flow_key", "surprise"}


@pytest.mark.skipif(not _router_wired(), reason="lead: mount abonent.api.esia.router in api/urls.py at /auth/esia")
def test_the_router_is_mounted_in_the_api_and_documented(client: Any) -> None:
    spec = client.get("/api/v1/openapi.json").json()

    assert {"/api/v1/auth/esia/start", "/api/v1/auth/esia/complete", "/api/v1/auth/esia/confirm"} <= set(spec["paths"])
    assert {"/api/v1/auth/esia/confirm/resend", "/api/v1/auth/esia/consent"} <= set(spec["paths"])
