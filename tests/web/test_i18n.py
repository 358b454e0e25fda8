"""English is really available: the catalog is complete and compiled, the pages follow the
browser's Accept-Language and the language switch in the header (Django's set_language)."""

from __future__ import annotations

import gettext
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.test import Client
from pytest_django.asserts import assertContains, assertNotContains
from pytest_django.fixtures import Settings

from abonent.core.models import Supplier
from tests.web.html import inline_code

LOCALE_DIR = Path(django_settings.BASE_DIR) / "locale"
EN_PO = LOCALE_DIR / "en" / "LC_MESSAGES" / "django.po"
EN_MO = EN_PO.with_suffix(".mo")

H1_RU = '<h1 id="hero-title">Личный кабинет абонента газоснабжения</h1>'
H1_EN = '<h1 id="hero-title">Customer portal for gas consumers</h1>'


# --- The catalog ----------------------------------------------------------------------------


@dataclass
class Entry:
    msgid: str = ""
    msgstr: str = ""
    msgctxt: str | None = None
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False


_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}


def _unquote(text: str) -> str:
    text = text.strip()
    if not (text.startswith('"') and text.endswith('"')):
        raise AssertionError(f"not a quoted string: {text!r}")
    return re.sub(r"\\(.)", lambda m: _ESCAPES[m.group(1)], text[1:-1])


def parse_po(text: str) -> list[Entry]:
    """The entries of a .po file, with their contexts, without plural forms (this project uses
    none): enough to check a catalog without polib. An entry ends at a blank line or where the next
    one's comments or msgid begin; obsolete entries (#~) are kept, marked."""
    entries: list[Entry] = []
    entry = Entry()
    target: str | None = None

    def flush() -> None:
        nonlocal entry, target
        if target is not None:
            entries.append(entry)
        entry, target = Entry(), None

    for raw in text.splitlines():
        obsolete = raw.startswith("#~")
        line = raw[2:].lstrip() if obsolete else raw
        if target == "msgstr" and (line.startswith(("#", "msgid ", "msgctxt ")) or obsolete != entry.obsolete):
            flush()
        if not line.strip():
            flush()
        elif line.startswith("#,"):
            entry.flags |= {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif line.startswith("msgctxt "):
            target, entry.msgctxt = "msgctxt", _unquote(line[8:])
        elif line.startswith("msgid "):
            target, entry.msgid, entry.obsolete = "msgid", _unquote(line[6:]), obsolete
        elif line.startswith("msgstr "):
            target, entry.msgstr = "msgstr", _unquote(line[7:])
        elif line.startswith('"') and target is not None:
            setattr(entry, target, getattr(entry, target) + _unquote(line))
        else:
            raise AssertionError(f"unexpected line in the catalog: {raw!r}")
    flush()
    return entries


def en_messages() -> list[Entry]:
    return [e for e in parse_po(EN_PO.read_text(encoding="utf-8")) if e.msgid]


_PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w*\}")


def test_the_parser_reads_flags_continuations_and_escapes() -> None:
    text = (
        'msgid ""\nmsgstr ""\n"Language: en\\n"\n\n'
        "#: a.py:1\n#, fuzzy, python-format\n"
        'msgid ""\n"Две "\n"строки %(n)s"\nmsgstr "Two \\"lines\\" %(n)s"\n'
        '#: b.py:2\nmsgid "Да"\nmsgstr "Yes"\n\n'
        '#~ msgid "старое"\n#~ msgstr "old"\n'
    )
    header, entry, yes, old = parse_po(text)

    assert (header.msgid, header.msgstr) == ("", "Language: en\n")
    assert entry.msgid == "Две строки %(n)s"
    assert entry.msgstr == 'Two "lines" %(n)s'
    assert entry.flags == {"fuzzy", "python-format"}
    assert (yes.msgid, yes.msgstr, yes.flags, yes.obsolete) == ("Да", "Yes", set(), False)
    assert (old.msgid, old.msgstr, old.obsolete) == ("старое", "old", True)


