"""Appeals through the API: the topics, writing an appeal with photos and scans, the list
and the case with its thread, files served only to the applicant, answering an operator's
question, rating the answer, withdrawing; the profile's deletion requests.

Every refusal is a problem with its status and code, and leaves nothing behind: no case,
message, file row or stored file, no history event, no audit record, no message to anyone.
NOW is Sunday 22.11.2026, 13:00 in Moscow."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from pytest_django import DjangoCaptureOnCommitCallbacks

from abonent.appeals import services as appeals
from abonent.appeals.models import Appeal, Attachment, Event, Message
from abonent.core.models import AuditRecord, Supplier
from abonent.core.services import supplier_create
from abonent.customers.models import AccountLink, PersonalAccount
from abonent.identity.models import DeletionRequest, User
from abonent.identity.services import app_session_start, deletion_request_refuse, deletion_request_take
from tests.api.appeals_data import BROKEN_PDF, EXE, Forms, jpeg, pdf, png, stored_files, traces, upload
from tests.api.conftest import NOW, Api, Subscriber, problem, sms_to
from tests.conftest import SUPPLIER_MOSCOW
from tests.factories import account_make

pytestmark = pytest.mark.django_db

ANSWER = "Перерасчёт сделан, сумма в квитанции за декабрь уменьшится на 312,40 ₽."


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    """Files are stored in a directory of the test's own."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def forms(client: Client, django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks) -> Forms:
    return Forms(client, django_capture_on_commit_callbacks)


def token_for(user: User) -> str:
    return app_session_start(user=user, device_name="Pixel 8", user_agent="", ip=None, now=NOW).access_token


def link(user: User, account: PersonalAccount) -> None:
    AccountLink.objects.create(user=user, account=account, proof="pin", channel="web", linked_at=NOW)


@pytest.fixture
def account(supplier: Supplier, subscriber: Subscriber) -> PersonalAccount:
    account = account_make(supplier=supplier)
    link(subscriber.user, account)
    return account


@pytest.fixture
def token(subscriber: Subscriber, account: PersonalAccount) -> str:
    """Мария (phone +79123456789, confirmed), her account 770000000001 linked."""
    return token_for(subscriber.user)


@pytest.fixture
def stranger(register: Any, supplier: Supplier) -> Subscriber:
    """Another subscriber with an account of his own."""
    who: Subscriber = register("+79160000002")
    link(who.user, account_make(supplier=supplier, number="770000000002", holder_last_name="Петров"))
    return who


@pytest.fixture
def operator(db: None) -> User:
    return User.objects.create(username="operator-1", is_staff=True, first_name="Ольга")


def appeal_make(user: User, account: PersonalAccount, text: str = "Прошу проверить начисление за октябрь") -> Appeal:
    return appeals.appeal_create(
        user=user,
        category="charge",
        text=text,
        account_id=account.pk,
        files=[appeals.NewFile(name="фото.jpg", content=_bytes(jpeg()), size=len(jpeg()))],
        notify_channel="sms",
        channel="app",
        now=NOW - dt.timedelta(days=2),
    )


def _bytes(content: bytes) -> Any:
    import io

    return io.BytesIO(content)


@pytest.fixture
def act(operator: User, django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks) -> Any:
    """An operator's step on a case, ``hours`` before NOW, with its messages sent."""

    def step(appeal: Appeal, action: str, text: str = "", *, hours: int = 1) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            appeals.appeal_operator_act(
                operator=operator, appeal_id=appeal.pk, action=action, text=text, now=NOW - dt.timedelta(hours=hours)
            )

    return step


def write(forms: Forms, token: str | None, account: PersonalAccount | None = None, **fields: Any) -> Any:
    data: dict[str, Any] = {"category": "charge", "text": "Прошу проверить начисление за октябрь"}
    if account is not None:
        data["account_id"] = str(account.pk)
    data.update(fields)
    return forms.post("/appeals", data, token=token)


# --- Topics ---------------------------------------------------------------------------


