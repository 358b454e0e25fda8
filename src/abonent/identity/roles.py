"""Staff roles as Django groups with their permissions, kept in step after every migrate.

- Оператор: sees accounts, meters, readings, contracts, deletion requests, the users linked
  to an account and the tries to link it, the audit log; unlinks a user from an account
  with a reason (``delete_accountlink``, used by the back office's unlink page only);
  enters readings on a subscriber's behalf and imports them from a file (``add_reading``),
  accepts flagged readings and rejects readings with a reason (``change_reading``) — through
  the back office's reading pages only: the generic forms never change a reading;
  cannot change suppliers or their terms.
- Старший оператор: as the operator, and changes accounts, meters, readings, contracts,
  and decides on deletion requests.
- Администратор: everything of the domain apps, suppliers and their terms included.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, Permission

OPERATOR = "Оператор"
SENIOR_OPERATOR = "Старший оператор"
ADMINISTRATOR = "Администратор"

_CUSTOMER_MODELS = ["personalaccount", "gasequipment", "contract", "meter", "reading"]
_DOMAIN_APPS = ["core", "customers", "metering", "notifications", "identity"]
#: Every operator finds who linked an account and removes a wrong link, saying why.
_ACCOUNT_LINKS = [("view", "accountlink"), ("delete", "accountlink"), ("view", "linkattempt"), ("view", "auditrecord")]
#: Every operator enters and imports readings, reviews flagged ones and rejects a wrong one.
_READINGS = [("add", "reading"), ("change", "reading")]

ROLES: dict[str, list[tuple[str, str]]] = {
    OPERATOR: [("view", m) for m in _CUSTOMER_MODELS]
    + _ACCOUNT_LINKS
    + _READINGS
    + [("view", "supplier"), ("view", "supplierterms"), ("view", "deletionrequest")],
    SENIOR_OPERATOR: [(a, m) for m in _CUSTOMER_MODELS for a in ("view", "add", "change")]
    + _ACCOUNT_LINKS
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
