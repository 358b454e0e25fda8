"""Appeals on the portal: the list of a subscriber's cases with their deletion requests, the
form of an appeal (its accounts, suppliers, files and the ways of being told), a case's page
with its thread, history and the steps the applicant can take (reply, rate, withdraw), the
files served only to their owner, the menu's count of unread cases.

Every refused request — a file too many, too large, of the wrong type behind a harmless name,
cut short or locked, an empty text, another person's account, case or file, a step the
case's status does not allow — says what is wrong and leaves nothing behind: no case,
message, file row or stored file, history, delivery.

NOW is Sunday 22.11.2026, 12:00 in Moscow; a question on charges is answered within 10
working days: by 04.12.2026."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.db import connection
from django.http import HttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from abonent.appeals.enums import Status
from abonent.appeals.models import Appeal, Attachment, Event, Message
from abonent.core.models import LinkProof, Supplier
from abonent.customers.models import AccountLink, PersonalAccount
from abonent.identity.enums import AuthChannel
from abonent.identity.models import User
from abonent.identity.services import deletion_request_create, deletion_request_refuse, deletion_request_take
from abonent.notifications.models import Delivery
from tests.factories import account_make
from tests.web.appeals_data import (
    BROKEN_PDF,
    EXE,
    OPERATOR_PHONE,
    appeal_make,
    big_jpeg,
    counts,
    field_error,
    input_tag,
    jpeg,
    nothing_written,
    operator_act,
    pdf,
    photo_jpeg,
    snapshot,
    stored_files,
    text,
    upload,
)
from tests.web.html import heading_levels, headings_in_order, inline_code
from tests.web.identity import EMAIL, NOW, PASSWORD, PHONE, Browser, Clock, user_make

pytestmark = pytest.mark.django_db

STRANGER_PHONE = "+79165550000"
DUE = "04.12.2026"


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    """Uploaded files are stored in a directory of the test's own."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def log_in(browser: Browser, phone: str = PHONE) -> Browser:
    response = browser.post("/login/", {"login": phone, "password": PASSWORD})
    assert response.status_code == 302
    return browser


def link_make(user: User, account: PersonalAccount, name: str = "") -> AccountLink:
    return AccountLink.objects.create(
        user=user, account=account, proof=LinkProof.PIN, channel="web", linked_at=NOW - dt.timedelta(days=1), name=name
    )


@pytest.fixture
def me(browser: Browser, maria: User) -> Browser:
    """Мария (phone confirmed, no e-mail), logged in on her phone."""
    return log_in(browser)


@pytest.fixture
def account(supplier: Supplier, maria: User) -> PersonalAccount:
    account = account_make(supplier=supplier)
    link_make(maria, account, name="Дом")
    return account


@pytest.fixture
def stranger(db: None) -> User:
    return user_make(phone=STRANGER_PHONE)


@pytest.fixture
def strangers_account(supplier: Supplier, stranger: User) -> PersonalAccount:
    account = account_make(supplier=supplier, number="770000000099", holder_last_name="Чужая")
    link_make(stranger, account)
    return account


def appeal_make_for(user: User, account: PersonalAccount, **fields: Any) -> Appeal:
    return appeal_make(user, account=account, **fields)


def write(browser: Browser, account: PersonalAccount | None = None, **data: Any) -> HttpResponse:
    form: dict[str, Any] = {
        "category": "charge",
        "account": str(account.pk) if account else "none",
        "text": "Почему в октябре начислено больше обычного?",
        "notify_channel": "sms",
        **data,
    }
    return browser.post("/appeals/new/", form)


def the_appeal() -> Appeal:
    return Appeal.objects.get()


# --- The menu ---------------------------------------------------------------------------------