def test_the_topics_say_which_need_an_account(api: Api, token: str) -> None:
    response = api.get("/appeals/categories", token=token)

    assert response.status_code == 200
    assert response.json() == [
        {"code": "charge", "label": "Вопрос по начислению", "needs_account": True},
        {"code": "readings", "label": "Показания счётчика", "needs_account": True},
        {"code": "payment", "label": "Оплата не поступила", "needs_account": True},
        {"code": "meter", "label": "Замена или поверка счётчика", "needs_account": True},
        {"code": "equipment", "label": "Обслуживание газового оборудования", "needs_account": False},
        {"code": "complaint", "label": "Жалоба", "needs_account": False},
        {"code": "other", "label": "Другое", "needs_account": False},
    ]


# --- Writing an appeal ----------------------------------------------------------------


def test_an_appeal_with_a_photo_and_a_scan(
    forms: Forms, token: str, account: PersonalAccount, subscriber: Subscriber, media: Path
) -> None:
    photo, scan = jpeg(), pdf()

    response = write(
        forms,
        token,
        account,
        text="  Прошу проверить начисление за октябрь: показания передавала 20-го.  ",
        notify_channel="sms",
        files=[upload("квитанция октябрь.JPG", photo, "image/jpeg"), upload("чек.pdf", scan, "application/pdf")],
    )

    assert response.status_code == 201, response.content
    appeal = Appeal.objects.get()
    body = response.json()
    files = Attachment.objects.order_by("pk")
    assert body == {
        "id": appeal.pk,
        "kind": "appeal",
        "kind_label": "обращение",
        "category": "charge",
        "category_label": "Вопрос по начислению",
        "status": "new",
        "status_label": "принято",
        "summary": "Прошу проверить начисление за октябрь: показания передавала 20-го.",
        "created_at": "2026-11-22T10:00:00Z",
        "status_changed_at": "2026-11-22T10:00:00Z",
        "due_on": "2026-12-04",
        "unread": False,
        "account": {"id": account.pk, "number": "770000000001"},
        "supplier": {"code": "gaz-msk", "short_name": "Газпром межрегионгаз Москва"},
        "closed_at": None,
        "notify_channel": "sms",
        "rating": None,
        "rating_comment": "",
        "messages": [
            {
                "id": Message.objects.get().pk,
                "role": "subscriber",
                "role_label": "заявитель",
                "action": "create",
                "created_at": "2026-11-22T10:00:00Z",
                "text": "Прошу проверить начисление за октябрь: показания передавала 20-го.",
                "attachments": [
                    {
                        "id": files[0].pk,
                        "name": "квитанция октябрь.jpg",
                        "mime": "image/jpeg",
                        "size": len(photo),
                        "document_kind": "other",
                        "document_kind_label": "другой документ или фото",
                        "url": f"http://testserver/api/v1/appeals/{appeal.pk}/files/{files[0].pk}",
                    },
                    {
                        "id": files[1].pk,
                        "name": "чек.pdf",
                        "mime": "application/pdf",
                        "size": len(scan),
                        "document_kind": "other",
                        "document_kind_label": "другой документ или фото",
                        "url": f"http://testserver/api/v1/appeals/{appeal.pk}/files/{files[1].pk}",
                    },
                ],
            }
        ],
        "events": [
            {
                "at": "2026-11-22T10:00:00Z",
                "action": "create",
                "action_label": "подано",
                "role": "subscriber",
                "old_status": None,
                "new_status": "new",
                "new_status_label": "принято",
            }
        ],
        "actions": [
            {"code": "subscriber_reply", "label": "ответ заявителя"},
            {"code": "withdraw", "label": "отозвать"},
        ],
        "connection": None,
        "stages": None,
    }
    assert (appeal.user_id, appeal.account_id, appeal.channel, appeal.notify_channel) == (
        subscriber.user.pk,
        account.pk,
        "app",
        "sms",
    )
    assert [(f.sha256, f.size) for f in files] == [
        (hashlib.sha256(photo).hexdigest(), len(photo)),
        (hashlib.sha256(scan).hexdigest(), len(scan)),
    ]
    stored = stored_files(media)
    assert stored == sorted(f.file.name for f in files)
    assert all(name.startswith(f"appeals/{appeal.pk}/") for name in stored)
    assert (media / files[0].file.name).read_bytes() == photo
    audit = AuditRecord.objects.get(action="appeal.create")
    assert (audit.channel, audit.actor_id, audit.object_id) == ("app", subscriber.user.pk, str(appeal.pk))


