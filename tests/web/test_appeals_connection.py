"""Applications for connection of a house to the gas network on the portal: the form with a
file input for each document, the application with its details and documents, its stages
with the day each was reached, and the applications refused — a document missing, a bad
cadastral number or consumption, no use of gas, a bad file — with nothing written.

NOW is Sunday 22.11.2026, 12:00 in Moscow; the documents are checked within 3 working days
(by 25.11.2026), the contract sent within 10 working days of the check."""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.http import HttpResponse
from pytest_django.asserts import assertContains, assertRedirects

from abonent.appeals import services
from abonent.appeals.models import Appeal, Attachment, ConnectionDetails
from abonent.core.models import Supplier
from abonent.identity.models import User
from tests.web.appeals_data import (
    EXE,
    field_error,
    input_tag,
    jpeg,
    nothing_written,
    operator_act,
    pdf,
    stored_files,
    text,
    upload,
)
from tests.web.html import heading_levels, headings_in_order, inline_code
from tests.web.identity import NOW, PASSWORD, PHONE, Browser, user_make

pytestmark = pytest.mark.django_db

DOCUMENTS = ("land_title", "house_title", "passport", "site_plan")


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def maria(db: None) -> User:
    return user_make(first_name="Мария", last_name="Иванова", middle_name="Петровна")


@pytest.fixture
def me(browser: Browser, maria: User, supplier: Supplier) -> Browser:
    response = browser.post("/login/", {"login": PHONE, "password": PASSWORD})
    assert response.status_code == 302
    return browser


def documents(**replace: Any) -> dict[str, Any]:
    files: dict[str, Any] = {
        "document_land_title": [upload("егрн участок.pdf", pdf(), "application/pdf")],
        "document_house_title": [upload("егрн дом.pdf", pdf(), "application/pdf")],
        "document_passport": [upload("паспорт 1.jpg", jpeg()), upload("паспорт 2.jpg", jpeg())],
        "document_site_plan": [upload("план.jpg", jpeg())],
    }
    files.update(replace)
    return {name: value for name, value in files.items() if value is not None}


def apply(browser: Browser, supplier: Supplier, **data: Any) -> HttpResponse:
    form: dict[str, Any] = {
        "supplier_id": str(supplier.pk),
        "program": "dogazification",
        "applicant_name": "Иванова Мария Петровна",
        "applicant_phone": "8 (912) 345-67-89",
        "object_address": "Московская обл., г. Подольск, ул. Лесная, д. 5",
        "land_cadastral_number": "50:27:0020101:123",
        "house_cadastral_number": "50:27:0020101:456",
        "max_hourly_m3": "5,5",
        "usages": ["cooking", "heating"],
        "comment": "",
        "notify_channel": "sms",
        **documents(),
        **data,
    }
    return browser.post("/connection/new/", form)


def test_the_form_asks_for_each_document_and_explains_the_simplified_case(me: Browser) -> None:
    response = me.get("/connection/new/")

    assert response.status_code == 200
    html = response.content.decode()
    for name in (*DOCUMENTS, "other"):
        tag = input_tag(html, f"document_{name}")
        assert 'type="file"' in tag
        assert "multiple" in tag
        assert 'accept="image/jpeg,image/png,image/webp,application/pdf"' in tag
    page = text(response)
    for label in (
        "Документ о праве на земельный участок",
        "Документ о праве на дом",
        "Паспорт заявителя",
        "Ситуационный план",
        "Другие документы",
    ):
        assert label.lower() in page.lower()
    assert "До 7 м³/ч — упрощённый порядок: расчёт расхода не нужен." in page.replace("\u00a0", " ")
    assert re.findall(r'name="usages" value="(\w+)"', html) == ["cooking", "water_heating", "heating", "other"]
    assert re.findall(r'name="program" value="(\w+)"', html) == ["dogazification", "paid"]
    assert 'value="dogazification" class="choice__input" id="id_program_0" checked' in html
    assert 'value="Иванова Мария Петровна"' in input_tag(html, "applicant_name")  # from the profile
    assert 'value="+79123456789"' in input_tag(html, "applicant_phone")
    assert 'enctype="multipart/form-data"' in html
    assert inline_code(html) == []
    assert headings_in_order(heading_levels(html))


