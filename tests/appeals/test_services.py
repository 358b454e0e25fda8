"""Writing an appeal and the files of a thread: every bad field reported at once, every bad
file refused by its content, and nothing — no row, no stored file, no message — left behind
by a refusal or by a failure half-way."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import FileSystemStorage
from django.db import DatabaseError, connection
from pytest_django.fixtures import Settings

from abonent.appeals import policy
from abonent.appeals.enums import ACCOUNT_CATEGORIES, Category, DocumentKind, NotifyChannel, Role, Status
from abonent.appeals.models import Appeal, Attachment, Event, Message
from abonent.appeals.services import appeal_create, appeal_operator_act, appeal_reply
from abonent.core.errors import ValidationFailed
from abonent.core.models import AuditRecord, Supplier
from abonent.customers.services import AccountNotFound
from abonent.identity.models import User
from tests.appeals.factories import (
    NO_ROWS,
    NOW,
    account_linked,
    appeal_make,
    applicant_make,
    at,
    new_file,
    rows,
    stored_files,
)
from tests.core import files

pytestmark = pytest.mark.django_db

TEXT = "Прошу пересчитать начисление за октябрь: показания 01234 переданы 20.10.2026."
ACCEPTED = "JPEG, PNG, WebP или PDF"


def create(user: User, **fields: Any) -> Appeal:
    values: dict[str, Any] = {
        "category": Category.OTHER,
        "text": TEXT,
        "account_id": None,
        "channel": "web",
        "now": NOW,
        **fields,
    }
    return appeal_create(user=user, **values)


def assert_nothing_written(media: Path) -> None:
    assert rows() == NO_ROWS
    assert stored_files(media) == []


# --- A good appeal -----------------------------------------------------------------------


def test_an_appeal_about_an_account_with_files(supplier: Supplier, applicant: User, media: Path) -> None:
    account = account_linked(user=applicant, supplier=supplier)
    photo, receipt = files.jpeg(), files.pdf(2)

    appeal = create(
        applicant,
        category=Category.CHARGE,
        text=f"  {TEXT}\n",
        account_id=account.pk,
        supplier_id=None,
        files=[new_file(photo, "../../x.PNG"), new_file(receipt, "C:\\Documents\\Квитанция\x07 за октябрь.pdf")],
        notify_channel=NotifyChannel.EMAIL,
    )

    assert Appeal.objects.values().get(pk=appeal.pk) == {
        "id": appeal.pk,
        "kind": "appeal",
        "category": "charge",
        "supplier_id": supplier.pk,
        "account_id": account.pk,
        "user_id": applicant.pk,
        "guest_name": "",
        "guest_contact": "",
        "summary": TEXT,
        "status": "new",
        "status_before_waiting": "",
        "assignee_id": None,
        "channel": "web",
        "notify_channel": "email",
        "created_at": NOW,
        "status_changed_at": NOW,
        "due_on": at(days=14).date(),  # 10 working days from Monday 23.11.2026: Monday 07.12.2026
        "days_left_paused": None,
        "closed_at": None,
        "subscriber_unread": False,
        "rating": None,
        "rating_comment": "",
        "rated_at": None,
    }
    [message] = Message.objects.filter(appeal=appeal)
    assert (message.author, message.role, message.action, message.text, message.created_at) == (
        applicant,
        Role.SUBSCRIBER,
        "create",
        TEXT,
        NOW,
    )
    first, second = Attachment.objects.filter(appeal=appeal).order_by("pk")
    for attachment, content, name, extension, mime in (
        (first, photo, "x.jpg", "jpg", "image/jpeg"),
        (second, receipt, "Квитанция_ за октябрь.pdf", "pdf", "application/pdf"),
    ):
        assert re.fullmatch(rf"appeals/{appeal.pk}/[0-9a-f]{{32}}\.{extension}", attachment.file.name)
        assert {
            "message": attachment.message_id,
            "document_kind": attachment.document_kind,
            "name": attachment.name,
            "mime": attachment.mime,
            "size": attachment.size,
            "sha256": attachment.sha256,
            "role": attachment.role,
            "uploaded_by": attachment.uploaded_by_id,
            "created_at": attachment.created_at,
        } == {
            "message": message.pk,
            "document_kind": DocumentKind.OTHER,
            "name": name,
            "mime": mime,
            "size": len(content),
            "sha256": hashlib.sha256(content).hexdigest(),
            "role": Role.SUBSCRIBER,
            "uploaded_by": applicant.pk,
            "created_at": NOW,
        }
        assert (media / attachment.file.name).read_bytes() == content
    assert first.file.name != second.file.name
    assert stored_files(media) == sorted([first.file.name, second.file.name])
    assert list(
        Event.objects.filter(appeal=appeal).values_list(
            "at", "actor", "role", "action", "channel", "old_status", "new_status"
        )
    ) == [(NOW, applicant.pk, Role.SUBSCRIBER, "create", "web", "", Status.NEW)]
    assert list(
        AuditRecord.objects.filter(object_type="appeal", object_id=str(appeal.pk)).values_list(
            "at", "actor_id", "channel", "action", "before", "after"
        )
    ) == [(NOW, applicant.pk, "web", "appeal.create", None, {"status": "new"})]
    assert rows()["deliveries"] == 0  # the applicant is told of the operators' steps, not of their own


def test_an_appeal_not_about_an_account_goes_to_the_supplier_chosen(supplier: Supplier, applicant: User) -> None:
    appeal = create(applicant, category=Category.EQUIPMENT, supplier_id=supplier.pk)

    assert (appeal.supplier, appeal.account, appeal.category, appeal.notify_channel, appeal.due_on) == (
        supplier,
        None,
        Category.EQUIPMENT,
        NotifyChannel.PORTAL,
        at(days=14).date(),
    )
    assert Attachment.objects.count() == 0


def test_the_account_names_the_supplier_whatever_supplier_is_sent(
    supplier: Supplier, supplier_kld: Supplier, applicant: User
) -> None:
    account = account_linked(user=applicant, supplier=supplier)

    appeal = create(applicant, category=Category.OTHER, account_id=account.pk, supplier_id=supplier_kld.pk)

    assert (appeal.supplier, appeal.account) == (supplier, account)


def test_a_long_text_is_kept_whole_and_summed_up_in_200_characters(supplier: Supplier, applicant: User) -> None:
    text = ("Слово  \n" * 700)[: policy.TEXT_LIMIT - 1] + "я"  # the longest text allowed
    assert len(text) == 5000

    appeal = create(applicant, text=text, supplier_id=supplier.pk)

    summary = " ".join(text.split())[:199] + "…"
    assert (appeal.summary, len(appeal.summary)) == (summary, 200)
    assert Message.objects.get(appeal=appeal).text == text


def test_ten_files_and_a_file_of_exactly_10_mb_are_accepted(supplier: Supplier, applicant: User, media: Path) -> None:
    picture = files.jpeg()
    largest = picture + b"\0" * (policy.FILE_SIZE_LIMIT - len(picture))  # bytes after the end of the picture
    uploads = [new_file(largest, "largest.jpg")] + [new_file(picture, f"{n}.jpg") for n in range(9)]

    appeal = create(applicant, supplier_id=supplier.pk, files=uploads)

    assert list(Attachment.objects.filter(appeal=appeal).order_by("pk").values_list("name", "size")) == [
        ("largest.jpg", policy.FILE_SIZE_LIMIT)
    ] + [(f"{n}.jpg", len(picture)) for n in range(9)]
    assert len(stored_files(media)) == 10


# --- Bad fields --------------------------------------------------------------------------


def test_every_bad_field_is_reported_at_once(supplier: Supplier, media: Path) -> None:
    no_email = applicant_make(email=None)

    with pytest.raises(ValidationFailed) as failed:
        create(
            no_email,
            category="weather",
            text="   \n ",
            supplier_id=None,
            notify_channel=NotifyChannel.EMAIL,
            files=[new_file(files.EXE, "setup.jpg"), new_file(b"", "empty.pdf", size=0)],
        )

    assert failed.value.errors == {
        "category": ["Выберите тему обращения из списка"],
        "text": ["Напишите текст сообщения"],
        "supplier": ["Выберите поставщика газа, которому адресовано обращение"],
        "notify_channel": ["В профиле нет подтверждённого e-mail: выберите другой способ"],
        "files": [
            f"Файл «setup.jpg»: такой тип файла не принимается, загрузите {ACCEPTED}",
            "Файл «empty.pdf» пустой",
        ],
    }
    assert failed.value.code == "validation_failed"
    assert_nothing_written(media)


@pytest.mark.parametrize("category", sorted(ACCOUNT_CATEGORIES))
def test_a_topic_about_an_account_needs_the_account(
    supplier: Supplier, applicant: User, media: Path, category: str
) -> None:
    with pytest.raises(ValidationFailed) as failed:
        create(applicant, category=category, supplier_id=supplier.pk)

    assert failed.value.errors == {"account": ["Выберите лицевой счёт, о котором обращение"]}
    assert_nothing_written(media)


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"category": Category.CONNECTION}, {"category": ["Выберите тему обращения из списка"]}),
        ({"category": Category.FEEDBACK}, {"category": ["Выберите тему обращения из списка"]}),
        ({"category": ""}, {"category": ["Выберите тему обращения из списка"]}),
        ({"text": ""}, {"text": ["Напишите текст сообщения"]}),
        ({"text": " \t\n "}, {"text": ["Напишите текст сообщения"]}),
        ({"text": "я" * 5001}, {"text": ["Текст длиннее 5000 знаков (5001): сократите его"]}),
        ({"supplier_id": None}, {"supplier": ["Выберите поставщика газа, которому адресовано обращение"]}),
        ({"supplier_id": 999_999}, {"supplier": ["Такого поставщика газа нет: выберите из списка"]}),
        ({"notify_channel": "pigeon"}, {"notify_channel": ["Выберите, как сообщать об ответе"]}),
    ],
)
def test_a_bad_field(
    supplier: Supplier, applicant: User, media: Path, fields: dict[str, Any], errors: dict[str, list[str]]
) -> None:
    values = {"supplier_id": supplier.pk, **fields}

    with pytest.raises(ValidationFailed) as failed:
        create(applicant, **values)

    assert failed.value.errors == errors
    assert_nothing_written(media)


def test_a_supplier_that_no_longer_works_is_not_offered(supplier: Supplier, applicant: User, media: Path) -> None:
    Supplier.objects.filter(pk=supplier.pk).update(is_active=False)

    with pytest.raises(ValidationFailed) as failed:
        create(applicant, supplier_id=supplier.pk)

    assert failed.value.errors == {"supplier": ["Такого поставщика газа нет: выберите из списка"]}
    assert_nothing_written(media)


@pytest.mark.parametrize(
    ("contacts", "channel", "error"),
    [
        ({"email": None}, NotifyChannel.EMAIL, "В профиле нет подтверждённого e-mail: выберите другой способ"),
        ({"phone": None}, NotifyChannel.SMS, "В профиле нет подтверждённого телефона: выберите другой способ"),
        (
            {"email_confirmed_at": None},
            NotifyChannel.EMAIL,
            "В профиле нет подтверждённого e-mail: выберите другой способ",
        ),
        (
            {"phone_confirmed_at": None},
            NotifyChannel.SMS,
            "В профиле нет подтверждённого телефона: выберите другой способ",
        ),
    ],
)
def test_notification_by_a_contact_that_is_not_confirmed(
    supplier: Supplier, media: Path, contacts: dict[str, Any], channel: str, error: str
) -> None:
    user = applicant_make()
    User.objects.filter(pk=user.pk).update(**contacts)
    user.refresh_from_db()

    with pytest.raises(ValidationFailed) as failed:
        create(user, supplier_id=supplier.pk, notify_channel=channel)

    assert failed.value.errors == {"notify_channel": [error]}
    assert_nothing_written(media)


def test_another_persons_account_is_not_found(supplier: Supplier, applicant: User, media: Path) -> None:
    owner = applicant_make(phone="+79161112233", email="owner@example.org")
    account = account_linked(user=owner, supplier=supplier)
    before = rows()

    with pytest.raises(AccountNotFound) as missing:
        create(applicant, category=Category.CHARGE, account_id=account.pk)

    assert missing.value.text == "Лицевой счёт не найден среди ваших"
    assert rows() == before
    assert rows()["appeals"] == 0
    assert stored_files(media) == []


# --- Bad files ---------------------------------------------------------------------------

MB = 1024 * 1024


def _bad_files() -> list[Any]:
    picture = files.jpeg()
    return [
        pytest.param(
            lambda: [new_file(picture, f"{n}.jpg") for n in range(11)],
            ["Можно приложить не больше 10 файлов за раз, выбрано 11"],
            id="11 files",
        ),
        pytest.param(
            lambda: [new_file(picture, "big.jpg", size=11 * MB)],
            ["Файл «big.jpg» больше 10 МБ: уменьшите его"],
            id="11 MB as stated",
        ),
        pytest.param(
            lambda: [new_file(picture + b"\0" * (11 * MB - len(picture)), "big.jpg")],
            ["Файл «big.jpg» больше 10 МБ: уменьшите его"],
            id="11 MB for real",
        ),
        pytest.param(
            lambda: [new_file(picture + b"\0" * (policy.FILE_SIZE_LIMIT + 1 - len(picture)), "big.jpg")],
            ["Файл «big.jpg» больше 10 МБ: уменьшите его"],
            id="10 MB and a byte",
        ),
        pytest.param(lambda: [new_file(b"", "empty.pdf")], ["Файл «empty.pdf» пустой"], id="0 bytes"),
        pytest.param(
            lambda: [new_file(files.EXE, "photo.jpg")],
            [f"Файл «photo.jpg»: такой тип файла не принимается, загрузите {ACCEPTED}"],
            id="a program named .jpg",
        ),
        pytest.param(
            lambda: [new_file(files.HTML, "договор.pdf")],
            [f"Файл «договор.pdf»: такой тип файла не принимается, загрузите {ACCEPTED}"],
            id="a web page named .pdf",
        ),
        pytest.param(
            lambda: [new_file(files.jpeg_truncated(), "скан.jpg")],
            ["Файл «скан.jpg»: файл повреждён или не открывается"],
            id="a JPEG cut short",
        ),
        pytest.param(
            lambda: [new_file(files.pdf_broken(), "scan.pdf")],
            ["Файл «scan.pdf»: файл повреждён или не открывается"],
            id="a PDF with a broken body",
        ),
        pytest.param(
            lambda: [new_file(files.pdf(0), "blank.pdf")],
            ["Файл «blank.pdf»: в PDF нет ни одной страницы"],
            id="a PDF without pages",
        ),
        pytest.param(
            lambda: [new_file(files.pdf(owner="owner-secret", user="1234"), "locked.pdf")],
            ["Файл «locked.pdf»: PDF защищён паролем, загрузите файл без пароля"],
            id="a PDF with a password",
        ),
        pytest.param(
            lambda: [new_file(files.png_huge(20_000, 20_000), "bomb.png")],
            ["Файл «bomb.png»: изображение слишком большое, уменьшите его до 50 мегапикселей"],
            id="a decompression bomb",
        ),
        pytest.param(
            lambda: [new_file(picture, "x.jpg", document_kind="selfie")],
            ["Файл «x.jpg»: неизвестный вид документа"],
            id="an unknown document kind",
        ),
        pytest.param(
            lambda: [new_file(picture, "good.jpg"), new_file(files.EXE, "../evil\x00.jpg")],
            [f"Файл «evil_.jpg»: такой тип файла не принимается, загрузите {ACCEPTED}"],
            id="a good file with a bad one",
        ),
    ]


@pytest.mark.parametrize(("uploads", "errors"), _bad_files())
def test_a_bad_file_is_refused_and_nothing_is_kept(
    supplier: Supplier, applicant: User, media: Path, uploads: Any, errors: list[str]
) -> None:
    with pytest.raises(ValidationFailed) as failed:
        create(applicant, supplier_id=supplier.pk, files=uploads())

    assert failed.value.errors == {"files": errors}
    assert_nothing_written(media)


# --- Failures half-way -------------------------------------------------------------------


class SecondSaveFails(FileSystemStorage):
    """A storage that stores the first file and fails on the next (a full disk, a network
    share gone)."""

    saves = 0

    def _save(self, name: str, content: Any) -> str:
        type(self).saves += 1
        if type(self).saves == 2:
            raise OSError(28, "No space left on device")
        return super()._save(name, content)


@pytest.fixture
def second_save_fails(settings: Settings, media: Path) -> type[SecondSaveFails]:
    SecondSaveFails.saves = 0
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": f"{__name__}.SecondSaveFails"}}
    return SecondSaveFails


def test_a_storage_failure_on_the_second_file_leaves_no_row_and_no_file(
    supplier: Supplier, applicant: User, media: Path, second_save_fails: type[SecondSaveFails]
) -> None:
    with pytest.raises(OSError, match="No space left on device"):
        create(
            applicant, supplier_id=supplier.pk, files=[new_file(files.jpeg(), "1.jpg"), new_file(files.pdf(), "2.pdf")]
        )

    assert second_save_fails.saves == 2
    assert_nothing_written(media)


def _refuse_inserts(table: str) -> None:
    """Make the database refuse any new row of ``table`` (undone with the test's transaction)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE FUNCTION test_refuse_insert() RETURNS trigger AS $$ "
                "BEGIN RAISE EXCEPTION 'refused by the test'; END $$ LANGUAGE plpgsql"
            )
            cursor.execute(
                f"CREATE TRIGGER test_refuse_insert BEFORE INSERT ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION test_refuse_insert()"
            )
        else:
            cursor.execute(
                f"CREATE TRIGGER test_refuse_insert BEFORE INSERT ON {table} "
                "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
            )