def test_every_english_message_is_translated_and_none_is_fuzzy() -> None:
    messages = en_messages()

    assert len(messages) > 150
    assert [e.msgid for e in messages if not e.msgstr.strip()] == []
    assert [e.msgid for e in messages if "fuzzy" in e.flags] == []
    assert [e.msgid for e in messages if e.obsolete] == []
    header = parse_po(EN_PO.read_text(encoding="utf-8"))[0]
    assert "Language: en\n" in header.msgstr
    assert "fuzzy" not in header.flags


def test_translations_keep_every_placeholder() -> None:
    wrong = [
        (e.msgid, e.msgstr)
        for e in en_messages()
        if sorted(_PLACEHOLDER.findall(e.msgid)) != sorted(_PLACEHOLDER.findall(e.msgstr))
    ]

    assert wrong == []


def test_translations_are_english() -> None:
    """No Cyrillic left in a translation: each message was translated, not copied."""
    assert [e.msgstr for e in en_messages() if re.search(r"[А-Яа-яЁё]", e.msgstr)] == []


def test_the_compiled_catalog_matches_the_source() -> None:
    """The .mo is committed (a fresh clone needs no gettext) and must be rebuilt with the .po."""
    with EN_MO.open("rb") as fp:
        compiled = gettext.GNUTranslations(fp)

    def translated(e: Entry) -> str:
        return compiled.gettext(e.msgid) if e.msgctxt is None else compiled.pgettext(e.msgctxt, e.msgid)

    stale = [e.msgid for e in en_messages() if translated(e) != e.msgstr]

    assert stale == [], "run: msgfmt --check -o django.mo django.po in src/abonent/locale/en/LC_MESSAGES"


def test_msgfmt_accepts_the_catalog() -> None:
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        pytest.skip("gettext is not installed (apt-get install gettext)")

    result = subprocess.run(
        [msgfmt, "--check", "--statistics", "-o", "/dev/null", str(EN_PO)],
        capture_output=True,
        text=True,
        check=False,
        env={"LC_ALL": "C"},
    )

    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"\d+ translated messages\.\n", result.stderr), result.stderr


def test_the_catalog_has_every_message_of_the_source(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """makemessages over a copy of the source finds no message the committed catalog lacks
    and none it has in excess: a new gettext string fails here until it is translated."""
    if shutil.which("xgettext") is None or shutil.which("msgmerge") is None:
        pytest.skip("gettext is not installed (apt-get install gettext)")
    # A copy without locale/, so makemessages cannot write into the committed catalog
    source = tmp_path / "abonent"
    shutil.copytree(Path(django_settings.BASE_DIR), source, ignore=shutil.ignore_patterns("locale", "__pycache__"))
    settings.LOCALE_PATHS = [tmp_path / "out" / "locale"]
    monkeypatch.chdir(source)

    call_command("makemessages", locale=["en"], verbosity=0)

    fresh_po = tmp_path / "out" / "locale" / "en" / "LC_MESSAGES" / "django.po"
    fresh = {(e.msgctxt or "", e.msgid) for e in parse_po(fresh_po.read_text("utf-8")) if e.msgid}
    committed = {(e.msgctxt or "", e.msgid) for e in en_messages()}
    assert sorted(fresh - committed) == [], "run makemessages -l en and translate the new messages"
    assert sorted(committed - fresh) == [], "run makemessages -l en to drop the messages the source no longer has"


# --- The pages ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_english_browser_gets_the_landing_page_in_english(client: Client, supplier: Supplier) -> None:
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9")

    html = response.content.decode()
    assert '<html lang="en">' in html
    assertContains(response, H1_EN, html=True)
    assertContains(response, '<h2 id="contacts-title">Supplier contacts</h2>', html=True)
    assertContains(response, '<a class="site-nav__link" href="/" aria-current="page">Home</a>', html=True)
    assertContains(response, '<nav class="site-nav" aria-label="Main menu">')
    assertContains(response, "<dt>Hotline</dt>", html=True)
    assertNotContains(response, "Личный кабинет абонента газоснабжения")
    assert "Accept-Language" in response["Vary"]


@pytest.mark.django_db
def test_without_accept_language_the_landing_page_is_russian(client: Client) -> None:
    response = client.get("/")

    assert '<html lang="ru">' in response.content.decode()
    assertContains(response, H1_RU, html=True)
    assertNotContains(response, "Customer portal")


@pytest.mark.django_db
def test_a_language_russian_does_not_know_falls_back_to_russian(client: Client) -> None:
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9")

    assert '<html lang="ru">' in response.content.decode()
    assertContains(response, H1_RU, html=True)


@pytest.mark.django_db
def test_the_switch_sets_the_language_cookie_and_the_next_page_is_english(client: Client) -> None:
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/demo/outbox/?to=x"})

    assert response.status_code == 302
    assert response["Location"] == "/demo/outbox/?to=x"
    assert client.cookies[django_settings.LANGUAGE_COOKIE_NAME].value == "en"
    page = client.get("/")  # no Accept-Language: the cookie decides
    assert '<html lang="en">' in page.content.decode()
    assertContains(page, H1_EN, html=True)

    client.post("/i18n/setlang/", {"language": "ru", "next": "/"})
    assertContains(client.get("/", HTTP_ACCEPT_LANGUAGE="en"), H1_RU, html=True)


@pytest.mark.django_db
def test_the_switch_ignores_an_unknown_language(client: Client) -> None:
    response = client.post("/i18n/setlang/", {"language": "xx", "next": "/"})

    assert response.status_code == 302
    assert django_settings.LANGUAGE_COOKIE_NAME not in response.cookies
    page = client.get("/")
    assert '<html lang="ru">' in page.content.decode()
    assertContains(page, H1_RU, html=True)


@pytest.mark.django_db
def test_the_switch_does_not_redirect_to_another_site(client: Client) -> None:
    response = client.post("/i18n/setlang/", {"language": "en", "next": "https://evil.example/"})

    assert response.status_code == 302
    assert response["Location"] == "/"


@pytest.mark.django_db
def test_the_switch_needs_a_csrf_token() -> None:
    client = Client(enforce_csrf_checks=True)

    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})

    assert response.status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize(("accept", "current"), [("ru", "ru"), ("en", "en")])
