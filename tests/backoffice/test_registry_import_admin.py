"""The back office's import of a bank registry of payments: who may, a dry run that writes
nothing, a real import that posts to the ledger and stores the file, bad lines by valid lines
and whole, files refused whole (a summary that does not add up, not text, too big, loaded
before), missing fields, the CSRF check."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse
from django.test import Client, override_settings

from abonent.core.models import AuditRecord, Supplier
from abonent.core.services import supplier_create
from abonent.customers.models import PersonalAccount
from abonent.identity.models import User
from abonent.identity.roles import ADMINISTRATOR, OPERATOR, SENIOR_OPERATOR
from abonent.ledger.enums import EntryKind
from abonent.ledger.models import LedgerEntry
from abonent.payments.models import RegistryFile, RegistryLine
from tests.conftest import SUPPLIER_MOSCOW
from tests.factories import account_make

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)  # 12:00 in Moscow
FILES = "/backoffice/payments/registryfile/"
IMPORT = f"{FILES}import/"
LINES = "/backoffice/payments/registryline/"
NUMBER = "770000000001"
SECOND = "770000000002"
NBSP = "\u00a0"
NNBSP = "\u202f"
LINE_1 = f"05.11.2026;14:23:05;{NUMBER};1250,50;10.2026;Иванова Мария;8800123456"
LINE_2 = f"06.11.2026;09:10:00;{SECOND};2501,00;;Петров Иван;8800123457"
UNKNOWN = "07.11.2026;10:00:00;770000000099;100,00;10.2026;Сидоров Пётр;8800123458"
NOT_ACCOUNT = "07.11.2026;10:05:00;12345;50,00;10.2026;Смирнов;8800123459"


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> dt.datetime:
    monkeypatch.setattr("abonent.core.clock.now", lambda: NOW)
    return NOW


def staff(role: str | None, username: str = "op", *, permissions: tuple[str, ...] = (), **options: Any) -> Client:
    """A logged-in browser of a member of staff in the group of ``role`` (None: in no group)."""
    member = User.objects.create(username=username, is_staff=True, first_name="Ольга", last_name="Смирнова")
    if role is not None:
        member.groups.add(Group.objects.get(name=role))
    member.user_permissions.add(*Permission.objects.filter(codename__in=permissions))
    client = Client(**options)
    client.force_login(member)
    return client


def registry(*lines: str, summary: str | None = None, encoding: str = "cp1251") -> bytes:
    """A registry of ``lines`` with its summary line (made to add up unless given)."""
    if summary is None:
        total = sum(Decimal(line.split(";")[3].replace(",", ".")) for line in lines)
        summary = f"={len(lines)};{total:.2f}".replace(".", ",")
    return "\r\n".join([*lines, summary, ""]).encode(encoding)


def upload(
    client: Client,
    content: bytes,
    *,
    supplier: Supplier | None,
    apply: bool = False,
    mode: str = "valid_lines",
    source: str = "sber",
    name: str = "reestr_20261106.txt",
    button: bool = True,
) -> HttpResponse:
    fields: dict[str, Any] = {
        "supplier": supplier.pk if supplier is not None else "",
        "source": source,
        "profile": "default",
        "mode": mode,
        "file": SimpleUploadedFile(name, content, content_type="text/plain"),
    }
    if button:
        fields["apply" if apply else "check"] = "1"
    response: HttpResponse = client.post(IMPORT, fields)
    return response


def text(response: HttpResponse) -> str:
    """The page with its layout's line breaks and indents as single spaces."""
    return re.sub(r"\s+", " ", response.content.decode())


def rows(response: HttpResponse) -> list[tuple[int, str, str]]:
    return [(row.number, row.status, row.message) for row in response.context["report"].rows]


def nothing_written() -> None:
    assert not RegistryFile.objects.exists()
    assert not RegistryLine.objects.exists()
    assert not LedgerEntry.objects.exists()
    assert not AuditRecord.objects.filter(action="registry_import").exists()


@pytest.fixture
def accounts(supplier: Supplier) -> list[PersonalAccount]:
    return [account_make(supplier=supplier, number=NUMBER), account_make(supplier=supplier, number=SECOND)]


@pytest.fixture
def operator() -> Client:
    return staff(OPERATOR)