def test_a_database_failure_after_the_files_are_stored_removes_them(
    supplier: Supplier, applicant: User, media: Path
) -> None:
    _refuse_inserts(Event._meta.db_table)  # the last row a new appeal writes, after its files

    with pytest.raises(DatabaseError, match="refused by the test"):
        create(
            applicant, supplier_id=supplier.pk, files=[new_file(files.jpeg(), "1.jpg"), new_file(files.pdf(), "2.pdf")]
        )

    assert_nothing_written(media)


def test_a_failure_on_a_reply_keeps_the_case_as_it_was(
    supplier: Supplier, applicant: User, media: Path, second_save_fails: type[SecondSaveFails]
) -> None:
    appeal = appeal_make(supplier=supplier, user=applicant, status=Status.WAITING, due_on=None, days_left_paused=4)
    before = Appeal.objects.values().get(pk=appeal.pk)

    with pytest.raises(OSError, match="No space left on device"):
        appeal_reply(
            user=applicant,
            appeal_id=appeal.pk,
            text="Фото счётчика и квитанция",
            files=[new_file(files.jpeg(), "1.jpg"), new_file(files.pdf(), "2.pdf")],
            channel="web",
            now=NOW,
        )

    assert Appeal.objects.values().get(pk=appeal.pk) == before
    assert {**rows(), "appeals": 0} == NO_ROWS
    assert stored_files(media) == []


