"""A subscriber reaches only what is theirs: every web page and API operation that takes the
id of an object is visited by a stranger with the owner's ids and must answer 404 with none
of the owner's data; the owner gets past the 404, so the ids are real.

The cases are generated from the URL configuration and the OpenAPI document: an endpoint
added later is covered without being listed here, and one whose parameter is not known
below fails until someone says how to make its object (``OBJECTS``) or why it is not an
object id (``NOT_OBJECT_IDS``).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from abonent.api.urls import api
from abonent.appeals.services import NewFile, appeal_create
from abonent.core.models import Supplier
from abonent.core.periods import Period
from abonent.core.services import supplier_create
from abonent.customers.models import AccountLink, Contract, PersonalAccount
from abonent.identity.models import AuthSession, User
from abonent.identity.services import app_session_start
from abonent.ledger.services import NewEntry, entries_post
from abonent.metering.enums import ReadingChannel
from abonent.metering.models import Reading
from abonent.notifications.models import Notification, PushDevice
from abonent.notifications.services import push_device_register
from abonent.payments.services import PartInput, payment_start
from tests.conftest import SUPPLIER_MOSCOW
from tests.factories import account_make, meter_make
from tests.web.appeals_data import png
from tests.web.identity import user_make

NOW = dt.datetime(2026, 11, 22, 10, 0, tzinfo=dt.UTC)

# Parameters of URLs that are not ids of a subscriber's objects, and why.
NOT_OBJECT_IDS = {
    "uidb64": "the password reset link: a signed token, checked by the view",
    "token": "the password reset link: a signed token, checked by the view",
    "code": "a supplier's public code (/api/v1/suppliers/{code}): public data",
    "gateway": "a payment gateway's name in its notification endpoint: no user, the sender's address is checked",
    "gateway_payment_id": "the sandbox gateway's own payment page, reached by its unguessable id as a real gateway's",
}

# Prefixes of web URLs covered elsewhere.
WEB_EXCLUDED = {
    "backoffice/": "staff only (Django admin; a subscriber is sent to its login page, tested below)",
    "api/v1/": "covered operation by operation from the OpenAPI document",
}


# --- The owner's objects ----------------------------------------------------------------


@dataclass
class World:
    owner: User
    stranger: User
    ids: dict[str, Any]
    secrets: list[str]  # strings of the owner's data that must not reach the stranger


def _account_objects(owner: User, stranger: User, supplier: Supplier) -> tuple[dict[str, int], list[str]]:
    account = account_make(supplier=supplier, holder_last_name="Задорожная", house="99")
    AccountLink.objects.create(user=owner, account=account, proof="pin", channel="web", linked_at=NOW, name="Дача")
    meter = meter_make(account=account, serial="SECRET-77")
    reading = Reading.objects.create(
        meter=meter,
        period=202610,
        value=Decimal("4321.5"),
        submitted_at=NOW,
        channel=ReadingChannel.WEB,
        submission_key="owner",
    )
    Contract.objects.create(
        account=account,
        kind="vdgo",
        number="ТО-ТАЙНА-1",
        signed_on=dt.date(2025, 1, 1),
        valid_from=dt.date(2025, 1, 1),
    )
    # the stranger has an account of their own
    theirs = account_make(supplier=supplier, number="770000000002")
    AccountLink.objects.create(user=stranger, account=theirs, proof="pin", channel="web", linked_at=NOW)
    # a charge in October, so the owner has a bill for it
    entries_post(
        entries=[
            NewEntry(account.pk, "gas", "charge", Period(2026, 10), Period(2026, 10), Decimal("1234.56"),
                     dt.date(2026, 10, 31), "test:bill-charge")
        ],
        now=NOW,
    )  # fmt: skip
    ids = {"account_id": account.pk, "meter_id": meter.pk, "reading_id": reading.pk, "period": "2026-10"}
    return ids, ["770000000001", "Задорожная", "SECRET-77", "4321", "ТО-ТАЙНА-1", "Дача", "1 234,56"]


def _session_objects(owner: User) -> tuple[dict[str, int], list[str]]:
    app_session_start(user=owner, device_name="Телефон владельца", user_agent="", ip=None, now=NOW)
    session = AuthSession.objects.filter(user=owner).latest("pk")
    return {"session_id": session.pk}, ["Телефон владельца"]


def _payment_objects(owner: User, stranger: User, supplier: Supplier) -> tuple[dict[str, Any], list[str]]:
    account = account_make(supplier=supplier, number="770000000077", holder_last_name="Платёжная")
    AccountLink.objects.create(user=owner, account=account, proof="pin", channel="web", linked_at=NOW)
    payment = payment_start(user=owner, parts=[PartInput(account_id=account.pk, amount="4321.77")],
                            method="bank_card", return_url="http://testserver/", now=NOW)  # fmt: skip
    return {"public_id": str(payment.public_id), "payment_id": str(payment.public_id)}, ["770000000077", "4 321,77"]


def _appeal_objects(owner: User, stranger: User, supplier: Supplier) -> tuple[dict[str, Any], list[str]]:
    scan = png()
    appeal = appeal_create(
        user=owner,
        category="other",
        text="Тайное обращение владелицы",
        account_id=None,
        supplier_id=supplier.pk,
        files=[NewFile("тайный-скан.png", io.BytesIO(scan), len(scan))],
        channel="web",
        now=NOW,
    )
    return {"appeal_id": appeal.pk, "attachment_id": appeal.attachments.get().pk}, ["Тайное обращение", "тайный-скан"]


def _notification_objects(owner: User, stranger: User, supplier: Supplier) -> tuple[dict[str, Any], list[str]]:
    device = push_device_register(
        user=owner, platform="fcm", token="owner-token:SECRET-PUSH-TOKEN", name="Планшет владелицы", now=NOW
    )
    notification = Notification.objects.create(
        user=owner,
        supplier=supplier,
        kind="announcement",
        occasion="announcement:secret",
        title="Тайное уведомление владелицы",
        body="Текст тайного уведомления",
        created_at=NOW,
    )
    return {"device_id": device.pk, "notification_id": notification.pk}, [
        "Планшет владелицы",
        "SECRET-PUSH",
        "Тайное уведомление",
    ]


# How to make the owner's object for each id parameter. An id the project does not have
# yet (a device, say) gets its maker with its feature.
OBJECTS: dict[str, Callable[[User, User, Supplier], tuple[dict[str, Any], list[str]]]] = {
    "account_id": _account_objects,
    "meter_id": _account_objects,
    "reading_id": _account_objects,
    "period": _account_objects,  # a bill's month, of the account
    "session_id": lambda owner, stranger, supplier: _session_objects(owner),
    "public_id": _payment_objects,
    "payment_id": _payment_objects,
    "appeal_id": _appeal_objects,
    "attachment_id": _appeal_objects,  # a file of the appeal
    "device_id": _notification_objects,  # a device that receives push notifications
    "notification_id": _notification_objects,
}


@pytest.fixture(autouse=True)
def _clock_at_now(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tokens and objects are made at NOW; the interfaces read the clock: held at NOW,
    or the tokens expire 15 minutes after NOW on the real clock."""
    monkeypatch.setattr("abonent.core.clock.now", lambda: NOW)


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    """The appeal's file is stored in a directory of the test's own."""
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def world(db: None) -> World:
    supplier = supplier_create(**SUPPLIER_MOSCOW)
    owner = user_make(phone="+79161110001", first_name="Владелица")
    stranger = user_make(phone="+79162220002")
    ids: dict[str, Any] = {}
    secrets = ["+79161110001", "Владелица"]
    for make in dict.fromkeys(OBJECTS.values()):
        made, said = make(owner, stranger, supplier)
        ids.update(made)
        secrets += said
    return World(owner=owner, stranger=stranger, ids=ids, secrets=secrets)