def test_the_menu_links_the_appeals_with_the_count_of_cases_with_news(
    me: Browser, maria: User, account: PersonalAccount
) -> None:
    first = appeal_make_for(maria, account)
    second = appeal_make_for(maria, account)
    assertContains(me.get("/accounts/"), '<a class="site-nav__link" href="/appeals/">Обращения</a>', html=True)

    operator_act(first, "answer", "Начислено по показанию 1234 м³.")
    operator_act(second, "ask", "Пришлите фото счётчика.")

    badge = (
        '<a class="site-nav__link" href="/appeals/">Обращения <span class="nav-count">2'
        '<span class="visually-hidden"> с новыми ответами</span></span></a>'
    )
    assertContains(me.get("/accounts/"), badge, html=True)
    me.get(f"/appeals/{first.pk}/")  # opening a case marks it seen
    assertContains(me.get("/accounts/"), badge.replace(">2<", ">1<"), html=True)
    me.get(f"/appeals/{second.pk}/")
    assertContains(me.get("/accounts/"), '<a class="site-nav__link" href="/appeals/">Обращения</a>', html=True)


def test_a_guest_has_no_appeals_in_the_menu_and_is_sent_to_log_in(client: Client) -> None:
    assertNotContains(client.get("/"), 'href="/appeals/"')
    for path in ("/appeals/", "/appeals/new/", "/connection/new/", "/appeals/1/", "/appeals/1/files/1/"):
        assertRedirects(client.get(path), f"/login/?next={quote(path)}", fetch_redirect_response=False)


# --- The list ---------------------------------------------------------------------------------


def test_the_list_shows_each_case_with_its_state_and_the_deletion_requests(
    me: Browser, maria: User, account: PersonalAccount, clock: Clock
) -> None:
    older = appeal_make_for(maria, account, category="readings", now=NOW - dt.timedelta(days=3))
    newer = appeal_make_for(maria, account, category="payment", text="Оплатила 10.11, платёж не виден.")
    operator_act(older, "answer", "Показание учтено.")
    request = deletion_request_create(user=maria, reason="", channel=AuthChannel.WEB, now=NOW - dt.timedelta(days=40))
    operator = User.objects.get(phone=OPERATOR_PHONE)
    deletion_request_take(request_id=request.pk, operator=operator, now=NOW - dt.timedelta(days=39))
    deletion_request_refuse(
        request_id=request.pk, operator=operator, outcome="Есть неоплаченный долг.", now=NOW - dt.timedelta(days=35)
    )

    response = me.get("/appeals/")

    assert response.status_code == 200
    page = text(response)
    assert page.index(f"Обращение № {newer.pk}") < page.index(f"Обращение № {older.pk}")  # newest first
    assert (
        f"Обращение № {newer.pk} Оплата не поступила Состояние: принято Подано: 22.11.2026 "
        "Лицевой счёт: 77 0000 000001 Оплатила 10.11, платёж не виден." in page
    )
    assert f"Обращение № {older.pk} новое Показания счётчика Состояние: дан ответ Подано: 19.11.2026" in page
    assert (
        "Заявка на удаление профиля от 13.10.2026 Состояние: отказано Подана: 13.10.2026 "
        "Взята в работу: 14.10.2026 Рассмотрена: 18.10.2026 Результат: Есть неоплаченный долг." in page
    )
    assertContains(response, '<a class="button" href="/appeals/new/">Написать обращение</a>', html=True)
    assertContains(
        response,
        '<a class="button button--secondary" href="/connection/new/">Подать заявку на подключение</a>',
        html=True,
    )
    assert 'class="card case case--unread"' in response.content.decode()


def test_an_open_deletion_request_links_its_page(me: Browser, maria: User) -> None:
    deletion_request_create(user=maria, reason="", channel=AuthChannel.WEB, now=NOW)

    response = me.get("/appeals/")

    page = text(response)
    assert (
        "Заявка на удаление профиля от 22.11.2026 Состояние: принята Подана: 22.11.2026 Рассмотрим до: 22.12.2026"
        in page
    )
    assertContains(
        response, '<a class="link-block" href="/profile/delete/">Подробнее об удалении профиля</a>', html=True
    )


def test_with_no_cases_the_list_says_so(me: Browser, maria: User) -> None:
    response = me.get("/appeals/")

    assert "Обращений и заявок пока нет." in text(response)
    assert "Удаление профиля" not in text(response)


# --- The form ---------------------------------------------------------------------------------


