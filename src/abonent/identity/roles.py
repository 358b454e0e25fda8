"""Staff roles as Django groups with their permissions, kept in step after every migrate.

- Оператор: sees accounts, meters, readings, contracts, deletion requests, the users linked
  to an account and the tries to link it, the audit log; unlinks a user from an account
  with a reason (``delete_accountlink``, used by the back office's unlink page only);
  enters readings on a subscriber's behalf and imports them from a file (``add_reading``),
  accepts flagged readings and rejects readings with a reason (``change_reading``) — through
  the back office's reading pages only: the generic forms never change a reading;
  sees the billing data (tariffs, norms, benefits, key rates, penalty rate caps and
  moratoria, billing periods and runs) and the ledger (entries and balances);
  sees payments with their parts, the payment gateway's notifications, refunds and bank
  registries (files and lines), and asks the gateway about a payment that waits; imports
  a bank's registry of payments (``add_registryfile``, the back office's registry import
  page only, through the payments service);
  sees bill runs and bills, and downloads a stored bill;
  works the queue of appeals, connection applications and guests' messages: takes a case,
  asks, answers, moves an application through its stages, with the answer templates
  (``change_appeal``, the back office's case page only, through the appeals service), and
  opens their files; sees the terms of each topic;
  cannot change suppliers or their terms.
- Старший оператор: as the operator, and changes accounts, meters, readings, contracts,
  and decides on deletion requests; adds and changes tariffs, norms, benefits, key rates,
  penalty rate caps and moratoria (never deletes them: a price in force is closed by its
  end date); closes a billing period (``change_billingperiod``, the back office's action
  only); posts an operator's correction to an account (``add_ledgerentry``, the back
  office's correction form only: the generic forms never change the ledger); returns
  money of a payment (``add_refund``, the back office's refund page only, through the
  payments service); starts a bulk run of a supplier's bills (``add_billrun``, the back
  office's «Сформировать квитанции» only); keeps the answer templates; takes a deletion
  request into work.
- Администратор: everything of the domain apps, suppliers and their terms included.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, Permission

OPERATOR = "Оператор"
SENIOR_OPERATOR = "Старший оператор"
ADMINISTRATOR = "Администратор"

_CUSTOMER_MODELS = ["personalaccount", "gasequipment", "contract", "meter", "reading"]
_DOMAIN_APPS = [
    "core",
    "customers",
    "metering",
    "notifications",
    "identity",
    "ledger",
    "billing",
    "payments",
    "documents",
    "appeals",
    "reminders",
]
#: Every operator finds who linked an account and removes a wrong link, saying why.
_ACCOUNT_LINKS = [("view", "accountlink"), ("delete", "accountlink"), ("view", "linkattempt"), ("view", "auditrecord")]
#: Every operator enters and imports readings, reviews flagged ones and rejects a wrong one.
_READINGS = [("add", "reading"), ("change", "reading")]
#: Prices, norms, benefits and penalty rates: data with dates that operators maintain.
_RATE_MODELS = ["tariff", "norm", "benefit", "keyrate", "penaltyratecap", "penaltymoratorium"]
#: What every operator sees of billing: its data, the periods and runs, the ledger.
_BILLING_VIEW = [("view", m) for m in [*_RATE_MODELS, "billingperiod", "billingrun", "ledgerentry", "ledgerbalance"]]
#: A senior operator maintains the data, closes a period and posts corrections.
_BILLING_CHANGE = [(a, m) for m in _RATE_MODELS for a in ("add", "change")] + [
    ("change", "billingperiod"),
    ("add", "ledgerentry"),
]

#: What every operator sees of payments: the payments and their parts, the gateway's
#: notifications, refunds, bank registries.
_PAYMENTS_VIEW = [
    ("view", m) for m in ["payment", "paymentpart", "gatewayevent", "refund", "registryfile", "registryline"]
]
#: Every operator imports bank registries (the generic forms never add one).
_REGISTRIES = [("add", "registryfile")]
#: A senior operator returns money of a payment.
_PAYMENTS_CHANGE = [("add", "refund")]

#: What every operator sees of bills: the runs and the bills, each downloaded as it was stored.
_DOCUMENTS_VIEW = [("view", "billrun"), ("view", "bill")]
#: A senior operator starts a bulk run of a supplier's bills (the generic forms never add one).
_DOCUMENTS_RUN = [("add", "billrun")]

#: Every operator works the queue of appeals, applications and guests' messages (through the
#: back office's case page only: the generic forms never change a case) and sees the terms.
_APPEALS_WORK = [
    ("view", "appeal"),
    ("change", "appeal"),
    ("view", "attachment"),
    ("view", "event"),
    ("view", "answertemplate"),
    ("view", "deadlinerule"),
]
#: A senior operator keeps the answer templates.
_APPEALS_TEMPLATES = [("add", "answertemplate"), ("change", "answertemplate"), ("delete", "answertemplate")]

#: Every operator searches the delivery log (why did a subscriber get no SMS?), sees the
#: reminder runs, the message templates and the announcements.
_MESSAGES_VIEW = [
    ("view", "delivery"),
    ("view", "notification"),
    ("view", "template"),
    ("view", "reminderrun"),
    ("view", "announcement"),
]
#: A senior operator keeps the message templates and writes and sends announcements.
_MESSAGES_CHANGE = [
    ("add", "template"),
    ("change", "template"),
    ("delete", "template"),
    ("add", "announcement"),
    ("change", "announcement"),
]

ROLES: dict[str, list[tuple[str, str]]] = {
    OPERATOR: [("view", m) for m in _CUSTOMER_MODELS]
    + _ACCOUNT_LINKS
    + _READINGS
    + _BILLING_VIEW
    + _PAYMENTS_VIEW
    + _REGISTRIES
    + _DOCUMENTS_VIEW
    + _APPEALS_WORK
    + _MESSAGES_VIEW
    + [("view", "supplier"), ("view", "supplierterms"), ("view", "deletionrequest")],
    SENIOR_OPERATOR: [(a, m) for m in _CUSTOMER_MODELS for a in ("view", "add", "change")]
    + _ACCOUNT_LINKS
    + _BILLING_VIEW
    + _BILLING_CHANGE
    + _PAYMENTS_VIEW
    + _REGISTRIES
    + _PAYMENTS_CHANGE
    + _DOCUMENTS_VIEW
    + _DOCUMENTS_RUN
    + _APPEALS_WORK
    + _APPEALS_TEMPLATES
    + _MESSAGES_VIEW
    + _MESSAGES_CHANGE
    + [
        ("view", "supplier"),
        ("view", "supplierterms"),
        ("view", "outboxmessage"),
        ("view", "deletionrequest"),
        ("change", "deletionrequest"),
        ("view", "consent"),
        ("view", "authsession"),
    ],
}


def roles_sync() -> None:
    """Create the groups and set their permissions to exactly those the roles name."""
    for name, grants in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        codenames = [f"{action}_{model}" for action, model in grants]
        perms = Permission.objects.filter(codename__in=codenames, content_type__app_label__in=_DOMAIN_APPS)
        group.permissions.set(perms)
    admin_group, _ = Group.objects.get_or_create(name=ADMINISTRATOR)
    admin_group.permissions.set(
        Permission.objects.filter(content_type__app_label__in=[*_DOMAIN_APPS, "identity", "auth"])
    )


def sync_after_migrate(sender: Any, **kwargs: Any) -> None:
    """post_migrate is sent once per app with models; act after the last, when every
    permission exists."""
    from django.apps import apps

    last = [config for config in apps.get_app_configs() if config.models_module is not None][-1]
    if getattr(sender, "label", None) == last.label:
        roles_sync()