def _leaks(world: World, body: str) -> list[str]:
    return [secret for secret in world.secrets if secret in body]


# --- Web pages from the URL configuration -----------------------------------------------


@dataclass(frozen=True)
class WebPage:
    route: str
    name: str | None
    params: tuple[str, ...]

    def __str__(self) -> str:
        return self.name or self.route


def _walk(patterns: list[Any], prefix: str = "", namespace: str = "") -> Iterator[tuple[str, str | None, Any]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}{entry.name}" if entry.name else None
            yield prefix + str(entry.pattern), name, entry


def web_pages() -> list[WebPage]:
    pages = []
    for route, name, entry in _walk(get_resolver().url_patterns):
        if any(route.startswith(prefix) for prefix in WEB_EXCLUDED):
            continue
        params = tuple(entry.pattern.converters) or tuple(re.findall(r"\(\?P<(\w+)>", route))
        if params:
            pages.append(WebPage(route=route, name=name, params=params))
    return pages


def _id_params(params: tuple[str, ...] | list[str]) -> list[str]:
    unknown = [p for p in params if p not in OBJECTS and p not in NOT_OBJECT_IDS]
    assert not unknown, (
        f"parameters {unknown} are neither known object ids (OBJECTS) nor listed as not ids (NOT_OBJECT_IDS): "
        "say how to make the owner's object, so the stranger's 404 can be checked"
    )
    return [p for p in params if p in OBJECTS]