def test_the_form_offers_the_topics_the_accounts_and_the_ways_to_be_told(
    me: Browser, account: PersonalAccount, supplier: Supplier
) -> None:
    response = me.get("/appeals/new/")

    assert response.status_code == 200
    html = response.content.decode()
    topics = re.findall(r'<input type="radio" name="category" value="(\w+)"', html)
    assert topics == ["charge", "readings", "payment", "meter", "equipment", "complaint", "other"]
    assert re.findall(r'<input type="radio" name="account" value="(\w+)"', html) == [str(account.pk), "none"]
    assert f'value="{account.pk}" class="choice__input" id="id_account_0" checked' in html
    assertContains(
        response, '<label class="choice__label" for="id_account_0">Дом — 77\u00a00000\u00a0000001</label>', html=True
    )
    assertContains(response, f'<option value="{supplier.pk}" selected>{supplier.short_name}</option>', html=True)
    files = input_tag(html, "files")
    assert 'type="file"' in files
    assert "multiple" in files
    assert 'accept="image/jpeg,image/png,image/webp,application/pdf"' in files
    assert 'enctype="multipart/form-data"' in html
    # Мария has a confirmed phone and no e-mail: SMS (chosen) or the portal only
    assert re.findall(r'name="notify_channel" value="(\w+)"', html) == ["sms", "portal"]
    assert 'name="notify_channel" value="sms" class="choice__input" id="id_notify_channel_0" checked' in html
    assert "По SMS на +7\u00a0912\u00a0345\u201167\u201189" in html  # the number never breaks
    assert inline_code(html) == []
    assert headings_in_order(heading_levels(html))


def test_an_email_is_offered_when_it_is_confirmed_and_chosen_when_there_is_no_phone(
    browser: Browser, supplier: Supplier
) -> None:
    user_make(phone=None, email=EMAIL)
    browser.post("/login/", {"login": EMAIL, "password": PASSWORD})

    html = browser.get("/appeals/new/").content.decode()

    assert re.findall(r'name="notify_channel" value="(\w+)"', html) == ["email", "portal"]
    assert 'value="email" class="choice__input" id="id_notify_channel_0" checked' in html


def test_the_account_of_the_address_is_chosen_when_it_is_linked(
    me: Browser, maria: User, account: PersonalAccount, supplier: Supplier, strangers_account: PersonalAccount
) -> None:
    second = account_make(supplier=supplier, number="770000000002")
    link_make(maria, second, name="Дача")

    chosen = me.get(f"/appeals/new/?account={second.pk}").content.decode()
    foreign = me.get(f"/appeals/new/?account={strangers_account.pk}").content.decode()

    assert f'value="{second.pk}" class="choice__input" id="id_account_1" checked' in chosen
    assert f'value="{account.pk}" class="choice__input" id="id_account_0" checked' in foreign  # the first, as usual
    assert "770000000099" not in foreign
    assert "Чужая" not in foreign


def test_without_accounts_the_form_asks_for_the_supplier_and_suggests_linking(me: Browser, supplier: Supplier) -> None:
    response = me.get("/appeals/new/")

    html = response.content.decode()
    assert 'name="account"' not in html
    assertContains(response, f'<option value="{supplier.pk}" selected>{supplier.short_name}</option>', html=True)
    assert 'href="/accounts/link/">привяжите лицевой счёт</a>' in html


# --- Sending ----------------------------------------------------------------------------------