# --- Files in the thread -----------------------------------------------------------------


def test_a_reply_carries_its_files(supplier: Supplier, applicant: User, media: Path) -> None:
    appeal = appeal_make(supplier=supplier, user=applicant, status=Status.WAITING, due_on=None, days_left_paused=4)
    photo = files.webp()

    appeal_reply(
        user=applicant,
        appeal_id=appeal.pk,
        text="",
        files=[new_file(photo, "IMG_2031.HEIC")],
        channel="app",
        now=at(hours=1),
    )

    [message] = Message.objects.filter(appeal=appeal)
    [attachment] = Attachment.objects.filter(appeal=appeal)
    assert (message.role, message.action, message.text) == (Role.SUBSCRIBER, "subscriber_reply", "")
    assert (attachment.message, attachment.name, attachment.mime, attachment.size) == (
        message,
        "IMG_2031.webp",
        "image/webp",
        len(photo),
    )
    assert stored_files(media) == [attachment.file.name]
    assert Appeal.objects.get(pk=appeal.pk).status == Status.IN_PROGRESS


def test_an_operator_may_answer_with_a_file_alone(
    supplier: Supplier, applicant: User, operator: User, media: Path
) -> None:
    appeal = appeal_make(supplier=supplier, user=applicant, status=Status.IN_PROGRESS)

    appeal_operator_act(
        operator=operator,
        appeal_id=appeal.pk,
        action="answer",
        files=[new_file(files.pdf(), "Акт сверки.pdf")],
        now=at(hours=1),
    )

    [attachment] = Attachment.objects.filter(appeal=appeal)
    assert (attachment.role, attachment.uploaded_by, attachment.name, attachment.message.text) == (  # type: ignore[union-attr]
        Role.OPERATOR,
        operator,
        "Акт сверки.pdf",
        "",
    )
    assert Appeal.objects.get(pk=appeal.pk).status == Status.ANSWERED