WEB_PAGES = web_pages()


def test_the_web_has_pages_with_ids_to_check() -> None:
    assert {p for page in WEB_PAGES for p in page.params} >= {"account_id", "session_id"}


@pytest.mark.parametrize("page", WEB_PAGES, ids=str)
def test_web_page_of_another_users_object_is_not_found(page: WebPage, world: World) -> None:
    ids = _id_params(page.params)
    if not ids:
        pytest.skip(f"{page}: {', '.join(dict.fromkeys(NOT_OBJECT_IDS[p] for p in page.params))}")
    kwargs = {p: world.ids[p] for p in page.params}
    url = (
        reverse(page.name, kwargs=kwargs)
        if page.name
        else "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(kwargs[m[1]]), page.route)
    )

    stranger = Client()
    stranger.force_login(world.stranger)
    answers = {method: getattr(stranger, method)(url) for method in ("get", "post")}

    assert {a.status_code for a in answers.values()} <= {404, 405}, {m: a.status_code for m, a in answers.items()}
    assert 404 in {a.status_code for a in answers.values()}
    for answer in answers.values():
        assert _leaks(world, answer.content.decode()) == []

    owner = Client()
    owner.force_login(world.owner)
    assert {getattr(owner, m)(url).status_code for m in answers if answers[m].status_code == 404} - {404}, (
        f"the owner gets 404 from {url} too: the test's ids are not the page's objects"
    )


def test_a_subscriber_is_sent_to_the_back_office_login(world: World) -> None:
    client = Client()
    client.force_login(world.owner)

    answer = client.get(reverse("admin:customers_personalaccount_change", args=[world.ids["account_id"]]))

    assert answer.status_code == 302
    assert answer["Location"].startswith(reverse("admin:login"))


# --- API operations from the OpenAPI document ------------------------------------------


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    params: tuple[str, ...]
    body_schema: dict[str, Any] | None

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path}"


SCHEMA = api.get_openapi_schema(path_prefix="/api/v1")


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = SCHEMA["components"]["schemas"][name]
    if "allOf" in schema and len(schema["allOf"]) == 1:
        return _resolve(schema["allOf"][0])
    return schema