# --- Who may ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [OPERATOR, SENIOR_OPERATOR, ADMINISTRATOR])
def test_every_operator_role_imports_registries(supplier: Supplier, role: str) -> None:
    client = staff(role)

    files = client.get(FILES)
    page = client.get(IMPORT)

    assert f'<a href="{IMPORT}" class="addlink">Загрузить реестр</a>' in files.content.decode()
    assert page.status_code == 200
    html = page.content.decode()
    for name in ("supplier", "source", "profile", "mode", "file", "check", "apply"):
        assert f'name="{name}"' in html, name
    assert 'enctype="multipart/form-data"' in html
    assert 'role="radiogroup" aria-labelledby="id_mode_label"' in html
    form = page.context["form"]
    assert list(form.fields["supplier"].queryset) == [supplier]
    assert form.fields["supplier"].initial == supplier.pk  # the only one: chosen already
    assert form.fields["profile"].choices == [("default", "Стандартный")]
    assert form.fields["mode"].initial == "valid_lines"
    assert "add_registryfile" in Group.objects.get(name=role).permissions.values_list("codename", flat=True)


def test_who_only_views_payments_gets_no_button_and_403(supplier: Supplier, accounts: list[PersonalAccount]) -> None:
    client = staff(None, permissions=("view_registryfile", "view_registryline", "view_payment"))

    files = client.get(FILES)

    assert files.status_code == 200
    assert "Загрузить реестр" not in files.content.decode()
    assert client.get(IMPORT).status_code == 403
    assert upload(client, registry(LINE_1), supplier=supplier, apply=True).status_code == 403
    nothing_written()


def test_a_subscriber_is_sent_to_the_back_office_login(supplier: Supplier) -> None:
    client = Client()
    client.force_login(User.objects.create(username="maria", phone="+79161234567"))

    response = client.get(IMPORT)

    assert response.status_code == 302
    assert response["Location"].startswith("/backoffice/login/?next=")


def test_only_active_suppliers_are_offered(operator: Client, supplier: Supplier) -> None:
    closed = supplier_create(**{**SUPPLIER_MOSCOW, "code": "old", "short_name": "Старый поставщик"})
    closed.is_active = False
    closed.save()
    yantar = supplier_create(**{**SUPPLIER_MOSCOW, "code": "yantar", "short_name": "Янтарьгаз"})

    form = operator.get(IMPORT).context["form"]
    refused = upload(operator, registry(LINE_1), supplier=closed)

    assert list(form.fields["supplier"].queryset) == [supplier, yantar]
    assert form.fields["supplier"].initial is None  # two: the operator chooses
    assert list(refused.context["form"].errors) == ["supplier"]
    nothing_written()


# --- A dry run, then the import -------------------------------------------------------------


def test_a_dry_run_shows_the_report_and_writes_nothing(operator: Client, supplier: Supplier, accounts: Any) -> None:
    response = upload(operator, registry(LINE_1, LINE_2), supplier=supplier)

    assert response.status_code == 200
    report = response.context["report"]
    assert (report.dry_run, report.applied, report.lines, report.duplicates, report.failed) == (True, False, 2, 0, 0)
    assert report.posted_label == "Будет проведено"
    assert report.posted == f"2 на сумму 3{NNBSP}751,50{NBSP}₽"
    assert report.summary == f"сошлась: платежей 2 на сумму 3{NNBSP}751,50{NBSP}₽"
    assert report.verdict == (
        "Проверка: ошибок нет, ничего не проведено. Нажмите «Загрузить», чтобы провести платежи: 2 на сумму "
        f"3{NNBSP}751,50{NBSP}₽."
    )
    assert report.level == "success"
    assert (report.rows, report.file_url, report.lines_url) == ([], None, None)
    page = text(response)
    assert "Отчёт по файлу reestr_20261106.txt" in page
    assert "Загруженный реестр" not in page
    assert response.context["form"]["source"].value() == "sber"  # the choices stay for «Загрузить»
    nothing_written()


def test_pressing_enter_checks_the_file(operator: Client, supplier: Supplier, accounts: Any) -> None:
    response = upload(operator, registry(LINE_1), supplier=supplier, button=False)

    assert response.context["report"].dry_run is True
    nothing_written()


