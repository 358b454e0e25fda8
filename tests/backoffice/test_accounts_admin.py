"""The back office for personal accounts: finding one, the users linked to it and the tries to
link it, unlinking a user with a reason, the log of tries and the audit log."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client

from abonent.core.models import AuditRecord, LinkProof, Supplier
from abonent.core.services import supplier_create
from abonent.customers.enums import LinkOutcome
from abonent.customers.models import AccountLink, LinkAttempt, PersonalAccount
from abonent.customers.services import LinkProofMismatch, account_link
from abonent.identity.models import User
from abonent.identity.roles import ADMINISTRATOR, OPERATOR, SENIOR_OPERATOR
from tests.conftest import SUPPLIER_MOSCOW
from tests.factories import account_make
from tests.web.identity import user_make

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 22, 10, 0, tzinfo=dt.UTC)  # 13:00 in Moscow
NUMBER = "770000000001"
OTHER_NUMBER = "770000000002"
PIN = "123456"
OPERATOR_IP = "198.51.100.4"
SUBSCRIBER_IP = "203.0.113.7"
REASON = "Обращение владельца от 20.11.2026: счёт привязал посторонний"
SHORT_REASON_ERROR = "Укажите причину отвязки: её увидят в журнале изменений"
ACCOUNTS = "/backoffice/customers/personalaccount/"
ATTEMPTS = "/backoffice/customers/linkattempt/"
AUDIT = "/backoffice/core/auditrecord/"


def link(user: User, number: str = NUMBER, value: str = PIN, *, at: dt.datetime = NOW) -> AccountLink:
    return account_link(
        user=user, number=number, proof=LinkProof.PIN, value=value, channel="web", ip=SUBSCRIBER_IP, now=at
    )


def staff(role: str | None, username: str = "op", *, permissions: tuple[str, ...] = (), **options: object) -> Client:
    """A logged-in browser of a member of staff in the group of ``role`` (None: in no group)."""
    member = User.objects.create(username=username, is_staff=True)
    if role is not None:
        member.groups.add(Group.objects.get(name=role))
    member.user_permissions.add(*Permission.objects.filter(codename__in=permissions))
    client = Client(REMOTE_ADDR=OPERATOR_IP, **options)
    client.force_login(member)
    return client


def unlink_url(account: PersonalAccount, link_id: int) -> str:
    return f"{ACCOUNTS}{account.pk}/links/{link_id}/unlink/"


def found(client: Client, term: str, path: str = ACCOUNTS) -> list[str]:
    response = client.get(path, {"q": term})
    assert response.status_code == 200
    return [str(row) for row in response.context["cl"].result_list]


def unlinks() -> list[AuditRecord]:
    return list(AuditRecord.objects.filter(action="account.unlink"))


@pytest.fixture
def account(supplier: Supplier) -> PersonalAccount:
    return account_make(supplier=supplier)


@pytest.fixture
def other_account(supplier: Supplier) -> PersonalAccount:
    return account_make(
        supplier=supplier,
        number=OTHER_NUMBER,
        pin="654321",
        holder_last_name="Петров",
        holder_first_name="Сергей",
        holder_middle_name="Ильич",
        locality="г. Климовск",
        street="ул. Лесная",
        house="5",
        apartment="",
    )


@pytest.fixture
def maria(account: PersonalAccount) -> User:
    user = user_make(phone="+79161234567", email="Maria.Ivanova@example.org", last_name="Иванова", first_name="Мария")
    link(user, at=NOW - dt.timedelta(days=40))
    return user


@pytest.fixture
def son(account: PersonalAccount) -> User:
    user = user_make(phone="+79035551122")
    with pytest.raises(LinkProofMismatch):
        link(user, value="111111", at=NOW - dt.timedelta(minutes=5))
    link(user, at=NOW)
    return user


@pytest.fixture
def operator() -> Client:
    return staff(OPERATOR)


# --- Finding an account ---------------------------------------------------------------


@pytest.mark.parametrize(
    "term",
    [
        "770000000001",
        "77 0000 000001",
        "7700-0000-0001",
        "Иванова",
        "иванова",
        "Иванова Мария",
        "Иван",
        "Садовая",
        "Садовая 12",
        "садовая д. 12",
        "Подольск Садовая 12",
        '"ул. Садовая" 12',
        "8 916 123-45-67",
        "+7 (916) 123 45 67",
        "89161234567",
        "9161234567",
        "+79161234567",
        "Maria.Ivanova@example.org",
        "maria.ivanova@EXAMPLE.org",
        "maria.ivanova@example.org",
        "MARIA.IVANOVA@EXAMPLE.ORG",
    ],
)
def test_the_account_is_found_by_each_key(
    operator: Client, maria: User, other_account: PersonalAccount, term: str
) -> None:
    assert found(operator, term) == [NUMBER]


@pytest.mark.parametrize(
    "term",
    ["Петров", "Лесная 5", "Климовск", OTHER_NUMBER, "8 916 000-00-00", "nobody@example.org", "Садовая 5", "Иванова 1"],
)
def test_a_search_for_something_else_does_not_return_the_account(
    operator: Client, maria: User, other_account: PersonalAccount, term: str
) -> None:
    assert NUMBER not in found(operator, term)


def test_a_user_with_two_accounts_finds_each_once(
    operator: Client, maria: User, other_account: PersonalAccount
) -> None:
    link(maria, OTHER_NUMBER, "654321")
    link(user_make(phone="+79035551122"), OTHER_NUMBER, "654321")

    assert sorted(found(operator, "8 (916) 123-45-67")) == [NUMBER, OTHER_NUMBER]
    assert sorted(found(operator, "+7 903 555-11-22")) == [OTHER_NUMBER]


# --- The account's page ---------------------------------------------------------------


def test_the_account_page_lists_the_linked_users_and_the_tries(
    operator: Client, account: PersonalAccount, maria: User, son: User
) -> None:
    maria_link = AccountLink.objects.get(user=maria)
    son_link = AccountLink.objects.get(user=son)
    AccountLink.objects.filter(pk=maria_link.pk).update(name="Дом", is_default=True)

    html = operator.get(f"{ACCOUNTS}{account.pk}/change/").content.decode()

    links = html[html.index("Пользователи, привязавшие счёт") : html.index("Попытки привязать счёт")]
    assert "Иванова Мария, +7 916 123-45-67, Maria.Ivanova@example.org" in links
    assert "+7 903 555-11-22" in links
    assert "Дом" in links
    assert "13.10.2026 13:00" in links
    assert "22.11.2026 13:00" in links
    assert "PIN-код с квитанции" in links
    assert "портал" in links
    assert unlink_url(account, maria_link.pk) in links
    assert unlink_url(account, son_link.pk) in links
    attempts = html[html.index("Попытки привязать счёт") :]
    assert attempts.count(SUBSCRIBER_IP) == 3
    assert "22.11.2026 12:55" in attempts
    assert "номер или подтверждение не подошли" in attempts
    assert attempts.count("счёт привязан") == 2
    assert f"{ATTEMPTS}?q={NUMBER}" in attempts
    assert f"{AUDIT}?q={NUMBER}" in html


def test_the_tries_of_the_same_number_at_another_supplier_are_not_shown(
    operator: Client, account: PersonalAccount, son: User
) -> None:
    yantar = supplier_create(
        **{**SUPPLIER_MOSCOW, "code": "yantar", "short_name": "Янтарьгаз", "time_zone": "Europe/Kaliningrad"}
    )
    LinkAttempt.objects.create(
        at=NOW,
        user=son,
        supplier=yantar,
        number=NUMBER,
        proof=LinkProof.PIN,
        outcome=LinkOutcome.MISMATCH,
        channel="app",
        ip="192.0.2.99",
    )

    html = operator.get(f"{ACCOUNTS}{account.pk}/change/").content.decode()

    assert SUBSCRIBER_IP in html
    assert "192.0.2.99" not in html


def test_staff_without_the_link_permissions_see_the_account_only(account: PersonalAccount, maria: User) -> None:
    client = staff(None, permissions=("view_personalaccount",))

    response = client.get(f"{ACCOUNTS}{account.pk}/change/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "Пользователи, привязавшие счёт" not in html
    assert "Попытки привязать счёт" not in html
    assert "/unlink/" not in html


# --- Unlinking ------------------------------------------------------------------------


def test_unlinking_with_a_reason_removes_only_that_link_and_is_audited(
    operator: Client, account: PersonalAccount, maria: User, son: User
) -> None:
    maria_link = AccountLink.objects.get(user=maria)

    response = operator.post(unlink_url(account, maria_link.pk), {"reason": f"  {REASON} "})

    assert response.status_code == 302
    assert response["Location"] == f"{ACCOUNTS}{account.pk}/change/"
    assert list(AccountLink.objects.values_list("user_id", flat=True)) == [son.pk]
    [audit] = unlinks()
    operator_user = User.objects.get(username="op")
    assert (audit.actor_id, audit.channel, audit.ip) == (operator_user.pk, "backoffice", OPERATOR_IP)
    assert (audit.object_type, audit.object_id) == ("customers.accountlink", str(maria_link.pk))
    assert audit.before == {"user": maria.pk, "account": account.pk, "number": NUMBER, "name": ""}
    assert audit.after == {"reason": REASON}
    page = operator.get(response["Location"]).content.decode()
    assert (
        "Пользователь Иванова Мария, +7 916 123-45-67, Maria.Ivanova@example.org отвязан от лицевого счёта "
        "770000000001. Причина записана в журнал изменений." in page
    )
    assert unlink_url(account, maria_link.pk) not in page


@pytest.mark.parametrize("reason", ["", "   ", "ошиб"])
def test_without_a_reason_the_form_says_so_and_nothing_is_removed(
    operator: Client, account: PersonalAccount, maria: User, reason: str
) -> None:
    link_id = AccountLink.objects.get(user=maria).pk

    response = operator.post(unlink_url(account, link_id), {"reason": reason})

    assert response.status_code == 200
    assert response.context["form"].errors == {"reason": [SHORT_REASON_ERROR]}
    assert SHORT_REASON_ERROR in response.content.decode()
    assert AccountLink.objects.filter(pk=link_id).exists()
    assert unlinks() == []


def test_opening_the_unlink_page_asks_for_the_reason_and_changes_nothing(
    operator: Client, account: PersonalAccount, maria: User
) -> None:
    link_id = AccountLink.objects.get(user=maria).pk

    response = operator.get(unlink_url(account, link_id))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="reason"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert "Иванова Мария, +7 916 123-45-67, Maria.Ivanova@example.org" in html
    assert "142100, Московская область, г. Подольск, ул. Садовая, д. 12, кв. 34" in html
    assert AccountLink.objects.filter(pk=link_id).exists()
    assert unlinks() == []


def test_a_senior_operator_and_an_administrator_unlink_too(account: PersonalAccount, maria: User, son: User) -> None:
    for role, user in ((SENIOR_OPERATOR, maria), (ADMINISTRATOR, son)):
        link_id = AccountLink.objects.get(user=user).pk

        response = staff(role, username=role).post(unlink_url(account, link_id), {"reason": REASON})

        assert response.status_code == 302
        assert not AccountLink.objects.filter(pk=link_id).exists()
    assert len(unlinks()) == 2


def test_staff_without_the_permission_get_403(account: PersonalAccount, maria: User) -> None:
    client = staff(None)
    link_id = AccountLink.objects.get(user=maria).pk

    assert client.get(unlink_url(account, link_id)).status_code == 403
    assert client.post(unlink_url(account, link_id), {"reason": REASON}).status_code == 403
    assert AccountLink.objects.filter(pk=link_id).exists()
    assert unlinks() == []


def test_a_subscriber_is_sent_to_the_back_office_login(account: PersonalAccount, maria: User) -> None:
    client = Client()
    client.force_login(maria)
    link_id = AccountLink.objects.get(user=maria).pk

    response = client.post(unlink_url(account, link_id), {"reason": REASON})

    assert response.status_code == 302
    assert response["Location"].startswith("/backoffice/login/?next=")
    assert AccountLink.objects.filter(pk=link_id).exists()
    assert unlinks() == []


def test_a_link_that_does_not_exist_or_is_of_another_account_is_404(
    operator: Client, account: PersonalAccount, other_account: PersonalAccount, maria: User
) -> None:
    link_id = AccountLink.objects.get(user=maria).pk

    assert operator.get(unlink_url(account, link_id + 1000)).status_code == 404
    assert operator.post(unlink_url(account, link_id + 1000), {"reason": REASON}).status_code == 404
    assert operator.post(unlink_url(other_account, link_id), {"reason": REASON}).status_code == 404
    assert operator.post(f"{ACCOUNTS}999999/links/{link_id}/unlink/", {"reason": REASON}).status_code == 404
    assert AccountLink.objects.filter(pk=link_id).exists()
    assert unlinks() == []


def test_a_post_without_the_csrf_token_is_refused(account: PersonalAccount, maria: User) -> None:
    client = staff(OPERATOR, enforce_csrf_checks=True)
    link_id = AccountLink.objects.get(user=maria).pk

    response = client.post(unlink_url(account, link_id), {"reason": REASON})

    assert response.status_code == 403
    assert AccountLink.objects.filter(pk=link_id).exists()


# --- The log of tries and the audit log -----------------------------------------------


def test_the_log_of_tries_is_searched_by_number_and_filtered(
    operator: Client, account: PersonalAccount, other_account: PersonalAccount, son: User
) -> None:
    link(user_make(phone="+79990001122"), OTHER_NUMBER, "654321")

    assert found(operator, "77 0000 000001", ATTEMPTS) == [
        "22.11.2026 10:00 770000000001: счёт привязан",
        "22.11.2026 09:55 770000000001: номер или подтверждение не подошли",
    ]
    assert found(operator, "+7 903 555-11-22", ATTEMPTS) == [
        "22.11.2026 10:00 770000000001: счёт привязан",
        "22.11.2026 09:55 770000000001: номер или подтверждение не подошли",
    ]
    mismatches = operator.get(ATTEMPTS, {"outcome__exact": LinkOutcome.MISMATCH}).context["cl"].result_list
    assert [a.number for a in mismatches] == [NUMBER]
    # the miss named no supplier (the number matched none of its accounts)
    page = operator.get(ATTEMPTS, {"channel": "web", "supplier__id__exact": account.supplier_id})
    assert [a.number for a in page.context["cl"].result_list] == [OTHER_NUMBER, NUMBER]


def test_the_log_of_tries_is_read_only(operator: Client, son: User) -> None:
    attempt = LinkAttempt.objects.filter(number=NUMBER).first()
    assert attempt is not None

    assert operator.get(f"{ATTEMPTS}add/").status_code == 403
    assert operator.get(f"{ATTEMPTS}{attempt.pk}/change/").status_code == 200
    assert operator.post(f"{ATTEMPTS}{attempt.pk}/change/", {"outcome": "linked"}).status_code == 403
    assert operator.post(f"{ATTEMPTS}{attempt.pk}/delete/", {"post": "yes"}).status_code == 403
    assert LinkAttempt.objects.filter(pk=attempt.pk).exists()


def test_the_unlink_is_found_in_the_audit_log_by_the_account_number(
    operator: Client, account: PersonalAccount, maria: User, son: User
) -> None:
    link_id = AccountLink.objects.get(user=maria).pk
    operator.post(unlink_url(account, link_id), {"reason": REASON})

    records = operator.get(AUDIT, {"q": "77 0000 000001"}).context["cl"].result_list
    unlinked = operator.get(AUDIT, {"q": NUMBER, "action": "account.unlink"}).context["cl"].result_list

    assert sorted(r.action for r in records) == ["account.link", "account.link", "account.unlink"]
    assert [(r.object_id, r.after) for r in unlinked] == [(str(link_id), {"reason": REASON})]


def test_every_operator_role_may_find_and_unlink_links() -> None:
    wanted = {"view_accountlink", "delete_accountlink", "view_linkattempt", "view_auditrecord"}
    for role in (OPERATOR, SENIOR_OPERATOR, ADMINISTRATOR):
        granted = set(Group.objects.get(name=role).permissions.values_list("codename", flat=True))
        assert wanted <= granted, role