def example(schema: dict[str, Any]) -> Any:
    """A value the schema accepts, so a body passes validation and the handler runs."""
    schema = _resolve(schema)
    if "anyOf" in schema:
        return example(next(s for s in schema["anyOf"] if s.get("type") != "null"))
    if "enum" in schema:
        return schema["enum"][0]
    if "default" in schema:
        return schema["default"]
    kind = schema.get("type")
    if kind == "object":
        return {
            name: example(prop)
            for name, prop in schema.get("properties", {}).items()
            if name in schema.get("required", [])
        }
    if kind == "array":
        return []
    if kind == "boolean":
        return True
    if kind in ("integer", "number"):
        return 1
    if schema.get("format") == "date":
        return "2026-11-22"
    return "Дача"


def api_operations() -> list[Operation]:
    operations = []
    for path, methods in SCHEMA["paths"].items():
        params = tuple(re.findall(r"\{(\w+)\}", path))
        if not params:
            continue
        for method, operation in methods.items():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            operations.append(Operation(method=method, path=path, params=params, body_schema=body))
    return operations


API_OPERATIONS = api_operations()


def test_the_api_has_operations_with_ids_to_check() -> None:
    assert {p for op in API_OPERATIONS for p in op.params} >= {"account_id", "session_id"}


def _call(client: Client, operation: Operation, url: str, token: str) -> Any:
    body = example(operation.body_schema) if operation.body_schema else None
    return client.generic(
        operation.method.upper(),
        url,
        data=b"" if body is None else json.dumps(body),
        content_type="application/json",
        headers={"authorization": f"Bearer {token}"},
    )


@pytest.mark.parametrize("operation", API_OPERATIONS, ids=str)
def test_api_operation_on_another_users_object_is_not_found(operation: Operation, world: World) -> None:
    ids = _id_params(operation.params)
    if not ids:
        pytest.skip(f"{operation}: {', '.join(dict.fromkeys(NOT_OBJECT_IDS[p] for p in operation.params))}")
    url = re.sub(r"\{(\w+)\}", lambda m: str(world.ids[m[1]]), operation.path)
    stranger_token = app_session_start(user=world.stranger, device_name="", user_agent="", ip=None, now=NOW)
    owner_token = app_session_start(user=world.owner, device_name="", user_agent="", ip=None, now=NOW)
    links_before = list(AccountLink.objects.order_by("pk").values_list("pk", "name", "is_default"))
    sessions_before = list(AuthSession.objects.order_by("pk").values_list("pk", "ended_at"))
    readings_before = list(Reading.objects.order_by("pk").values_list("pk", "value", "status"))
    devices_before = list(PushDevice.objects.order_by("pk").values_list("pk", "user_id", "last_seen_at"))
    notifications_before = list(Notification.objects.order_by("pk").values_list("pk", "read_at"))
    paper_before = list(PersonalAccount.objects.order_by("pk").values_list("pk", "paperless_user_id"))

    answer = _call(Client(), operation, url, stranger_token.access_token)

    assert answer.status_code == 404, answer.content
    problem = answer.json()
    assert problem["status"] == 404
    assert problem["code"].endswith("not_found")
    assert _leaks(world, answer.content.decode()) == []
    assert list(AccountLink.objects.order_by("pk").values_list("pk", "name", "is_default")) == links_before
    assert list(AuthSession.objects.order_by("pk").values_list("pk", "ended_at")) == sessions_before
    assert list(Reading.objects.order_by("pk").values_list("pk", "value", "status")) == readings_before
    assert list(PushDevice.objects.order_by("pk").values_list("pk", "user_id", "last_seen_at")) == devices_before
    assert list(Notification.objects.order_by("pk").values_list("pk", "read_at")) == notifications_before
    assert list(PersonalAccount.objects.order_by("pk").values_list("pk", "paperless_user_id")) == paper_before

    owner_answer = _call(Client(), operation, url, owner_token.access_token)
    assert owner_answer.status_code != 404, (
        f"the owner gets 404 from {operation} too: the test's ids are not the operation's objects"
    )
