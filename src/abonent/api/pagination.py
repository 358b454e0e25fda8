"""Cursor pagination of the API's lists (DESIGN.md §6).

A list answers ``{"items": [...], "next_cursor": "..."}``; the client asks for the next
page with ``?cursor=<next_cursor>`` and stops when ``next_cursor`` is null. The cursor is
opaque to clients: it names the last item served, so a page goes on after that item even
when new ones have been added at the top in between (no item is shown twice, none is
skipped). A cursor that is not one of ours, or names an item that is not in this list,
is 422 ``cursor_invalid``.

``page_after`` pages a list a selector has already read (one meter's history: a few
hundred rows over the meter's life). A list that can grow large should be paged in its
query with the same cursor.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Generic, TypeVar

from django.utils.translation import gettext_lazy as _
from ninja import Query

from abonent.core.errors import ValidationFailed

DEFAULT_LIMIT = 50
MAX_LIMIT = 100
CURSOR_MAX_LENGTH = 200

T = TypeVar("T")

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Сколько элементов на странице: от 1 до {MAX_LIMIT}")]
Cursor = Annotated[
    str | None,
    Query(
        max_length=CURSOR_MAX_LENGTH,
        description="next_cursor из предыдущей страницы; без него — первая страница",
    ),
]


class CursorInvalid(ValidationFailed):
    code = "cursor_invalid"
    message = _("Курсор не подходит к этому списку: запросите первую страницу без cursor и идите по next_cursor")

    def __init__(self) -> None:
        super().__init__({"cursor": [str(self.message)]})


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def cursor_encode(after: int) -> str:
    """The cursor of the page that starts after the item with the id ``after``."""
    data = json.dumps({"after": after}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def cursor_decode(cursor: str) -> int:
    """The id a cursor names. Raises CursorInvalid."""
    text = cursor.strip()
    try:
        data = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (binascii.Error, ValueError):
        raise CursorInvalid() from None
    after = data.get("after") if isinstance(data, dict) else None
    if not isinstance(after, int) or isinstance(after, bool) or after < 1:
        raise CursorInvalid()
    return after


def page_after(items: Sequence[T], *, key: Callable[[T], int], cursor: str | None, limit: int) -> Page[T]:
    """The page of ``items`` (in the order the client sees them; ``key`` gives each a
    unique id) that starts after the item the cursor names, or at the top without one.

    Raises CursorInvalid (not a cursor, or its item is not in ``items``)."""
    start = 0
    if cursor is not None and cursor.strip():
        after = cursor_decode(cursor)
        position = next((index for index, item in enumerate(items) if key(item) == after), None)
        if position is None:
            raise CursorInvalid()
        start = position + 1
    page = list(items[start : start + limit])
    more = start + limit < len(items)
    return Page(items=page, next_cursor=cursor_encode(key(page[-1])) if more and page else None)