def test_an_appeal_with_a_photo_and_a_pdf_is_sent(
    me: Browser, maria: User, account: PersonalAccount, media: Path
) -> None:
    photo, scan = jpeg(), pdf()

    response = write(
        me,
        account,
        text="  Почему в октябре начислено больше обычного?  ",
        files=[upload("Фото счётчика.JPG", photo, "image/jpeg"), upload("../../квитанция", scan)],
    )

    appeal = the_appeal()
    assertRedirects(response, f"/appeals/{appeal.pk}/", fetch_redirect_response=False)
    assert (appeal.kind, appeal.category, appeal.status) == ("appeal", "charge", "new")
    assert (appeal.user, appeal.account, appeal.supplier) == (maria, account, account.supplier)
    assert (appeal.channel, appeal.notify_channel, appeal.due_on) == ("web", "sms", dt.date(2026, 12, 4))
    message = Message.objects.get()
    assert (message.role, message.text) == ("subscriber", "Почему в октябре начислено больше обычного?")
    files = list(Attachment.objects.order_by("pk"))
    assert [(f.name, f.mime, f.size, f.message) for f in files] == [
        ("Фото счётчика.jpg", "image/jpeg", len(photo), message),
        ("квитанция.pdf", "application/pdf", len(scan), message),
    ]
    assert len(stored_files(media)) == 2
    assert (media / files[0].file.name).read_bytes() == photo
    page = me.get(f"/appeals/{appeal.pk}/")
    assert f"Обращение № {appeal.pk} отправлено. Ответим до {DUE}." in page.content.decode()
    assert Delivery.objects.count() == 0  # nothing to tell until the supplier answers


def test_an_appeal_not_about_an_account_goes_to_the_supplier_chosen(
    me: Browser, account: PersonalAccount, supplier: Supplier, supplier_kaliningrad: Supplier
) -> None:
    response = write(me, None, category="other", supplier=str(supplier_kaliningrad.pk), notify_channel="portal")

    appeal = the_appeal()
    assert response.status_code == 302
    assert (appeal.account, appeal.supplier, appeal.notify_channel) == (None, supplier_kaliningrad, "portal")


@pytest.mark.parametrize(
    ("files", "error"),
    [
        (
            lambda: [upload(f"photo-{n}.jpg", jpeg(), "image/jpeg") for n in range(11)],
            "Можно приложить не больше 10 файлов за раз, выбрано 11",
        ),
        (lambda: [big_jpeg()], "Файл «big.jpg» больше 10 МБ: уменьшите его"),
        (
            lambda: [upload("photo.jpg", EXE, "image/jpeg")],
            "Файл «photo.jpg»: такой тип файла не принимается, загрузите JPEG, PNG, WebP или PDF",
        ),
        (
            lambda: [upload("scan.jpg", photo_jpeg()[:20_000], "image/jpeg")],
            "Файл «scan.jpg»: файл повреждён или не открывается",
        ),
        (
            lambda: [upload("passport.pdf", pdf(user_password="1234"), "application/pdf")],
            "Файл «passport.pdf»: PDF защищён паролем, загрузите файл без пароля",
        ),
        (
            lambda: [upload("bill.pdf", BROKEN_PDF, "application/pdf")],
            "Файл «bill.pdf»: файл повреждён или не открывается",
        ),
        (lambda: [upload("empty.png", b"", "image/png")], "Файл «empty.png» пустой"),
    ],
    ids=["11-files", "11-MB", "exe-named-jpg", "truncated-jpeg", "pdf-with-password", "broken-pdf", "empty-file"],
)
def test_a_bad_file_is_refused_next_to_the_files_with_nothing_written(
    me: Browser, account: PersonalAccount, media: Path, files: Any, error: str
) -> None:
    response = write(me, account, files=files())

    assert response.status_code == 200
    assert field_error(response, "files") == error
    assert "Если вы прикладывали файлы, выберите их ещё раз" in text(response)
    html = response.content.decode()
    assert "Почему в октябре начислено больше обычного?</textarea>" in html  # what was typed is kept
    nothing_written(media)


def test_one_bad_file_among_good_ones_stores_none_of_them(me: Browser, account: PersonalAccount, media: Path) -> None:
    response = write(
        me,
        account,
        files=[upload("a.jpg", jpeg(), "image/jpeg"), upload("b.pdf", pdf()), upload("c.jpg", EXE, "image/jpeg")],
    )

    assert field_error(response, "files") == (
        "Файл «c.jpg»: такой тип файла не принимается, загрузите JPEG, PNG, WebP или PDF"
    )
    nothing_written(media)