def test_the_import_posts_the_payments_and_stores_the_file(operator: Client, supplier: Supplier, accounts: Any) -> None:
    response = upload(operator, registry(LINE_1, LINE_2), supplier=supplier, apply=True, source=" Sber ")

    report = response.context["report"]
    stored = RegistryFile.objects.get()
    assert (report.applied, report.dry_run, report.lines, report.failed) == (True, False, 2, 0)
    assert report.verdict == f"Реестр загружен: проведено платежей 2 на сумму 3{NNBSP}751,50{NBSP}₽."
    assert report.posted_label == "Проведено"
    assert (stored.source, stored.name, stored.supplier, stored.loaded_at, stored.loaded_by) == (
        "sber",
        "reestr_20261106.txt",
        supplier,
        NOW,
        User.objects.get(username="op"),
    )
    assert (stored.lines_total, stored.lines_posted, stored.amount_posted) == (2, 2, Decimal("1250.50") + 2501)
    entries = LedgerEntry.objects.order_by("source_key")
    assert [(e.account.number, e.kind, e.amount, e.posted_on, e.source_key) for e in entries] == [
        (NUMBER, EntryKind.PAYMENT, Decimal("-1250.50"), dt.date(2026, 11, 5), "registry:sber:8800123456"),
        (SECOND, EntryKind.PAYMENT, Decimal("-2501.00"), dt.date(2026, 11, 6), "registry:sber:8800123457"),
    ]
    assert report.file_url == f"{FILES}{stored.pk}/change/"
    assert report.lines_url == f"{LINES}?file__id__exact={stored.pk}"
    assert report.failed_url is None
    page = response.content.decode()
    assert f'<a href="{FILES}{stored.pk}/change/">Загруженный реестр</a>' in page
    assert f'<a href="{LINES}?file__id__exact={stored.pk}">Все строки реестра</a>' in page
    audit = AuditRecord.objects.get(action="registry_import")
    assert (audit.actor_id, audit.channel, audit.object_id) == (stored.loaded_by_id, "backoffice", str(stored.pk))
    assert operator.get(report.file_url).status_code == 200


def test_a_payment_in_a_later_file_is_a_repeat(operator: Client, supplier: Supplier, accounts: Any) -> None:
    upload(operator, registry(LINE_1), supplier=supplier, apply=True, name="first.txt")

    response = upload(operator, registry(LINE_1, LINE_2), supplier=supplier, apply=True, name="corrected.txt")

    report = response.context["report"]
    assert (report.lines, report.duplicates, report.failed) == (2, 1, 0)
    assert rows(response) == [(1, "повтор", "повтор: платёж 8800123456 уже проведён (файл first.txt, строка 1)")]
    assert "Повтор: платёж 8800123456 уже проведён" in response.content.decode()  # capitalised in the table
    assert LedgerEntry.objects.count() == 2


# --- Bad lines ------------------------------------------------------------------------------

UNKNOWN_ERROR = "лицевого счёта 770000000099 нет у поставщика gaz-msk"
NOT_ACCOUNT_ERROR = "лицевой счёт «12345» — не 12 цифр"


def test_valid_lines_post_the_good_lines_and_report_the_rest(
    operator: Client, supplier: Supplier, accounts: Any
) -> None:
    content = registry(LINE_1, UNKNOWN, LINE_2, NOT_ACCOUNT)

    dry = upload(operator, content, supplier=supplier)
    nothing_written()
    response = upload(operator, content, supplier=supplier, apply=True)

    assert dry.context["report"].verdict == (
        "Проверка: ничего не проведено. При загрузке будут проведены платежи: 2 на сумму "
        f"3{NNBSP}751,50{NBSP}₽; строки с ошибками (2) будут пропущены."
    )
    assert rows(dry) == [(2, "ошибка", UNKNOWN_ERROR), (4, "ошибка", NOT_ACCOUNT_ERROR)]
    report = response.context["report"]
    assert (report.applied, report.lines, report.failed, report.level) == (True, 4, 2, "warning")
    assert report.verdict == (
        f"Реестр загружен, проведены верные строки: платежей 2 на сумму 3{NNBSP}751,50{NBSP}₽. Строки с ошибками "
        "(2) не проведены: попросите банк прислать их исправленными — проведённые платежи при этом не повторятся."
    )
    assert rows(response) == [(2, "ошибка", UNKNOWN_ERROR), (4, "ошибка", NOT_ACCOUNT_ERROR)]
    stored = RegistryFile.objects.get()
    assert report.failed_url == f"{LINES}?file__id__exact={stored.pk}&status__exact=failed"
    assert (stored.lines_posted, stored.lines_failed) == (2, 2)
    assert list(RegistryLine.objects.order_by("line_no").values_list("line_no", "status")) == [
        (1, "posted"),
        (2, "failed"),
        (3, "posted"),
        (4, "failed"),
    ]
    assert LedgerEntry.objects.count() == 2
    page = text(response)
    assert '<tr class="line-error"> <td class="number">2</td> <td>ошибка</td>' in page
    assert "Лицевого счёта 770000000099 нет у поставщика gaz-msk" in page
    failed = operator.get(report.failed_url)
    assert [line.line_no for line in failed.context["cl"].result_list] == [2, 4]