def test_an_appeal_without_an_account_goes_to_the_chosen_supplier(forms: Forms, token: str, supplier: Supplier) -> None:
    other = supplier_create(
        **{**SUPPLIER_MOSCOW, "code": "gaz-kld", "short_name": "Калининградгазификация", "inn": "3906214945"}
    )

    response = write(forms, token, category="equipment", supplier_id=str(other.pk), text="Когда придут на ТО плиты?")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["account"], body["supplier"], body["category"], body["messages"][0]["attachments"]) == (
        None,
        {"code": "gaz-kld", "short_name": "Калининградгазификация"},
        "equipment",
        [],
    )
    assert Appeal.objects.get().supplier_id == other.pk


def test_suppliers_carry_the_id_an_appeal_names(api: Api, supplier: Supplier) -> None:
    response = api.get("/suppliers")

    assert [(item["id"], item["code"]) for item in response.json()] == [(supplier.pk, "gaz-msk")]


# --- Refused appeals: nothing is left behind ------------------------------------------


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        (
            {"files": [upload(f"фото-{i}.jpg", jpeg(), "image/jpeg") for i in range(11)]},
            [{"field": "files", "message": "Можно приложить не больше 10 файлов за раз, выбрано 11"}],
        ),
        (
            {"files": [upload("скан.jpg", jpeg()), upload("большой.pdf", b"%PDF-1.7\n" + b"0" * (11 * 1024 * 1024))]},
            [{"field": "files", "message": "Файл «большой.pdf» больше 10 МБ: уменьшите его"}],
        ),
        (
            {"files": [upload("котик.jpg", EXE, "image/jpeg")]},
            [
                {
                    "field": "files",
                    "message": "Файл «котик.jpg»: такой тип файла не принимается, загрузите JPEG, PNG, WebP или PDF",
                }
            ],
        ),
        (
            {"files": [upload("договор.pdf", BROKEN_PDF, "application/pdf")]},
            [{"field": "files", "message": "Файл «договор.pdf»: файл повреждён или не открывается"}],
        ),
        (
            {"files": [upload("пусто.png", b"", "image/png")]},
            [{"field": "files", "message": "Файл «пусто.png» пустой"}],
        ),
        ({"text": "   "}, [{"field": "text", "message": "Напишите текст сообщения"}]),
        (
            {"text": "я" * 5001},
            [{"field": "text", "message": "Текст длиннее 5000 знаков (5001): сократите его"}],
        ),
        ({"category": "connection"}, [{"field": "category", "message": "Выберите тему обращения из списка"}]),
        (
            {"notify_channel": "email"},
            [
                {
                    "field": "notify_channel",
                    "message": "В профиле нет подтверждённого e-mail: выберите другой способ",
                }
            ],
        ),
        (
            {"files[]": [upload("фото.jpg", jpeg(), "image/jpeg")]},
            [{"field": "files[]", "message": "Неизвестное поле с файлами: файлы передаются в files"}],
        ),
        (
            {"notify_channel": "pigeon"},
            [{"field": "notify_channel", "message": "Допустимые значения: 'email', 'sms', 'portal'"}],
        ),
        (
            {"account_id": "первый"},
            [{"field": "account_id", "message": "Ожидается целое число"}],
        ),
    ],
    ids=[
        "11 files",
        "an 11 MB file",
        "a program named .jpg",
        "a broken PDF",
        "an empty file",
        "empty text",
        "text too long",
        "not an appeal's topic",
        "no confirmed e-mail",
        "an unknown file field",
        "an unknown channel",
        "an account id that is not a number",
    ],
)
def test_bad_input_is_refused_and_nothing_is_stored(
    forms: Forms, token: str, account: PersonalAccount, media: Path, fields: dict[str, Any], errors: list[Any]
) -> None:
    before = traces(media)

    response = write(forms, token, account, **fields)

    assert response.status_code == 422, response.content
    body = problem(response)
    assert body["code"] == "validation_failed"
    assert body["errors"] == errors
    assert traces(media) == before
    assert stored_files(media) == []