def test_every_wrong_field_is_said_at_once(me: Browser, account: PersonalAccount, media: Path) -> None:
    response = write(
        me,
        account,
        category="",
        text="   ",
        notify_channel="email",
        files=[upload("photo.jpg", EXE)],
    )

    assert response.status_code == 200
    assert field_error(response, "category") == "Выберите тему обращения из списка"
    assert field_error(response, "text") == "Напишите текст сообщения"
    assert field_error(response, "notify_channel") == "В профиле нет подтверждённого e-mail: выберите другой способ"
    assert field_error(response, "files").startswith("Файл «photo.jpg»")
    summary = re.search(r'<div class="error-summary".*?</div>', response.content.decode(), re.S)
    assert summary is not None
    assert '<a href="#id_category_0">Выберите тему обращения из списка</a>' in summary.group(0)
    assert '<a href="#id_text">Напишите текст сообщения</a>' in summary.group(0)
    nothing_written(media)


def test_an_empty_text_is_refused(me: Browser, account: PersonalAccount, media: Path) -> None:
    response = write(me, account, text="")

    assert field_error(response, "text") == "Напишите текст сообщения"
    nothing_written(media)


def test_a_question_on_charges_needs_an_account(me: Browser, account: PersonalAccount, media: Path) -> None:
    response = write(me, None, category="charge", supplier=str(account.supplier_id))

    assert field_error(response, "account") == "Выберите лицевой счёт, о котором обращение"
    assert '<a href="#id_account_0">Выберите лицевой счёт, о котором обращение</a>' in response.content.decode()
    nothing_written(media)


def test_another_persons_account_is_not_found_and_nothing_is_written(
    me: Browser, account: PersonalAccount, strangers_account: PersonalAccount, media: Path
) -> None:
    response = write(me, strangers_account, files=[upload("a.jpg", jpeg(), "image/jpeg")])

    assert response.status_code == 404
    assert "770000000099" not in response.content.decode()
    nothing_written(media)


# --- A case -----------------------------------------------------------------------------------


def test_the_case_shows_its_thread_files_history_and_deadline(
    me: Browser, maria: User, account: PersonalAccount
) -> None:
    appeal = appeal_make_for(maria, account, files=[("Фото счётчика.jpg", jpeg())])
    operator_act(appeal, "take", at=NOW + dt.timedelta(hours=1))
    operator_act(appeal, "ask", "Пришлите, пожалуйста, фото счётчика\nс показаниями.", at=NOW + dt.timedelta(hours=2))
    file = Attachment.objects.get()

    response = me.get(f"/appeals/{appeal.pk}/")

    assert response.status_code == 200
    page = text(response)
    assert (
        f"Обращение № {appeal.pk} Вопрос по начислению Состояние: ждёт вашего ответа Подано: 22.11.2026 12:00 "
        "Поставщик: Газпром межрегионгаз Москва Лицевой счёт: 77 0000 000001"
    ) in page
    assert "Специалист задал вам вопрос." in page
    assert "Ответим до" not in page  # the term stands still while the applicant is asked
    assert ("Вы 22.11.2026 12:00 Почему в октябре начислено больше обычного? Фото счётчика.jpg") in page
    assert "Поставщик газа вопрос 22.11.2026 14:00 Пришлите, пожалуйста, фото счётчика с показаниями." in page
    assert (
        "История 22.11.2026 12:00 Подано: принято 22.11.2026 13:00 Взято в работу: в работе "
        "22.11.2026 14:00 Вам задан вопрос: ждёт вашего ответа"
    ) in page
    html = response.content.decode()
    assert f'<a class="link-block files__link" href="/appeals/{appeal.pk}/files/{file.pk}/" download>' in html
    assert f'action="/appeals/{appeal.pk}/reply/"' in html
    assert f'action="/appeals/{appeal.pk}/rate/"' not in html  # nothing to rate yet
    assert f'href="/appeals/{appeal.pk}/withdraw/"' in html
    assert inline_code(html) == []
    assert headings_in_order(heading_levels(html))


def test_a_new_case_says_by_when_it_is_answered(me: Browser, maria: User, account: PersonalAccount) -> None:
    appeal = appeal_make_for(maria, account)

    assert f"Ответим до {DUE}" in text(me.get(f"/appeals/{appeal.pk}/"))


