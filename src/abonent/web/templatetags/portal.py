"""Template filters of the subscriber's pages.

``{{ user.phone|phone_ru }}`` → «+7 912 345-67-89»; ``{{ session|browser_name }}`` → «Chrome»,
«Яндекс Браузер», «мобильное приложение»; ``{{ account.number|account_number }}`` →
«77 0000 000001»; ``{{ account|address_short }}`` → «г. Подольск, ул. Садовая, д. 12, кв. 34»;
``{{ account.address|nbsp_abbreviations }}`` keeps «д.» with its number on one line;
``{{ link|link_title }}`` → the name the person gave the account, else its short address;
``{{ code|service_label }}`` → «пени», ``{{ code|benefit_category }}`` → «ветеран труда»,
``{{ code|benefit_mode }}`` → «скидка в квитанции»: the words of codes that billing keeps in
a calculation's details; ``{{ amount|absolute }}`` → an overpayment without its minus.
"""

from __future__ import annotations

import re
from decimal import Decimal

from django import template
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from abonent.billing.enums import BenefitCategory, BenefitMode
from abonent.core.periods import MONTHS_NOMINATIVE
from abonent.customers.models import AccountLink, PersonalAccount
from abonent.identity.enums import SessionKind
from abonent.identity.models import AuthSession
from abonent.ledger.enums import Service

register = template.Library()

_E164_RU = re.compile(r"^\+7(\d{3})(\d{3})(\d{2})(\d{2})$")
_ACCOUNT_NUMBER = re.compile(r"^(\d{2})(\d{4})(\d{6})$")
_ABBREVIATION = re.compile(r"(?<![\w-])((?:г|ул|д|кв|пр|пр-т|пер|пос|п|с|дер|корп|стр|наб|ш|б-р|пл|мкр)\.) ")
NBSP = "\u00a0"

# The first that matches names the browser: the order matters, as Chrome-based browsers
# also say "Chrome" and Chrome also says "Safari".
_BROWSERS: tuple[tuple[str, str | Promise], ...] = (
    ("yabrowser/", gettext_lazy("Яндекс Браузер")),
    ("edg/", "Microsoft Edge"),
    ("opr/", "Opera"),
    ("samsungbrowser/", "Samsung Internet"),
    ("firefox/", "Firefox"),
    ("fxios/", "Firefox"),
    ("crios/", "Chrome"),
    ("chromium/", "Chromium"),
    ("chrome/", "Chrome"),
    ("safari/", "Safari"),
)


@register.filter
def phone_ru(value: str | None) -> str:
    """A Russian number stored in E.164 the way people write it: +7 912 345-67-89."""
    text = value or ""
    match = _E164_RU.match(text)
    if match is None:
        return text
    return "+7 {} {}-{}-{}".format(*match.groups())


@register.filter
def browser_name(session: AuthSession) -> str:
    """The browser of a web session in words, from its User-Agent; an app says so."""
    if session.kind == SessionKind.APP:
        return _("мобильное приложение")
    agent = session.user_agent.lower()
    for needle, name in _BROWSERS:
        if needle in agent:
            return str(name)
    return _("браузер")


@register.filter
def account_number(value: str | None) -> str:
    """A 12-digit personal account number in groups, as bills print it: 77 0000 000001 (with
    no-break spaces: the number never breaks across lines)."""
    text = value or ""
    match = _ACCOUNT_NUMBER.match(text)
    return NBSP.join(match.groups()) if match else text


@register.filter
def address_short(account: PersonalAccount) -> str:
    """The address without the postal code and the region: enough to tell one's accounts apart."""
    parts = [account.locality, account.street, f"д. {account.house}"]
    if account.apartment:
        parts.append(f"кв. {account.apartment}")
    return nbsp_abbreviations(", ".join(p for p in parts if p))


@register.filter
def nbsp_abbreviations(text: str | None) -> str:
    """An abbreviation of an address keeps to what it abbreviates: «д.\u00a012», «кв.\u00a034»,
    «ул.\u00a0Садовая», so a line never ends with «д.»."""
    return _ABBREVIATION.sub(lambda m: m.group(1) + NBSP, text or "")


@register.filter
def link_title(link: AccountLink) -> str:
    """How the person knows the account: the name they gave it, else its short address."""
    return link.name or address_short(link.account)


def _label(choices: type[Service | BenefitCategory | BenefitMode], code: str | None) -> str:
    """The label of a code of ``choices``; an unknown code as it is."""
    try:
        return str(choices(code or "").label)
    except ValueError:
        return code or ""


@register.filter
def service_label(code: str | None) -> str:
    """A line of the account in words: «газоснабжение», «пени», «ТО ВДГО»."""
    return _label(Service, code)


@register.filter
def benefit_category(code: str | None) -> str:
    return _label(BenefitCategory, code)


@register.filter
def benefit_mode(code: str | None) -> str:
    return _label(BenefitMode, code)


@register.filter
def absolute(value: Decimal | None) -> Decimal | None:
    """An amount without its sign: an overpayment of −33,01 is said «Переплата 33,01 ₽»."""
    return abs(value) if value is not None else None


@register.filter
def month_name(number: int | None) -> str:
    """A month's name by its number: 11 → «ноябрь»; empty for 0 (every month) or nothing."""
    if not number or not 1 <= number <= 12:
        return ""
    return str(MONTHS_NOMINATIVE[number - 1])