def test_an_application_with_its_documents_is_sent(me: Browser, maria: User, supplier: Supplier, media: Path) -> None:
    response = apply(me, supplier, comment="Газ есть на соседней улице.")

    appeal = Appeal.objects.get()
    assertRedirects(response, f"/appeals/{appeal.pk}/", fetch_redirect_response=False)
    assert (appeal.kind, appeal.category, appeal.status, appeal.user) == ("connection", "connection", "new", maria)
    assert (appeal.supplier, appeal.account, appeal.due_on) == (supplier, None, dt.date(2026, 11, 25))
    details = ConnectionDetails.objects.get()
    assert (details.program, details.applicant_name, details.applicant_phone) == (
        "dogazification",
        "Иванова Мария Петровна",
        "+79123456789",
    )
    assert (details.land_cadastral_number, details.house_cadastral_number) == ("50:27:0020101:123", "50:27:0020101:456")
    assert (details.max_hourly_m3, details.usages, details.simplified) == (Decimal("5.5"), ["cooking", "heating"], True)
    assert sorted(Attachment.objects.values_list("document_kind", "name")) == [
        ("house_title", "егрн дом.pdf"),
        ("land_title", "егрн участок.pdf"),
        ("passport", "паспорт 1.jpg"),
        ("passport", "паспорт 2.jpg"),
        ("site_plan", "план.jpg"),
    ]
    assert len(stored_files(media)) == 5
    assert appeal.messages.get().text == "Газ есть на соседней улице."

    page = text(me.get(f"/appeals/{appeal.pk}/"))
    assert f"Заявка № {appeal.pk} подана. Ответим до 25.11.2026." in page
    assert "Кадастровый номер участка: 50:27:0020101:123" in page
    assert "Максимальный часовой расход: 5,5 м³/ч (упрощённый порядок)" in page.replace("\u00a0", " ")
    assert "Для чего нужен газ: Приготовление пищи, отопление" in page
    assert "егрн участок.pdf документ о праве на земельный участок" in page


def test_the_stages_are_shown_with_the_day_each_was_reached(me: Browser, supplier: Supplier) -> None:
    apply(me, supplier)
    appeal = Appeal.objects.get()
    operator_act(appeal, "check", at=dt.datetime(2026, 11, 24, 8, tzinfo=dt.UTC))
    operator_act(appeal, "send_contract", at=dt.datetime(2026, 11, 30, 8, tzinfo=dt.UTC))

    response = me.get(f"/appeals/{appeal.pk}/")

    html = response.content.decode()
    stages = re.findall(r'<li class="stage stage--(\w+)"[^>]*>(.*?)</li>', html, re.S)
    shown = [(state, re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)).strip()) for state, body in stages]
    assert shown == [
        ("done", "Заявка подана 22.11.2026"),
        ("done", "Заявка проверена 24.11.2026"),
        ("current", "Договор направлен 30.11.2026 сейчас"),
        ("ahead", "Выполняются работы"),
        ("ahead", "Газ пущен"),
    ]
    assert '<li class="stage stage--current" aria-current="step">' in html
    assert "Следующий этап" not in text(response)  # the contract is with the applicant: no term runs


def test_a_checked_application_says_by_when_the_contract_comes(me: Browser, supplier: Supplier) -> None:
    apply(me, supplier)
    appeal = Appeal.objects.get()
    operator_act(appeal, "check", at=dt.datetime(2026, 11, 24, 8, tzinfo=dt.UTC))

    assert "Следующий этап — до 08.12.2026" in text(me.get(f"/appeals/{appeal.pk}/")).replace("\u00a0", " ")


def test_an_application_can_be_withdrawn(me: Browser, supplier: Supplier) -> None:
    apply(me, supplier)
    appeal = Appeal.objects.get()

    assert "Отозвать заявку?" in text(me.get(f"/appeals/{appeal.pk}/withdraw/"))
    me.post(f"/appeals/{appeal.pk}/withdraw/")

    assert Appeal.objects.get().status == "withdrawn"
    assert f"Заявка № {appeal.pk} отозвана." in text(me.get(f"/appeals/{appeal.pk}/"))