def test_the_whole_file_with_a_bad_line_posts_nothing(operator: Client, supplier: Supplier, accounts: Any) -> None:
    content = registry(LINE_1, UNKNOWN, LINE_2)

    dry = upload(operator, content, supplier=supplier, mode="whole")
    response = upload(operator, content, supplier=supplier, mode="whole", apply=True)

    assert dry.context["report"].verdict == (
        "Проверка: ничего не проведено. Строк с ошибками — 1: в режиме «весь файл» реестр не загрузится, пока они не "
        f"исправлены. В режиме «верные строки» будут проведены платежи: 2 на сумму 3{NNBSP}751,50{NBSP}₽."
    )
    assert dry.context["report"].posted_label == "Будет проведено в режиме «верные строки»"
    report = response.context["report"]
    assert (report.applied, report.dry_run, report.failed, report.level) == (False, False, 1, "error")
    assert report.verdict == (
        "Реестр не загружен, ничего не проведено: строк с ошибками — 1. Попросите банк исправить их или загрузите "
        "файл в режиме «верные строки»."
    )
    assert report.posted_label == "Верные строки, не проведены"
    assert rows(response) == [(2, "ошибка", UNKNOWN_ERROR)]
    assert (report.file_url, report.lines_url) == (None, None)
    assert "Весь файл — только если в нём нет ни одной ошибки" in text(response)
    nothing_written()


def test_a_clean_file_is_loaded_whole(operator: Client, supplier: Supplier, accounts: Any) -> None:
    response = upload(operator, registry(LINE_1, LINE_2), supplier=supplier, mode="whole", apply=True)

    assert response.context["report"].applied is True
    assert LedgerEntry.objects.count() == 2


# --- Files refused whole --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (
            registry(LINE_1, LINE_2, summary="=2;3751,00"),
            f"Итоговая строка не сходится с файлом: в ней 2 платежей на 3{NNBSP}751,00{NBSP}₽, в файле — 2 на "
            f"3{NNBSP}751,50{NBSP}₽. Файл не загружен: попросите банк прислать его снова",
        ),
        (
            registry(LINE_1, summary=""),
            "В конце файла нет итоговой строки «=количество;сумма»: файл мог быть обрезан. Попросите банк прислать "
            "его снова",
        ),
        (
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x98\x98",
            "Файл не читается как текст в кодировке UTF-8 или Windows-1251",
        ),
        (b"", "Файл пуст"),
    ],
)
def test_a_file_that_cannot_be_imported_is_refused_next_to_the_file(
    operator: Client, supplier: Supplier, accounts: Any, content: bytes, error: str
) -> None:
    response = upload(operator, content, supplier=supplier, apply=True)

    assert response.status_code == 200
    assert response.context["report"] is None
    assert response.context["form"].errors == {"file": [error]}
    assert error in response.content.decode()
    nothing_written()


def test_a_file_too_big_is_dropped_as_it_arrives(operator: Client, supplier: Supplier, accounts: Any) -> None:
    content = registry(LINE_1) + b" " * 2**20

    with override_settings(PAYMENT_REGISTRY_MAX_MB=1):
        response = upload(operator, content, supplier=supplier, apply=True, source="vtb")

    assert response.status_code == 200
    assert response.context["report"] is None
    assert response.context["form"].errors == {"file": ["Файл больше 1 МБ: разделите его на части"]}
    assert not response.wsgi_request.FILES  # dropped as it arrived, not kept and then measured
    assert response.context["form"]["source"].value() == "vtb"  # the fields before the file are kept
    assert "Файл больше 1 МБ: разделите его на части" in response.content.decode()
    nothing_written()