def test_every_wrong_field_is_named_at_once(forms: Forms, token: str, media: Path) -> None:
    response = forms.post(
        "/appeals",
        {"category": "charge", "text": "", "files": [upload("a.jpg", EXE)]},
        token=token,
    )

    assert response.status_code == 422
    assert [error["field"] for error in problem(response)["errors"]] == ["text", "account", "files"]
    assert traces(media).appeals == 0


def test_a_topic_about_an_account_needs_one(forms: Forms, token: str, media: Path) -> None:
    response = write(forms, token, category="readings")

    assert response.status_code == 422
    assert problem(response)["errors"] == [
        {"field": "account", "message": "Выберите лицевой счёт, о котором обращение"}
    ]
    assert not Appeal.objects.exists()


def test_another_users_account_is_not_found(forms: Forms, token: str, stranger: Subscriber, media: Path) -> None:
    theirs = PersonalAccount.objects.get(number="770000000002")
    before = traces(media)

    response = write(forms, token, theirs, files=[upload("фото.jpg", jpeg(), "image/jpeg")])

    assert response.status_code == 404
    assert problem(response)["code"] == "account_not_found"
    assert traces(media) == before
    assert not Appeal.objects.exists()
    assert stored_files(media) == []


def test_without_a_token(forms: Forms, account: PersonalAccount, media: Path) -> None:
    response = write(forms, None, account, files=[upload("фото.jpg", jpeg(), "image/jpeg")])

    assert response.status_code == 401
    assert problem(response)["code"] == "not_authenticated"
    assert response["WWW-Authenticate"] == "Bearer"
    assert not Appeal.objects.exists()
    assert stored_files(media) == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/appeals"),
        ("get", "/appeals/categories"),
        ("get", "/appeals/1"),
        ("post", "/appeals/1/messages"),
        ("post", "/appeals/1/rating"),
        ("post", "/appeals/1/withdraw"),
        ("get", "/appeals/1/files/1"),
        ("post", "/connection-applications"),
        ("get", "/profile/deletion-requests"),
    ],
)
def test_every_appeal_endpoint_needs_a_token(api: Api, method: str, path: str) -> None:
    response = api.call(method.upper(), path, {"rating": 5} if path.endswith("rating") else None)

    assert response.status_code == 401
    assert problem(response)["code"] == "not_authenticated"


def test_a_body_that_is_not_multipart(api: Api, client: Client, token: str, media: Path) -> None:
    response = client.generic(
        "POST",
        "/api/v1/appeals",
        b"category=charge&text=hello",
        content_type="multipart/form-data",  # no boundary
        headers={"Authorization": f"Bearer {token}"},
    )

    assert response.status_code == 400
    assert problem(response)["code"] == "invalid_multipart"
    assert traces(media).appeals == 0


def test_more_files_than_the_server_parses_at_all(
    forms: Forms, token: str, account: PersonalAccount, media: Path, settings: Any
) -> None:
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 12

    response = write(forms, token, account, files=[upload(f"{i}.jpg", jpeg()) for i in range(13)])

    assert response.status_code == 413
    assert problem(response)["code"] == "payload_too_large"
    assert traces(media).appeals == 0
    assert stored_files(media) == []


# --- The list and the case ------------------------------------------------------------