def test_opening_a_case_marks_it_seen(me: Browser, maria: User, account: PersonalAccount) -> None:
    appeal = appeal_make_for(maria, account)
    operator_act(appeal, "answer", "Начислено по показанию.")
    assert Appeal.objects.get().subscriber_unread is True

    me.get(f"/appeals/{appeal.pk}/")

    assert Appeal.objects.get().subscriber_unread is False


def test_another_persons_case_is_not_found_on_every_page(
    me: Browser, maria: User, stranger: User, strangers_account: PersonalAccount, media: Path
) -> None:
    theirs = appeal_make_for(stranger, strangers_account, text="Чужое обращение", files=[("чужое.jpg", jpeg())])
    operator_act(theirs, "answer", "Чужой ответ")
    file = Attachment.objects.get()
    before = snapshot(media)
    statuses = Appeal.objects.values_list("status", "subscriber_unread", "rating")[0]

    answers = [
        me.get(f"/appeals/{theirs.pk}/"),
        me.get(f"/appeals/{theirs.pk}/files/{file.pk}/"),
        me.get(f"/appeals/{theirs.pk}/withdraw/"),
        me.post(f"/appeals/{theirs.pk}/reply/", {"text": "Моё", "files": [upload("a.jpg", jpeg())]}),
        me.post(f"/appeals/{theirs.pk}/rate/", {"rating": "5"}),
        me.post(f"/appeals/{theirs.pk}/withdraw/"),
    ]

    assert [a.status_code for a in answers] == [404] * 6
    for answer in answers:
        body = answer.content.decode() if not answer.streaming else ""
        assert "Чужое" not in body
        assert "Чужой" not in body
    nothing_written(media, before)
    assert Appeal.objects.values_list("status", "subscriber_unread", "rating")[0] == statuses


def test_a_file_of_ones_own_case_is_not_found_under_another_case(
    me: Browser, maria: User, account: PersonalAccount
) -> None:
    first = appeal_make_for(maria, account, files=[("a.jpg", jpeg())])
    second = appeal_make_for(maria, account)
    file = Attachment.objects.get()

    assert me.get(f"/appeals/{second.pk}/files/{file.pk}/").status_code == 404
    assert me.get(f"/appeals/{first.pk}/files/{file.pk + 1000}/").status_code == 404


def test_a_file_is_downloaded_with_its_clean_name_and_type_and_not_cached(
    me: Browser, maria: User, account: PersonalAccount
) -> None:
    scan = pdf()
    appeal = appeal_make_for(maria, account, files=[("Квитанция за октябрь.PDF", scan)])
    file = Attachment.objects.get()

    response = me.get(f"/appeals/{appeal.pk}/files/{file.pk}/")

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == scan  # type: ignore[attr-defined]
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == ("attachment; filename*=utf-8''" + quote("Квитанция за октябрь.pdf"))
    assert response["Content-Length"] == str(len(scan))
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"


def test_a_file_with_a_plain_name_is_named_plainly(me: Browser, maria: User, account: PersonalAccount) -> None:
    appeal = appeal_make_for(maria, account, files=[("meter photo.png", jpeg())])
    file = Attachment.objects.get()

    response = me.get(f"/appeals/{appeal.pk}/files/{file.pk}/")

    assert response["Content-Type"] == "image/jpeg"  # the type of the content, whatever the name said
    assert response["Content-Disposition"] == 'attachment; filename="meter photo.jpg"'


# --- Replying ---------------------------------------------------------------------------------


