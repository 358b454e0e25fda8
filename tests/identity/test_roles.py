import pytest
from django.contrib.auth.models import Group

from abonent.identity.roles import ADMINISTRATOR, OPERATOR, SENIOR_OPERATOR

pytestmark = pytest.mark.django_db


def perms(name: str) -> set[str]:
    return set(Group.objects.get(name=name).permissions.values_list("codename", flat=True))


def test_operator_sees_unlinks_and_works_with_readings() -> None:
    assert perms(OPERATOR) == {
        "view_personalaccount",
        "view_gasequipment",
        "view_contract",
        "view_meter",
        "view_reading",
        "view_supplier",
        "view_supplierterms",
        "view_deletionrequest",
        "view_accountlink",
        "view_linkattempt",
        "view_auditrecord",
        "delete_accountlink",  # unlinking a user with a reason, on the back office's unlink page
        "add_reading",  # entering and importing readings, on the back office's reading pages
        "change_reading",  # accepting and rejecting readings, on the back office's review pages
        # billing data, billing periods and runs, the ledger: seen, never changed
        "view_tariff",
        "view_norm",
        "view_benefit",
        "view_keyrate",
        "view_penaltyratecap",
        "view_penaltymoratorium",
        "view_billingperiod",
        "view_billingrun",
        "view_ledgerentry",
        "view_ledgerbalance",
        # payments, the gateway's notifications, refunds, bank registries: seen, never changed
        "view_payment",
        "view_paymentpart",
        "view_gatewayevent",
        "view_refund",
        "view_registryfile",
        "view_registryline",
        "add_registryfile",  # importing a bank registry, on the back office's import page
        # bill runs and bills: seen and downloaded, never started
        "view_billrun",
        "view_bill",
        # appeals: the queue worked through the back office's case page, the terms seen
        "view_appeal",
        "change_appeal",
        "view_attachment",
        "view_event",
        "view_answertemplate",
        "view_deadlinerule",
        # messages: the delivery log searched, the notifications, templates, reminder runs and
        # announcements seen, never changed
        "view_delivery",
        "view_notification",
        "view_template",
        "view_reminderrun",
        "view_announcement",
    }


def test_senior_operator_changes_accounts_but_not_suppliers() -> None:
    granted = perms(SENIOR_OPERATOR)

    assert {"change_personalaccount", "add_reading", "change_meter", "add_refund", "add_billrun"} <= granted
    assert {"add_payment", "change_payment", "change_refund"}.isdisjoint(granted)  # payments change by services only
    assert "change_supplier" not in granted
    # an answer or message template out of use is removed; nothing else is ever deleted
    assert {p for p in granted if p.startswith("delete_")} == {
        "delete_accountlink",
        "delete_answertemplate",
        "delete_template",
    }
    assert {"add_answertemplate", "change_answertemplate", "change_appeal"} <= granted
    assert {"add_appeal", "delete_appeal", "change_deadlinerule"}.isdisjoint(granted)


def test_senior_operator_keeps_message_templates_and_sends_announcements() -> None:
    granted = perms(SENIOR_OPERATOR)
    messages = {p for p in granted if p.endswith(("_delivery", "_notification", "_template", "_reminderrun",
                                                  "_announcement", "_pushdevice", "_preference"))}  # fmt: skip

    assert messages == {
        "view_delivery",
        "view_notification",
        "view_template",
        "add_template",
        "change_template",
        "delete_template",
        "view_reminderrun",
        "view_announcement",
        "add_announcement",  # a draft, on the back office's announcement page (through the service)
        "change_announcement",  # a draft changed and sent, on the same page
    }


def test_administrator_manages_suppliers_and_users() -> None:
    assert {"change_supplier", "add_supplierterms", "change_user", "delete_personalaccount"} <= perms(ADMINISTRATOR)


def test_operator_can_open_the_back_office_account_list(client, django_user_model) -> None:  # type: ignore[no-untyped-def]
    user = django_user_model.objects.create_user(username="op", password="x-operator-2026", is_staff=True)
    user.groups.add(Group.objects.get(name=OPERATOR))
    client.force_login(user)

    assert client.get("/backoffice/customers/personalaccount/").status_code == 200
    assert client.get("/backoffice/customers/personalaccount/add/").status_code == 403
    assert client.get("/backoffice/core/supplier/add/").status_code == 403


def test_back_office_is_in_russian(client, django_user_model) -> None:  # type: ignore[no-untyped-def]
    admin = django_user_model.objects.create_superuser(username="adm", password="x-admin-2026")
    client.force_login(admin)

    html = client.get("/backoffice/").content.decode()
    assert "Абонент — бэк-офис" in html
    assert "Лицевые счета" in html