def test_the_list_is_newest_first_and_cursor_paged(
    api: Api, token: str, subscriber: Subscriber, account: PersonalAccount, stranger: Subscriber
) -> None:
    first = appeal_make(subscriber.user, account, "Первое")
    second = appeals.appeal_create(
        user=subscriber.user, category="other", text="Второе", account_id=account.pk, channel="web", now=NOW
    )
    appeal_make(stranger.user, PersonalAccount.objects.get(number="770000000002"), "Чужое")

    page = api.get("/appeals?limit=1", token=token).json()

    assert page == {
        "items": [
            {
                "id": second.pk,
                "kind": "appeal",
                "kind_label": "обращение",
                "category": "other",
                "category_label": "Другое",
                "status": "new",
                "status_label": "принято",
                "summary": "Второе",
                "created_at": "2026-11-22T10:00:00Z",
                "status_changed_at": "2026-11-22T10:00:00Z",
                "due_on": "2026-12-04",
                "unread": False,
                "account": {"id": account.pk, "number": "770000000001"},
                "supplier": {"code": "gaz-msk", "short_name": "Газпром межрегионгаз Москва"},
            }
        ],
        "next_cursor": page["next_cursor"],
    }
    rest = api.get(f"/appeals?limit=1&cursor={page['next_cursor']}", token=token).json()
    assert ([item["id"] for item in rest["items"]], rest["next_cursor"]) == ([first.pk], None)
    assert [item["summary"] for item in api.get("/appeals", token=token).json()["items"]] == ["Второе", "Первое"]


def test_a_cursor_not_from_the_list(api: Api, token: str) -> None:
    response = api.get("/appeals?cursor=garbage", token=token)

    assert response.status_code == 422
    assert problem(response)["code"] == "cursor_invalid"


def test_the_case_with_the_operators_answer_is_read_once_opened(
    api: Api, token: str, subscriber: Subscriber, account: PersonalAccount, act: Any
) -> None:
    appeal = appeal_make(subscriber.user, account)
    act(appeal, "take", hours=5)
    act(appeal, "answer", ANSWER, hours=1)

    listed = api.get("/appeals", token=token).json()["items"][0]
    opened = api.get(f"/appeals/{appeal.pk}", token=token)

    assert listed["unread"] is True
    assert opened.status_code == 200
    body = opened.json()
    assert (body["status"], body["status_label"], body["unread"], body["due_on"]) == (
        "answered",
        "дан ответ",
        False,
        None,
    )
    assert [(m["role"], m["action"], m["text"], m["created_at"]) for m in body["messages"]] == [
        ("subscriber", "create", "Прошу проверить начисление за октябрь", "2026-11-20T10:00:00Z"),
        ("operator", "answer", ANSWER, "2026-11-22T09:00:00Z"),
    ]
    assert body["events"] == [
        {
            "at": "2026-11-20T10:00:00Z",
            "action": "create",
            "action_label": "подано",
            "role": "subscriber",
            "old_status": None,
            "new_status": "new",
            "new_status_label": "принято",
        },
        {
            "at": "2026-11-22T05:00:00Z",
            "action": "take",
            "action_label": "взять в работу",
            "role": "operator",
            "old_status": "new",
            "new_status": "in_progress",
            "new_status_label": "в работе",
        },
        {
            "at": "2026-11-22T09:00:00Z",
            "action": "answer",
            "action_label": "ответить",
            "role": "operator",
            "old_status": "in_progress",
            "new_status": "answered",
            "new_status_label": "дан ответ",
        },
    ]
    assert [a["code"] for a in body["actions"]] == ["subscriber_reply", "rate"]
    assert Appeal.objects.get().subscriber_unread is False
    assert api.get("/appeals", token=token).json()["items"][0]["unread"] is False
    assert sms_to(subscriber.login) == [
        f"Обращение № {appeal.pk}: в работе. Подробности в личном кабинете.",
        f"Обращение № {appeal.pk}: дан ответ. Подробности в личном кабинете.",
    ]


