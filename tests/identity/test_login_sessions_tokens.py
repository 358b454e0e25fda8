"""Login with rate limits, browser sessions, app tokens (service level)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.sessions.backends.db import SessionStore

from abonent.identity.models import ApiToken, AuthSession, User
from abonent.identity.selectors import sessions_list
from abonent.identity.services import (
    InvalidCredentials,
    InvalidToken,
    ProfileNotConfirmed,
    RefreshTokenReused,
    SessionNotFound,
    TooManyAttempts,
    access_token_authenticate,
    app_session_end,
    app_session_start,
    app_tokens_refresh,
    login_check,
    session_end,
    sessions_end_all,
    web_session_start,
    web_session_touch,
)

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
PASSWORD = "Зелёный-чайник-42"


@pytest.fixture
def user() -> User:
    user = User(username="u-maria", phone="+79123456789", email="maria@example.org", is_active=True)
    user.set_password(PASSWORD)
    user.save()
    return user


def minutes(n: float) -> dt.datetime:
    return NOW + dt.timedelta(minutes=n)


class TestLogin:
    @pytest.mark.parametrize("login", ["+79123456789", "8 912 345 67 89", "9123456789", "Maria@Example.org"])
    def test_by_phone_any_way_or_email(self, user: User, login: str) -> None:
        assert login_check(login=login, password=PASSWORD, ip="203.0.113.5", now=NOW) == user
        user.refresh_from_db()
        assert user.last_login == NOW

    def test_wrong_password_and_unknown_login_say_the_same(self, user: User) -> None:
        with pytest.raises(InvalidCredentials) as wrong:
            login_check(login="+79123456789", password="не тот", ip=None, now=NOW)
        with pytest.raises(InvalidCredentials) as unknown:
            login_check(login="+79990000000", password=PASSWORD, ip=None, now=NOW)

        assert str(wrong.value) == str(unknown.value) == "Неверный телефон, e-mail или пароль"
        assert wrong.value.field == unknown.value.field == "login"

    def test_unconfirmed_profile_with_the_right_password(self, user: User) -> None:
        User.objects.filter(pk=user.pk).update(is_active=False)

        with pytest.raises(ProfileNotConfirmed):
            login_check(login="+79123456789", password=PASSWORD, ip=None, now=NOW)

    def test_five_tries_per_account_and_address_then_a_cool_off(self, user: User) -> None:
        for _ in range(5):
            with pytest.raises(InvalidCredentials):
                login_check(login="+79123456789", password="не тот", ip="203.0.113.5", now=NOW)

        with pytest.raises(TooManyAttempts) as exc:
            login_check(login="+79123456789", password=PASSWORD, ip="203.0.113.5", now=minutes(1))

        assert exc.value.retry_after == 14 * 60
        assert str(exc.value) == "Слишком много попыток. Повторите через 14 мин."
        # another address is not affected, and the cool-off ends with the window
        assert login_check(login="+79123456789", password=PASSWORD, ip="198.51.100.7", now=minutes(1)) == user
        assert login_check(login="+79123456789", password=PASSWORD, ip="203.0.113.5", now=minutes(15)) == user

    def test_limit_is_checked_before_the_password(self, user: User) -> None:
        for _ in range(5):
            with pytest.raises(InvalidCredentials):
                login_check(login="+79123456789", password="не тот", ip="203.0.113.5", now=NOW)

        with pytest.raises(TooManyAttempts):
            login_check(login="+79123456789", password=PASSWORD, ip="203.0.113.5", now=NOW)
        user.refresh_from_db()
        assert user.last_login is None

    def test_unknown_logins_are_limited_too(self) -> None:
        for _ in range(5):
            with pytest.raises(InvalidCredentials):
                login_check(login="+79990000000", password="x", ip="203.0.113.5", now=NOW)

        with pytest.raises(TooManyAttempts):
            login_check(login="+79990000000", password="x", ip="203.0.113.5", now=NOW)

    def test_per_address_limit_across_accounts(self, user: User) -> None:
        for n in range(50):
            with pytest.raises(InvalidCredentials):
                login_check(login=f"+7990000{n:04d}", password="x", ip="203.0.113.9", now=NOW)

        with pytest.raises(TooManyAttempts):
            login_check(login="+79123456789", password=PASSWORD, ip="203.0.113.9", now=NOW)


class TestWebSessions:
    def start(self, user: User, *, remember: bool = False) -> AuthSession:
        store = SessionStore()
        store.create()
        assert store.session_key is not None
        return web_session_start(
            user=user,
            session_key=store.session_key,
            remember=remember,
            user_agent="Mozilla/5.0 (Linux; Android 14)",
            ip="203.0.113.5",
            now=NOW,
        )

    def test_session_records_the_device(self, user: User) -> None:
        session = self.start(user)

        assert (session.device_name, session.expires_at, session.remember) == (
            "Android",
            NOW + dt.timedelta(hours=12),
            False,
        )

    def test_idle_30_minutes_ends_it_unless_remembered(self, user: User) -> None:
        forgetful, remembered = self.start(user), self.start(user, remember=True)

        assert web_session_touch(session_key=forgetful.session_key or "", now=minutes(29)) is True
        assert web_session_touch(session_key=forgetful.session_key or "", now=minutes(29 + 30)) is False
        assert web_session_touch(session_key=remembered.session_key or "", now=minutes(59)) is True
        forgetful.refresh_from_db()
        assert (forgetful.ended_at, forgetful.end_reason) == (minutes(59), "expired")
        assert not SessionStore().exists(forgetful.session_key or "")

    def test_twelve_hours_ends_even_a_remembered_one(self, user: User) -> None:
        session = self.start(user, remember=True)

        assert web_session_touch(session_key=session.session_key or "", now=NOW + dt.timedelta(hours=12)) is False

    def test_list_and_end_one(self, user: User) -> None:
        first, second = self.start(user), self.start(user)

        assert {s.pk for s in sessions_list(user=user, now=NOW)} == {first.pk, second.pk}
        session_end(user=user, session_id=first.pk, now=minutes(1))

        assert [s.pk for s in sessions_list(user=user, now=minutes(1))] == [second.pk]
        assert web_session_touch(session_key=first.session_key or "", now=minutes(2)) is False
        with pytest.raises(SessionNotFound):
            session_end(user=user, session_id=first.pk, now=minutes(2))

    def test_cannot_end_someone_elses_session(self, user: User) -> None:
        other = User.objects.create(username="u-other", phone="+79990000001", is_active=True)
        session = self.start(other)

        with pytest.raises(SessionNotFound):
            session_end(user=user, session_id=session.pk, now=NOW)
        assert sessions_list(user=other, now=NOW) == [session]

    def test_end_all_but_this_one(self, user: User) -> None:
        keep, other = self.start(user), self.start(user)
        app = app_session_start(user=user, device_name="Pixel 8", user_agent="abonent-android/1.0", ip=None, now=NOW)

        ended = sessions_end_all(user=user, now=minutes(1), keep_session_id=keep.pk, reason="ended_by_user")

        assert ended == 2
        assert [s.pk for s in sessions_list(user=user, now=minutes(1))] == [keep.pk]
        assert not SessionStore().exists(other.session_key or "")
        with pytest.raises(InvalidToken):
            access_token_authenticate(access_token=app.access_token, now=minutes(1))


class TestAppTokens:
    def test_access_token_authenticates_for_15_minutes(self, user: User) -> None:
        pair = app_session_start(user=user, device_name="Pixel 8", user_agent="", ip=None, now=NOW)

        assert access_token_authenticate(access_token=pair.access_token, now=minutes(14))[0] == user
        with pytest.raises(InvalidToken):
            access_token_authenticate(access_token=pair.access_token, now=minutes(15))
        assert pair.refresh_expires_at == NOW + dt.timedelta(days=30)

    def test_tokens_are_stored_hashed(self, user: User) -> None:
        pair = app_session_start(user=user, device_name="Pixel 8", user_agent="", ip=None, now=NOW)

        hashes = set(ApiToken.objects.values_list("token_hash", flat=True))
        assert pair.access_token not in hashes
        assert pair.refresh_token not in hashes
        assert len(hashes) == 2

    def test_refresh_rotates_and_the_old_access_token_stops(self, user: User) -> None:
        first = app_session_start(user=user, device_name="Pixel 8", user_agent="", ip=None, now=NOW)

        second = app_tokens_refresh(refresh_token=first.refresh_token, now=minutes(20))

        assert second.session_id == first.session_id
        assert access_token_authenticate(access_token=second.access_token, now=minutes(21))[0] == user
        with pytest.raises(InvalidToken):
            access_token_authenticate(access_token=first.access_token, now=minutes(10))

    def test_a_reused_refresh_token_ends_the_device(self, user: User) -> None:
        first = app_session_start(user=user, device_name="Pixel 8", user_agent="", ip=None, now=NOW)
        second = app_tokens_refresh(refresh_token=first.refresh_token, now=minutes(20))

        with pytest.raises(RefreshTokenReused):
            app_tokens_refresh(refresh_token=first.refresh_token, now=minutes(21))

        with pytest.raises(InvalidToken):
            access_token_authenticate(access_token=second.access_token, now=minutes(22))
        with pytest.raises(InvalidToken):
            app_tokens_refresh(refresh_token=second.refresh_token, now=minutes(22))
        session = AuthSession.objects.get(pk=first.session_id)
        assert (session.ended_at, session.end_reason) == (minutes(21), "refresh_token_reused")

    @pytest.mark.parametrize("token", ["", "rt_nonsense", "at_" + "x" * 43])
    def test_unknown_refresh_token(self, user: User, token: str) -> None:
        with pytest.raises(InvalidToken):
            app_tokens_refresh(refresh_token=token, now=NOW)

    def test_an_access_token_is_not_a_refresh_token(self, user: User) -> None:
        pair = app_session_start(user=user, device_name="Pixel 8", user_agent="", ip=None, now=NOW)

        with pytest.raises(InvalidToken):
            app_tokens_refresh(refresh_token=pair.access_token, now=NOW)

    def test_logout_revokes_the_device(self, user: User) -> None:
        pair = app_session_start(user=user, device_name="Pixel 8", user_agent="", ip=None, now=NOW)
        _, session = access_token_authenticate(access_token=pair.access_token, now=NOW)

        app_session_end(session=session, now=minutes(1))

        with pytest.raises(InvalidToken):
            access_token_authenticate(access_token=pair.access_token, now=minutes(1))
        with pytest.raises(InvalidToken):
            app_tokens_refresh(refresh_token=pair.refresh_token, now=minutes(1))


class TestSessionsList:
    def test_an_idle_browser_session_is_not_listed_a_remembered_one_is(self, user: User) -> None:
        idle = web_session_start(user=user, session_key="k-idle", remember=False, user_agent="", ip=None, now=NOW)
        kept = web_session_start(user=user, session_key="k-kept", remember=True, user_agent="", ip=None, now=NOW)

        assert {s.pk for s in sessions_list(user=user, now=minutes(29))} == {idle.pk, kept.pk}
        assert [s.pk for s in sessions_list(user=user, now=minutes(30))] == [kept.pk]