def test_the_answer_to_a_question_puts_the_case_back_to_work(
    me: Browser, maria: User, account: PersonalAccount, media: Path
) -> None:
    appeal = appeal_make_for(maria, account)
    operator_act(appeal, "ask", "Пришлите фото счётчика.")

    response = me.post(
        f"/appeals/{appeal.pk}/reply/",
        {"text": "Фото прилагаю.", "files": [upload("счётчик.jpg", jpeg(), "image/jpeg")]},
    )

    assertRedirects(response, f"/appeals/{appeal.pk}/", fetch_redirect_response=False)
    appeal.refresh_from_db()
    assert appeal.status == Status.IN_PROGRESS
    reply = Message.objects.latest("pk")
    assert (reply.role, reply.action, reply.text) == ("subscriber", "subscriber_reply", "Фото прилагаю.")
    assert [(a.name, a.message_id) for a in Attachment.objects.all()] == [("счётчик.jpg", reply.pk)]
    assert len(stored_files(media)) == 1
    page = text(me.get(f"/appeals/{appeal.pk}/"))
    assert "Сообщение отправлено." in page
    assert "Вы ответили: в работе" in page


@pytest.mark.parametrize(
    ("data", "field", "error"),
    [
        ({"text": "  "}, "text", "Напишите текст сообщения"),
        (
            {"text": "Фото", "files": [upload("photo.jpg", EXE, "image/jpeg")]},
            "files",
            "Файл «photo.jpg»: такой тип файла не принимается, загрузите JPEG, PNG, WebP или PDF",
        ),
        ({"text": "x" * 5001}, "text", "Текст длиннее 5000 знаков (5001): сократите его"),
    ],
    ids=["empty", "exe", "too-long"],
)
def test_a_bad_reply_is_refused_and_nothing_changes(
    me: Browser, maria: User, account: PersonalAccount, media: Path, data: dict[str, Any], field: str, error: str
) -> None:
    appeal = appeal_make_for(maria, account)
    operator_act(appeal, "ask", "Пришлите фото счётчика.")
    before = snapshot(media)

    response = me.post(f"/appeals/{appeal.pk}/reply/", data)

    assert response.status_code == 200
    assert field_error(response, field) == error
    nothing_written(media, before)
    assert Appeal.objects.get().status == Status.WAITING


# --- Rating -----------------------------------------------------------------------------------


def test_an_answer_is_rated_and_the_appeal_closed(me: Browser, maria: User, account: PersonalAccount) -> None:
    appeal = appeal_make_for(maria, account)
    operator_act(appeal, "answer", "Начислено по показанию 1234 м³.")
    form = me.get(f"/appeals/{appeal.pk}/").content.decode()
    assert f'action="/appeals/{appeal.pk}/rate/"' in form
    assert re.findall(r'name="rating" value="(\d)"', form) == ["5", "4", "3", "2", "1"]

    response = me.post(f"/appeals/{appeal.pk}/rate/", {"rating": "4", "comment": "Понятно, спасибо."})

    assertRedirects(response, f"/appeals/{appeal.pk}/", fetch_redirect_response=False)
    appeal.refresh_from_db()
    assert (appeal.status, appeal.rating, appeal.rating_comment) == ("closed", 4, "Понятно, спасибо.")
    page = text(me.get(f"/appeals/{appeal.pk}/"))
    assert "Спасибо за оценку! Обращение закрыто." in page
    assert "Ваша оценка ответа: 4 из 5. Понятно, спасибо." in page
    assert "Оцените ответ" not in page


def test_rating_an_appeal_that_is_not_answered_is_refused_and_nothing_changes(
    me: Browser, maria: User, account: PersonalAccount
) -> None:
    appeal = appeal_make_for(maria, account)
    events = Event.objects.count()

    response = me.post(f"/appeals/{appeal.pk}/rate/", {"rating": "5"})

    assert response.status_code == 409
    assert "Действие «оценить ответ» недоступно: обращение в состоянии «принято»" in text(response)
    appeal.refresh_from_db()
    assert (appeal.status, appeal.rating, appeal.rated_at) == ("new", None, None)
    assert Event.objects.count() == events


def test_a_rating_needs_a_mark(me: Browser, maria: User, account: PersonalAccount) -> None:
    appeal = appeal_make_for(maria, account)
    operator_act(appeal, "answer", "Ответ.")

    response = me.post(f"/appeals/{appeal.pk}/rate/", {"rating": "", "comment": "Без оценки"})

    assert response.status_code == 200
    assert field_error(response, "rating") == "Оцените ответ от 1 до 5"
    appeal.refresh_from_db()
    assert (appeal.status, appeal.rating, appeal.rating_comment) == ("answered", None, "")