def test_the_file_is_served_to_the_applicant_only(
    api: Api, token: str, subscriber: Subscriber, account: PersonalAccount, stranger: Subscriber
) -> None:
    appeal = appeal_make(subscriber.user, account)
    attachment = Attachment.objects.get()
    url = api.get(f"/appeals/{appeal.pk}", token=token).json()["messages"][0]["attachments"][0]["url"]

    response = api.get(url.removeprefix("http://testserver/api/v1"), token=token)

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == jpeg()  # type: ignore[attr-defined]
    assert response["Content-Type"] == "image/jpeg"
    assert response["Content-Disposition"] == "attachment; filename*=utf-8''%D1%84%D0%BE%D1%82%D0%BE.jpg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"

    theirs = api.get(f"/appeals/{appeal.pk}/files/{attachment.pk}", token=token_for(stranger.user))
    assert theirs.status_code == 404
    assert problem(theirs)["code"] == "attachment_not_found"


def test_a_file_under_another_case_of_the_same_user_is_not_found(
    api: Api, token: str, subscriber: Subscriber, account: PersonalAccount
) -> None:
    first = appeal_make(subscriber.user, account)
    second = appeal_make(subscriber.user, account)
    of_first = Attachment.objects.get(appeal=first)

    response = api.get(f"/appeals/{second.pk}/files/{of_first.pk}", token=token)

    assert response.status_code == 404
    assert problem(response)["code"] == "attachment_not_found"


def test_a_file_lost_from_the_storage_is_not_found(
    api: Api, token: str, subscriber: Subscriber, account: PersonalAccount, media: Path
) -> None:
    appeal = appeal_make(subscriber.user, account)
    attachment = Attachment.objects.get()
    (media / attachment.file.name).unlink()

    response = api.get(f"/appeals/{appeal.pk}/files/{attachment.pk}", token=token)

    assert response.status_code == 404
    assert problem(response)["code"] == "attachment_not_found"


def test_another_users_case_is_not_found_and_left_alone(
    api: Api, forms: Forms, subscriber: Subscriber, account: PersonalAccount, stranger: Subscriber, media: Path
) -> None:
    appeal = appeal_make(subscriber.user, account)
    theirs = token_for(stranger.user)
    before = traces(media)

    answers = [
        api.get(f"/appeals/{appeal.pk}", token=theirs),
        forms.post(
            f"/appeals/{appeal.pk}/messages",
            {"text": "Чужое", "files": [upload("ф.jpg", jpeg())]},
            token=theirs,
        ),
        api.post(f"/appeals/{appeal.pk}/rating", {"rating": 1}, token=theirs),
        api.post(f"/appeals/{appeal.pk}/withdraw", token=theirs),
        api.get("/appeals/999999", token=theirs),
    ]

    assert [(a.status_code, problem(a)["code"]) for a in answers] == [(404, "appeal_not_found")] * 5
    assert traces(media) == before
    assert api.get("/appeals", token=theirs).json() == {"items": [], "next_cursor": None}


# --- Steps of the applicant -----------------------------------------------------------


def test_answering_the_operators_question_returns_the_case_to_work(
    api: Api, forms: Forms, token: str, subscriber: Subscriber, account: PersonalAccount, act: Any, media: Path
) -> None:
    appeal = appeal_make(subscriber.user, account)
    act(appeal, "take", hours=3)
    act(appeal, "ask", "Пришлите, пожалуйста, фото счётчика с показаниями.", hours=2)
    asked = api.get(f"/appeals/{appeal.pk}", token=token).json()
    assert (asked["status"], asked["due_on"], [a["code"] for a in asked["actions"]]) == (
        "waiting",
        None,
        ["subscriber_reply", "withdraw"],
    )
    assert asked["messages"][-1]["action"] == "ask"

    response = forms.post(
        f"/appeals/{appeal.pk}/messages",
        {"text": "Фото прикладываю.", "files": [upload("счётчик.png", png(), "image/png")]},
        token=token,
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["status_label"]) == ("in_progress", "в работе")
    assert body["due_on"] is not None
    reply = body["messages"][-1]
    assert (reply["role"], reply["action"], reply["text"], reply["created_at"]) == (
        "subscriber",
        "subscriber_reply",
        "Фото прикладываю.",
        "2026-11-22T10:00:00Z",
    )
    assert [(a["name"], a["mime"]) for a in reply["attachments"]] == [("счётчик.png", "image/png")]
    assert body["events"][-1] == {
        "at": "2026-11-22T10:00:00Z",
        "action": "subscriber_reply",
        "action_label": "ответ заявителя",
        "role": "subscriber",
        "old_status": "waiting",
        "new_status": "in_progress",
        "new_status_label": "в работе",
    }
    assert len(stored_files(media)) == 2