def _attachments_make(appeal: Appeal, count: int) -> None:
    Attachment.objects.bulk_create(
        Attachment(
            appeal=appeal,
            file=f"appeals/{appeal.pk}/{n:032x}.jpg",
            name=f"{n}.jpg",
            mime="image/jpeg",
            size=1000,
            sha256="0" * 64,
            role=Role.SUBSCRIBER,
            created_at=NOW,
        )
        for n in range(count)
    )


def test_a_case_gathers_at_most_50_files(supplier: Supplier, applicant: User, media: Path) -> None:
    appeal = appeal_make(supplier=supplier, user=applicant, status=Status.IN_PROGRESS)
    _attachments_make(appeal, policy.FILES_PER_APPEAL)
    before = rows()

    with pytest.raises(ValidationFailed) as failed:
        appeal_reply(
            user=applicant,
            appeal_id=appeal.pk,
            text="Ещё одно фото",
            files=[new_file(files.jpeg(), "51.jpg")],
            channel="web",
            now=NOW,
        )

    assert failed.value.errors == {"files": ["К обращению можно приложить не больше 50 файлов, уже приложено 50"]}
    assert rows() == before
    assert stored_files(media) == []


def test_the_fiftieth_file_of_a_case_is_accepted(supplier: Supplier, applicant: User, media: Path) -> None:
    appeal = appeal_make(supplier=supplier, user=applicant, status=Status.IN_PROGRESS)
    _attachments_make(appeal, policy.FILES_PER_APPEAL - 1)

    appeal_reply(
        user=applicant,
        appeal_id=appeal.pk,
        text="Последнее фото",
        files=[new_file(files.jpeg(), "50.jpg")],
        channel="web",
        now=NOW,
    )

    assert Attachment.objects.filter(appeal=appeal).count() == policy.FILES_PER_APPEAL
    assert len(stored_files(media)) == 1


def test_a_bad_file_in_a_reply_changes_nothing(supplier: Supplier, applicant: User, media: Path) -> None:
    appeal = appeal_make(supplier=supplier, user=applicant, status=Status.WAITING, due_on=None, days_left_paused=4)
    before = Appeal.objects.values().get(pk=appeal.pk)
    counts = rows()

    with pytest.raises(ValidationFailed) as failed:
        appeal_reply(
            user=applicant,
            appeal_id=appeal.pk,
            text="Ответ на вопрос",
            files=[new_file(files.HTML, "ответ.pdf")],
            channel="web",
            now=NOW,
        )

    assert failed.value.errors == {"files": [f"Файл «ответ.pdf»: такой тип файла не принимается, загрузите {ACCEPTED}"]}
    assert Appeal.objects.values().get(pk=appeal.pk) == before
    assert rows() == counts
    assert stored_files(media) == []
