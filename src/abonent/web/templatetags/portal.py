"""Template filters of the profile pages.

``{{ user.phone|phone_ru }}`` → «+7 912 345-67-89»; ``{{ session|browser_name }}`` → «Chrome»,
«Яндекс Браузер», «мобильное приложение».
"""

from __future__ import annotations

import re

from django import template
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from abonent.identity.enums import SessionKind
from abonent.identity.models import AuthSession

register = template.Library()

_E164_RU = re.compile(r"^\+7(\d{3})(\d{3})(\d{2})(\d{2})$")

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