def test_the_header_has_a_language_switch_that_works_without_script(client: Client, accept: str, current: str) -> None:
    response = client.get("/?x=1", HTTP_ACCEPT_LANGUAGE=accept)
    html = response.content.decode()

    header = html[html.index("<header") : html.index("</header>")]
    assert '<form class="lang-switch" action="/i18n/setlang/" method="post">' in header
    assert 'name="csrfmiddlewaretoken"' in header
    assert '<input type="hidden" name="next" value="/?x=1">' in header
    other = {"ru": "en", "en": "ru"}[current]
    names = {"ru": "Русский", "en": "English"}
    assertContains(
        response,
        f'<button class="lang-switch__button" type="submit" name="language" value="{current}" lang="{current}"'
        f' aria-current="true">{names[current]}</button>',
        html=True,
    )
    assertContains(
        response,
        f'<button class="lang-switch__button" type="submit" name="language" value="{other}" lang="{other}">'
        f"{names[other]}</button>",
        html=True,
    )
    assert '<legend class="visually-hidden"><span lang="ru">Язык сайта</span>' in header
    assert inline_code(html) == []


@pytest.mark.django_db
def test_error_pages_are_english_too(client: Client) -> None:
    response = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 404
    assertContains(response, "Go to the home page", status_code=404)
    assertContains(response, '<input type="hidden" name="next" value="/no-such-page/">', status_code=404)


@pytest.mark.django_db
def test_the_back_office_login_page_is_english_for_an_english_browser(client: Client) -> None:
    english = client.get("/backoffice/login/", HTTP_ACCEPT_LANGUAGE="en")
    russian = client.get("/backoffice/login/")

    assert '<html lang="en"' in english.content.decode()
    assertContains(english, '<a href="/backoffice/">Abonent — back office</a>', html=True)
    assertContains(english, "Log in")
    assertNotContains(english, "бэк-офис")
    assertContains(russian, '<a href="/backoffice/">Абонент — бэк-офис</a>', html=True)
    assertContains(russian, "Войти")