def test_disagreeing_with_the_answer_puts_it_back_to_work(me: Browser, maria: User, account: PersonalAccount) -> None:
    appeal = appeal_make_for(maria, account)
    operator_act(appeal, "answer", "Ответ.")
    assert "Не согласны с ответом?" in text(me.get(f"/appeals/{appeal.pk}/"))

    me.post(f"/appeals/{appeal.pk}/reply/", {"text": "Ответ не про мой вопрос."})

    appeal.refresh_from_db()
    assert (appeal.status, appeal.due_on) == ("in_progress", dt.date(2026, 12, 4))


# --- Withdrawing --------------------------------------------------------------------------------


def test_withdrawing_asks_first_then_withdraws(me: Browser, maria: User, account: PersonalAccount) -> None:
    appeal = appeal_make_for(maria, account)

    question = me.get(f"/appeals/{appeal.pk}/withdraw/")

    assert question.status_code == 200
    assert "Отозвать обращение?" in text(question)
    assert Appeal.objects.get().status == "new"
    html = question.content.decode()
    assert f'<form class="form" method="post" action="/appeals/{appeal.pk}/withdraw/">' in html

    response = me.post(f"/appeals/{appeal.pk}/withdraw/")

    assertRedirects(response, f"/appeals/{appeal.pk}/", fetch_redirect_response=False)
    assert Appeal.objects.get().status == "withdrawn"
    page = me.get(f"/appeals/{appeal.pk}/")
    assert f"Обращение № {appeal.pk} отозвано." in text(page)
    assert f'action="/appeals/{appeal.pk}/reply/"' not in page.content.decode()
    assert f'href="/appeals/{appeal.pk}/withdraw/"' not in page.content.decode()


def test_a_closed_appeal_cannot_be_withdrawn(me: Browser, maria: User, account: PersonalAccount) -> None:
    appeal = appeal_make_for(maria, account)
    operator_act(appeal, "answer", "Ответ.")
    operator_act(appeal, "close")
    events = Event.objects.count()

    question = me.get(f"/appeals/{appeal.pk}/withdraw/")
    response = me.post(f"/appeals/{appeal.pk}/withdraw/")

    assert "Отозвать уже нельзя: состояние «закрыто»." in text(question)
    assert 'method="post"' not in question.content.decode().split('<main id="main"')[1]
    assert response.status_code == 409
    assert "Действие «отозвать» недоступно: обращение в состоянии «закрыто»" in text(response)
    assert Appeal.objects.get().status == "closed"
    assert Event.objects.count() == events


def test_the_pages_answer_only_their_methods(me: Browser, maria: User, account: PersonalAccount) -> None:
    appeal = appeal_make_for(maria, account)

    assert me.get(f"/appeals/{appeal.pk}/reply/").status_code == 405
    assert me.get(f"/appeals/{appeal.pk}/rate/").status_code == 405
    assert me.post(f"/appeals/{appeal.pk}/files/1/").status_code == 405
    assert me.post("/appeals/").status_code == 405
    assert counts()["messages"] == 1


def test_the_account_page_offers_an_appeal_about_the_account(me: Browser, account: PersonalAccount) -> None:
    response = me.get(f"/accounts/{account.pk}/")

    assertContains(
        response,
        f'<a class="button button--secondary" href="/appeals/new/?account={account.pk}">Написать обращение</a>',
        html=True,
    )


def test_the_menu_counts_with_one_query_and_only_for_a_subscriber(
    me: Browser, account: PersonalAccount, client: Client, supplier: Supplier
) -> None:
    with CaptureQueriesContext(connection) as subscriber:
        me.get("/profile/")
    with CaptureQueriesContext(connection) as guest:
        client.get("/")

    assert len([q for q in subscriber.captured_queries if '"appeals_appeal"' in q["sql"]]) == 1
    assert [q for q in guest.captured_queries if '"appeals_appeal"' in q["sql"]] == []
