"""Messages to the subscriber through the API: the devices that receive push notifications,
what the subscriber receives on which channel, and the notification centre.

A user reaches only their own devices and notifications: any other id is 404
``push_device_not_found`` or ``notification_not_found``, whether such an object exists or
not. Each handler parses its input, makes one call into ``abonent.notifications`` and maps
the result; errors become problems in ``api/errors.py``. A refused request changes nothing.

Mounted by ``api/urls.py``: ``api.add_router("/push-devices", notifications.devices_router)``,
``api.add_router("/profile", notifications.preferences_router)`` and
``api.add_router("/notifications", notifications.centre_router)``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.http import HttpRequest
from django.utils.translation import gettext
from ninja import Path, Router, Status

from abonent.api.auth import bearer, principal
from abonent.api.notifications_schemas import (
    TOKEN_SUFFIX_LENGTH,
    KindPreferencesOut,
    NotificationItemOut,
    NotificationsPageOut,
    NotificationsReadIn,
    NotificationsReadOut,
    PreferencesIn,
    PushDeviceIn,
    PushDeviceOut,
    PushDeviceTokenIn,
    UnreadCountOut,
)
from abonent.api.pagination import DEFAULT_LIMIT, Cursor, CursorInvalid, Limit, Page, cursor_decode, cursor_encode
from abonent.api.schemas import INVALID, UNAUTHORIZED, Problem
from abonent.core import clock
from abonent.core.errors import ValidationFailed
from abonent.customers import selectors as customers_selectors
from abonent.identity.models import User
from abonent.identity.selectors import recipient_of
from abonent.notifications import selectors
from abonent.notifications import services as notifications
from abonent.notifications.enums import Channel
from abonent.notifications.models import Notification, PushDevice

devices_router = Router(tags=["notifications"], auth=bearer)
preferences_router = Router(tags=["profile"], auth=bearer)
centre_router = Router(tags=["notifications"], auth=bearer)

DeviceId = Annotated[int, Path(ge=1, le=2**63 - 1, description="id устройства из /push-devices")]
NotificationId = Annotated[int, Path(ge=1, le=2**63 - 1, description="id уведомления из /notifications")]

# 404 push_device_not_found or notification_not_found; 422 an id that is not a positive whole number
NOT_FOUND: dict[int, Any] = {404: Problem, 422: Problem}


# --- Mapping --------------------------------------------------------------------------


def _utc(moment: dt.datetime | None) -> dt.datetime | None:
    return None if moment is None else moment.astimezone(dt.UTC)


def _device(device: PushDevice) -> dict[str, Any]:
    return {
        "id": device.pk,
        "platform": device.platform,
        "name": device.name,
        "token_suffix": device.token[-TOKEN_SUFFIX_LENGTH:],
        "created_at": _utc(device.created_at),
        "last_seen_at": _utc(device.last_seen_at),
    }


def _preferences(user: User) -> list[dict[str, Any]]:
    matrix = selectors.preferences_get(recipient=recipient_of(user))
    return [
        {
            "kind": item.kind,
            "label": item.label,
            "channels": [
                {
                    "channel": choice.channel,
                    "label": str(Channel(choice.channel).label),
                    "enabled": choice.enabled,
                    "mandatory": choice.mandatory,
                    "available": choice.available,
                }
                for choice in item.channels
            ],
        }
        for item in matrix
    ]


def _notification(item: Notification, *, linked: set[int]) -> dict[str, Any]:
    """A notification of the centre; the account it names only while it is the user's
    (a message outlives the link)."""
    return {
        "id": item.pk,
        "kind": item.kind,
        "title": item.title,
        "body": item.body,
        "created_at": _utc(item.created_at),
        "read": item.read_at is not None,
        "read_at": _utc(item.read_at),
        "account_id": item.account_id if item.account_id in linked else None,
    }


def _linked_accounts(user: User) -> set[int]:
    return {link.account_id for link in customers_selectors.account_links_list(user=user)}


def _page(user: User, *, cursor: str | None, limit: int, unread_only: bool) -> Page[Notification]:
    """A page of the centre newest first, read in the query: the cursor names the last
    notification served (one of the user's, read since or not). Raises CursorInvalid."""
    before_id = None
    if cursor is not None and cursor.strip():
        before_id = cursor_decode(cursor)
        try:
            selectors.notification_get(user=user, notification_id=before_id)
        except notifications.NotificationNotFound:
            raise CursorInvalid() from None
    items = list(selectors.notifications_list(user=user, limit=limit + 1, before_id=before_id, unread_only=unread_only))
    more = len(items) > limit
    items = items[:limit]
    return Page(items=items, next_cursor=cursor_encode(items[-1].pk) if more else None)


# --- Push devices ---------------------------------------------------------------------


@devices_router.get("", response={200: list[PushDeviceOut], **UNAUTHORIZED}, summary="Мои устройства для push")
def push_devices_list(request: HttpRequest) -> list[dict[str, Any]]:
    """The user's devices that receive push notifications, the most recently registered
    first. The app finds itself in the list by ``token_suffix``."""
    user, _session = principal(request)
    return [_device(device) for device in selectors.push_devices_list(user=user)]


@devices_router.post(
    "",
    response={200: PushDeviceOut, 201: PushDeviceOut, **UNAUTHORIZED, **INVALID},
    summary="Зарегистрировать устройство для push-уведомлений",
)
def push_device_register(request: HttpRequest, payload: PushDeviceIn) -> Status[dict[str, Any]]:
    """Registers the token the push service (FCM or APNs) gave the app. The app calls it
    after every login and whenever the service gives it a new token: it is safe to repeat.

    Answers 201 with the device when the token is new to the user (first registration, or a
    token that belonged to another user of the same phone: it moves to this one), 200 with
    the same device when the user had it already (``last_seen_at`` renewed, the name replaced
    by a non-empty one). A user keeps the 10 most recently registered devices; the oldest
    goes when one more registers.

    Errors (nothing is stored): 422 ``validation_failed`` with ``errors`` naming each field:
    ``platform`` (not fcm or apns), ``token`` (empty, longer than 500, characters other
    than Latin letters, digits and ``- _ : .``, for APNs not 64 hexadecimal digits),
    ``name`` (longer than 120), a field of a wrong type or one not listed; 400
    ``invalid_json``.
    """
    user, _session = principal(request)
    known = {device.token for device in selectors.push_devices_list(user=user)}
    device = notifications.push_device_register(
        user=user, platform=payload.platform, token=payload.token, name=payload.name, now=clock.now()
    )
    return Status(200 if device.token in known else 201, _device(device))


@devices_router.post(
    "/unregister",
    response={204: None, **UNAUTHORIZED, 404: Problem, **INVALID},
    summary="Удалить устройство по его токену",
)
def push_device_unregister(request: HttpRequest, payload: PushDeviceTokenIn) -> Status[None]:
    """The app removes itself by the token it registered, e.g. before logging out: no more
    push notifications reach it for this user. The token goes in the body, not in the
    address, so it does not land in logs.

    Errors: 404 ``push_device_not_found`` (the user has no device with this token — it was
    removed already, or it moved to another user: the app may take it as done); 422
    ``validation_failed`` (``token`` empty or longer than 500); 400 ``invalid_json``.
    """
    user, _session = principal(request)
    notifications.push_device_remove(user=user, token=payload.token)
    return Status(204, None)


@devices_router.delete(
    "/{device_id}",
    response={204: None, **UNAUTHORIZED, **NOT_FOUND},
    summary="Удалить устройство",
)
def push_device_delete(request: HttpRequest, device_id: DeviceId) -> Status[None]:
    """Removes one of the user's devices from the list (a lost phone, an old tablet).

    Errors: 404 ``push_device_not_found`` (not the user's, or no such device); 422
    ``validation_failed`` (the id is not a positive whole number).
    """
    user, _session = principal(request)
    notifications.push_device_remove(user=user, device_id=device_id)
    return Status(204, None)


# --- Notification preferences ---------------------------------------------------------


@preferences_router.get(
    "/notification-preferences",
    response={200: list[KindPreferencesOut], **UNAUTHORIZED},
    summary="Какие сообщения и каким каналом получать",
)
def preferences_get(request: HttpRequest) -> list[dict[str, Any]]:
    """Every kind of message the subscriber chooses, each with the channels it goes out on:
    whether it is on (their choice or the default), whether it is mandatory (cannot be
    switched off: the debt notice that precedes a suspension of the supply, safety notices)
    and whether it can reach them now (``available``: a confirmed e-mail or phone, a
    registered device). The language of the messages is the profile's ``language``."""
    user, _session = principal(request)
    return _preferences(user)


@preferences_router.patch(
    "/notification-preferences",
    response={200: list[KindPreferencesOut], **UNAUTHORIZED, **INVALID},
    summary="Изменить, какие сообщения и каким каналом получать",
)
def preferences_update(request: HttpRequest, payload: PreferencesIn) -> list[dict[str, Any]]:
    """Sets the pairs in ``choices`` (kind, channel, enabled); the pairs not named keep
    theirs. Answers the whole table as it is now.

    Errors (nothing changes, not even the valid pairs of the request): 422
    ``preference_not_allowed`` with ``errors`` naming each refused pair as
    ``<kind>.<channel>`` (``debt_notice.email``): a kind that is not chosen by the
    subscriber or does not exist, a channel the kind does not go out on or that does not
    exist, switching off a mandatory notice; 422 ``validation_failed``: the same pair twice
    (named the same way), more than 100 pairs, a field of a wrong type or one not listed
    (``choices.0.enabled``); 400 ``invalid_json``.
    """
    user, _session = principal(request)
    choices: dict[tuple[str, str], bool] = {}
    repeated: dict[str, list[str]] = {}
    for choice in payload.choices:
        key = (choice.kind, choice.channel)
        if key in choices:
            repeated[f"{choice.kind}.{choice.channel}"] = [gettext("Эта пара указана в choices больше одного раза")]
        choices[key] = choice.enabled
    if repeated:
        raise ValidationFailed(repeated)
    notifications.preferences_set(user=user, choices=choices, now=clock.now())
    return _preferences(user)


# --- The notification centre ----------------------------------------------------------
# /unread-count and /read are declared before /{notification_id}, so that they are not read as ids.


@centre_router.get("", response={200: NotificationsPageOut, **UNAUTHORIZED, 422: Problem}, summary="Уведомления")
def notifications_list(
    request: HttpRequest, cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT, unread_only: bool = False
) -> dict[str, Any]:
    """The user's notification centre, newest first: reminders, bills, answers to appeals,
    the supplier's announcements; ``unread_only=true`` — only those not read yet. Pages of
    ``limit``; the next one with ``?cursor=<next_cursor>``, until ``next_cursor`` is null
    (marking notifications read while paging does not upset the cursor). ``unread_count``
    is the count of all unread ones, for the badge.

    Errors: 422 ``cursor_invalid`` (a cursor not from this list), ``validation_failed``
    (``limit`` not from 1 to 100, ``unread_only`` not true or false).
    """
    user, _session = principal(request)
    page = _page(user, cursor=cursor, limit=limit, unread_only=unread_only)
    linked = _linked_accounts(user)
    return {
        "items": [_notification(item, linked=linked) for item in page.items],
        "next_cursor": page.next_cursor,
        "unread_count": selectors.notifications_unread_count(user=user),
    }


@centre_router.get(
    "/unread-count", response={200: UnreadCountOut, **UNAUTHORIZED}, summary="Сколько непрочитанных уведомлений"
)
def notifications_unread_count(request: HttpRequest) -> dict[str, int]:
    """The number for the badge on the app's bell."""
    user, _session = principal(request)
    return {"unread_count": selectors.notifications_unread_count(user=user)}


@centre_router.post(
    "/read",
    response={200: NotificationsReadOut, **UNAUTHORIZED, 404: Problem, **INVALID},
    summary="Отметить уведомления прочитанными",
)
def notifications_read(request: HttpRequest, payload: NotificationsReadIn) -> dict[str, int]:
    """Marks the notifications in ``ids`` read, or, without ``ids`` (``{}``), all of the
    user's. Notifications read before stay as they were. Answers how many became read and
    how many unread are left.

    Errors (nothing is marked): 404 ``notification_not_found`` (an id that is not one of
    the user's notifications); 422 ``validation_failed`` (``ids`` not a list of whole
    numbers, more than 100); 400 ``invalid_json``.
    """
    user, _session = principal(request)
    marked = notifications.notifications_mark_read(user=user, now=clock.now(), notification_ids=payload.ids)
    return {"marked": marked, "unread_count": selectors.notifications_unread_count(user=user)}


@centre_router.get(
    "/{notification_id}", response={200: NotificationItemOut, **UNAUTHORIZED, **NOT_FOUND}, summary="Уведомление"
)
def notification_get(request: HttpRequest, notification_id: NotificationId) -> dict[str, Any]:
    """One notification of the centre (the one a push notification opens: its payload has
    ``notification_id``). Opening it does not mark it read: ``POST /notifications/read``
    with its id does.

    Errors: 404 ``notification_not_found`` (not the user's, or no such notification); 422
    ``validation_failed`` (the id is not a positive whole number).
    """
    user, _session = principal(request)
    item = selectors.notification_get(user=user, notification_id=notification_id)
    return _notification(item, linked=_linked_accounts(user))