def test_the_same_file_twice_is_refused_with_a_link_to_the_first(
    operator: Client, supplier: Supplier, accounts: Any
) -> None:
    content = registry(LINE_1, LINE_2)
    upload(operator, content, supplier=supplier, apply=True)
    first = RegistryFile.objects.get()

    again = upload(operator, content, supplier=supplier, apply=True, name="copy.txt")
    checked = upload(operator, content, supplier=supplier, name="copy.txt")

    for response in (again, checked):
        assert response.context["report"] is None
        assert response.context["form"].errors == {
            "file": [
                "Этот файл уже загружен 20.11.2026 12:00: проведено строк 2. "
                f'<a href="{FILES}{first.pk}/change/">Открыть загруженный реестр</a>'
            ]
        }
        page = text(response)
        assert "Ничего не проведено — причина отмечена ниже." in page
        assert f'<a href="{FILES}{first.pk}/change/">Открыть загруженный реестр</a>' in page
    assert RegistryFile.objects.count() == 1
    assert LedgerEntry.objects.count() == 2


# --- The form -------------------------------------------------------------------------------


def test_missing_fields_are_named_and_nothing_is_written(operator: Client, supplier: Supplier) -> None:
    response = operator.post(IMPORT, {"mode": "valid_lines", "profile": "default", "apply": "1"})

    assert response.status_code == 200
    assert response.context["report"] is None
    assert response.context["form"].errors == {
        "supplier": ["Выберите поставщика"],
        "source": ["Укажите код банка или агента, например sber"],
        "file": ["Выберите файл реестра"],
    }
    nothing_written()


def test_a_bank_code_that_cannot_be_one_is_refused_next_to_it(operator: Client, supplier: Supplier) -> None:
    response = upload(operator, registry(LINE_1), supplier=supplier, source="Сбербанк", apply=True)

    assert response.context["form"].errors == {
        "source": ["Код банка или агента — латинские буквы, цифры, «-», «_» или «.», до 64 знаков, например sber"]
    }
    nothing_written()


def test_a_format_that_is_not_there_is_refused(operator: Client, supplier: Supplier) -> None:
    response = operator.post(
        IMPORT,
        {
            "supplier": supplier.pk,
            "source": "sber",
            "profile": "agent",
            "mode": "valid_lines",
            "file": SimpleUploadedFile("r.txt", registry(LINE_1)),
        },
    )

    assert list(response.context["form"].errors) == ["profile"]
    nothing_written()


@override_settings(
    PAYMENT_REGISTRY_PROFILES='{"agent": {"columns": ["reference", "date", "account", "amount"], "delimiter": ","}}'
)
def test_the_formats_of_the_settings_are_offered(operator: Client, supplier: Supplier, accounts: Any) -> None:
    form = operator.get(IMPORT).context["form"]
    response = operator.post(
        IMPORT,
        {
            "supplier": supplier.pk,
            "source": "agent-1",
            "profile": "agent",
            "mode": "valid_lines",
            "file": SimpleUploadedFile("agent.csv", f"A-1,05.11.2026,{NUMBER},100.00\n=1,100.00\n".encode()),
            "apply": "1",
        },
    )

    assert form.fields["profile"].choices == [("default", "Стандартный"), ("agent", "agent")]
    assert response.context["form"].errors == {}
    assert response.context["report"].profile == "agent"
    assert LedgerEntry.objects.get().source_key == "registry:agent-1:A-1"


@override_settings(PAYMENT_REGISTRY_PROFILES="{not json")
def test_formats_set_wrong_are_reported_at_the_format(operator: Client, supplier: Supplier) -> None:
    response = upload(operator, registry(LINE_1), supplier=supplier, apply=True)

    (error,) = response.context["form"].errors["profile"]
    assert error.startswith("Форматы реестров настроены с ошибкой: PAYMENT_REGISTRY_PROFILES is not JSON")
    assert error.endswith("Сообщите администратору")
    nothing_written()


def test_the_import_checks_the_csrf_token(supplier: Supplier, accounts: Any) -> None:
    client = staff(OPERATOR, enforce_csrf_checks=True)

    response = upload(client, registry(LINE_1), supplier=supplier, apply=True)

    assert response.status_code == 403
    nothing_written()