@pytest.mark.parametrize(
    ("data", "field", "error"),
    [
        (
            documents(document_passport=None, document_site_plan=None),
            "files",
            "Приложите: паспорт заявителя, ситуационный план",
        ),
        (
            {"land_cadastral_number": "50-27-123", "house_cadastral_number": ""},
            "land_cadastral_number",
            "Кадастровый номер участка записывается так: 50:21:0110501:123",
        ),
        (
            {"house_cadastral_number": "дом 5"},
            "house_cadastral_number",
            "Кадастровый номер дома записывается так: 50:21:0110501:123",
        ),
        (
            {"max_hourly_m3": "0"},
            "max_hourly_m3",
            "Укажите расход числом больше 0 и не больше 500 м³/ч, например 5 или 6,5",
        ),
        (
            {"max_hourly_m3": "пять"},
            "max_hourly_m3",
            "Укажите расход числом больше 0 и не больше 500 м³/ч, например 5 или 6,5",
        ),
        ({"usages": []}, "usages", "Отметьте, для чего будет использоваться газ"),
        ({"applicant_name": " "}, "applicant_name", "Укажите фамилию, имя и отчество заявителя"),
        ({"object_address": ""}, "object_address", "Укажите адрес дома, который нужно подключить"),
        ({"program": "free"}, "program", "Выберите: догазификация или технологическое присоединение"),
        ({"supplier_id": ""}, "supplier_id", "Выберите поставщика газа из списка"),
        (
            documents(document_passport=[upload("паспорт.jpg", EXE)]),
            "files",
            "Файл «паспорт.jpg»: такой тип файла не принимается, загрузите JPEG, PNG, WebP или PDF",
        ),
        (
            documents(document_other=[upload(f"фото-{n}.jpg", jpeg()) for n in range(6)]),
            "files",
            "Можно приложить не больше 10 файлов за раз, выбрано 11",
        ),
    ],
    ids=[
        "documents-missing",
        "land-cadastral",
        "house-cadastral",
        "hourly-zero",
        "hourly-words",
        "no-usage",
        "no-name",
        "no-address",
        "unknown-program",
        "no-supplier",
        "exe-as-passport",
        "11-files",
    ],
)
def test_a_wrong_application_is_refused_next_to_the_field_with_nothing_written(
    me: Browser, supplier: Supplier, media: Path, data: dict[str, Any], field: str, error: str
) -> None:
    form = {**data}
    if "document_land_title" in data:  # the documents are replaced as a whole
        for name in ("document_land_title", "document_house_title", "document_passport", "document_site_plan"):
            form.setdefault(name, [])
    response = apply(me, supplier, **form)

    assert response.status_code == 200
    assert error in field_error(response, field).replace("\u00a0", " ")
    nothing_written(media)


def test_the_documents_error_is_linked_to_their_group(me: Browser, supplier: Supplier, media: Path) -> None:
    response = apply(me, supplier, document_site_plan=[])

    html = response.content.decode()
    assert '<fieldset class="fieldset documents field--error" id="id_files" tabindex="-1">' in html
    assert '<a href="#id_files">Приложите: ситуационный план</a>' in html
    assert "Если вы прикладывали файлы, выберите их ещё раз" in text(response)
    assertContains(response, 'value="50:27:0020101:123"')  # what was typed is kept
    nothing_written(media)


def test_another_persons_application_is_not_found(me: Browser, supplier: Supplier, media: Path) -> None:
    other = user_make(phone="+79165550000")
    scan = pdf()
    theirs = services.connection_apply(
        user=other,
        request=services.ConnectionRequest(
            supplier_id=supplier.pk,
            program="paid",
            applicant_name="Чужой Заявитель",
            applicant_phone="+79165550000",
            object_address="Чужой адрес",
            land_cadastral_number="50:27:0020101:1",
            house_cadastral_number="50:27:0020101:2",
            max_hourly_m3="12",
            usages=["heating"],
        ),
        files=[services.NewFile(f"{kind}.pdf", io.BytesIO(scan), len(scan), kind) for kind in DOCUMENTS],
        channel="web",
        now=NOW,
    )
    file = Attachment.objects.filter(appeal=theirs).first()
    assert file is not None

    for answer in (
        me.get(f"/appeals/{theirs.pk}/"),
        me.get(f"/appeals/{theirs.pk}/files/{file.pk}/"),
        me.post(f"/appeals/{theirs.pk}/withdraw/"),
    ):
        assert answer.status_code == 404
        assert "Чужой" not in answer.content.decode()
    assert Appeal.objects.get().status == "new"