def test_an_answer_to_a_question_needs_text_or_files(
    forms: Forms, token: str, subscriber: Subscriber, account: PersonalAccount, act: Any, media: Path
) -> None:
    appeal = appeal_make(subscriber.user, account)
    act(appeal, "ask", "Какой номер счётчика?")
    before = traces(media)

    response = forms.post(f"/appeals/{appeal.pk}/messages", {"text": "  "}, token=token)

    assert response.status_code == 422
    assert problem(response)["errors"] == [{"field": "text", "message": "Напишите текст сообщения"}]
    assert traces(media) == before


def test_a_reply_with_a_bad_file_stores_nothing(
    forms: Forms, token: str, subscriber: Subscriber, account: PersonalAccount, media: Path
) -> None:
    appeal = appeal_make(subscriber.user, account)
    before = traces(media)

    response = forms.post(
        f"/appeals/{appeal.pk}/messages",
        {"text": "Вот документы", "files": [upload("ok.jpg", jpeg()), upload("virus.pdf", EXE)]},
        token=token,
    )

    assert response.status_code == 422
    assert problem(response)["errors"] == [
        {
            "field": "files",
            "message": "Файл «virus.pdf»: такой тип файла не принимается, загрузите JPEG, PNG, WebP или PDF",
        }
    ]
    assert traces(media) == before


def test_rating_the_answer_closes_the_appeal(
    api: Api, token: str, subscriber: Subscriber, account: PersonalAccount, act: Any
) -> None:
    appeal = appeal_make(subscriber.user, account)
    act(appeal, "answer", ANSWER)

    response = api.post(f"/appeals/{appeal.pk}/rating", {"rating": 5, "comment": "  Спасибо, быстро!  "}, token=token)

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["rating"], body["rating_comment"], body["closed_at"], body["actions"]) == (
        "closed",
        5,
        "Спасибо, быстро!",
        "2026-11-22T10:00:00Z",
        [],
    )
    assert body["events"][-1]["action"] == "rate"
    assert Appeal.objects.get().rated_at == NOW


@pytest.mark.parametrize(
    ("payload", "field"),
    [({"rating": 6}, "rating"), ({"rating": 0}, "rating"), ({"rating": "5"}, "rating"), ({}, "rating")],
)
def test_a_rating_from_1_to_5(
    api: Api,
    token: str,
    subscriber: Subscriber,
    account: PersonalAccount,
    act: Any,
    media: Path,
    payload: dict[str, Any],
    field: str,
) -> None:
    appeal = appeal_make(subscriber.user, account)
    act(appeal, "answer", ANSWER)
    before = traces(media)

    response = api.post(f"/appeals/{appeal.pk}/rating", payload, token=token)

    assert response.status_code == 422
    body = problem(response)
    assert (body["code"], [e["field"] for e in body["errors"]]) == ("validation_failed", [field])
    assert traces(media) == before
    assert Appeal.objects.get().rating is None


def test_rating_an_appeal_with_no_answer_is_not_allowed(
    api: Api, token: str, subscriber: Subscriber, account: PersonalAccount, media: Path
) -> None:
    appeal = appeal_make(subscriber.user, account)
    before = traces(media)

    response = api.post(f"/appeals/{appeal.pk}/rating", {"rating": 4}, token=token)

    assert response.status_code == 409
    assert problem(response) == {
        "type": "urn:abonent:problem:transition_not_allowed",
        "title": "Действие «оценить ответ» недоступно: обращение в состоянии «принято»",
        "status": 409,
        "detail": "Действие «оценить ответ» недоступно: обращение в состоянии «принято»",
        "instance": f"/api/v1/appeals/{appeal.pk}/rating",
        "code": "transition_not_allowed",
    }
    assert traces(media) == before
    stored = Appeal.objects.get()
    assert (stored.status, stored.rating, stored.rated_at) == ("new", None, None)


def test_withdrawing_a_new_appeal(
    api: Api, token: str, subscriber: Subscriber, account: PersonalAccount, media: Path
) -> None:
    appeal = appeal_make(subscriber.user, account)

    response = api.post(f"/appeals/{appeal.pk}/withdraw", token=token)

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["status_label"], body["closed_at"], body["due_on"], body["actions"]) == (
        "withdrawn",
        "отозвано",
        "2026-11-22T10:00:00Z",
        None,
        [],
    )
    event = Event.objects.filter(appeal=appeal).latest("pk")
    assert (event.action, event.old_status, event.new_status, event.channel) == ("withdraw", "new", "withdrawn", "app")


@pytest.mark.parametrize("step", ["withdraw", "messages", "rating"])
def test_a_finished_case_takes_no_more_steps(
    api: Api,
    forms: Forms,
    token: str,
    subscriber: Subscriber,
    account: PersonalAccount,
    act: Any,
    media: Path,
    step: str,
) -> None:
    appeal = appeal_make(subscriber.user, account)
    act(appeal, "answer", ANSWER, hours=2)
    act(appeal, "close", hours=1)
    before = traces(media)

    if step == "messages":
        response = forms.post(
            f"/appeals/{appeal.pk}/messages", {"text": "Ещё вопрос", "files": [upload("ф.jpg", jpeg())]}, token=token
        )
    else:
        response = api.post(f"/appeals/{appeal.pk}/{step}", {"rating": 5} if step == "rating" else None, token=token)

    assert response.status_code == 409
    body = problem(response)
    assert body["code"] == "transition_not_allowed"
    assert "«закрыто»" in body["detail"]
    assert traces(media) == before


# --- Deletion requests of the profile -------------------------------------------------


def test_the_deletion_requests_with_their_dates(
    api: Api, token: str, subscriber: Subscriber, operator: User, stranger: Subscriber
) -> None:
    assert api.get("/profile/deletion-requests", token=token).json() == []
    api.post("/profile/deletion-request", {"reason": "Переезжаю"}, token=token)
    api.post("/profile/deletion-request", {}, token=token_for(stranger.user))
    request = DeletionRequest.objects.get(user=subscriber.user)
    deletion_request_take(request_id=request.pk, operator=operator, now=NOW + dt.timedelta(days=1))

    taken = api.get("/profile/deletion-requests", token=token).json()

    assert taken == [
        {
            "id": request.pk,
            "status": "in_progress",
            "status_label": "в работе",
            "requested_at": "2026-11-22T10:00:00Z",
            "due_by": "2026-12-22",
            "taken_at": "2026-11-23T10:00:00Z",
            "processed_at": None,
            "outcome": None,
        }
    ]
    deletion_request_refuse(
        request_id=request.pk,
        operator=operator,
        outcome="По счёту 770000000001 идёт судебное разбирательство",
        now=NOW + dt.timedelta(days=3),
    )
    api.post("/profile/deletion-request", {"reason": "Ещё раз"}, token=token)

    both = api.get("/profile/deletion-requests", token=token).json()

    assert [(r["status"], r["requested_at"], r["due_by"], r["processed_at"], r["outcome"]) for r in both] == [
        ("new", "2026-11-22T10:00:00Z", "2026-12-22", None, None),
        (
            "refused",
            "2026-11-22T10:00:00Z",
            "2026-12-22",
            "2026-11-25T10:00:00Z",
            "По счёту 770000000001 идёт судебное разбирательство",
        ),
    ]
