"""Rows inserted past the ORM: with ``skip_conflicts`` the rows that would break a unique
constraint are left out and the others go in, inside or outside a transaction."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction

from abonent.core.bulk import rows_insert
from abonent.notifications.models import Notification
from tests.web.identity import user_make

pytestmark = pytest.mark.django_db

AT = dt.datetime(2026, 11, 22, 9, 0, tzinfo=dt.UTC)
FIELDS = ("user_id", "kind", "occasion", "title", "body", "in_portal", "created_at", "batch")


def row(user_id: int, occasion: str, batch: str) -> tuple[object, ...]:
    return (user_id, "readings_open", occasion, f"Заголовок {occasion}", "Текст", True, AT, batch)


def test_rows_that_would_break_a_unique_constraint_are_skipped_and_the_others_inserted() -> None:
    user = user_make(email="maria@example.org")
    rows_insert(Notification, FIELDS, [row(user.pk, "a", "first"), row(user.pk, "b", "first")])

    given = rows_insert(
        Notification,
        FIELDS,
        [row(user.pk, "b", "second"), row(user.pk, "c", "second"), row(user.pk, "c", "second")],
        skip_conflicts=True,
    )

    assert given == 3
    assert list(Notification.objects.order_by("occasion").values_list("occasion", "batch", "created_at")) == [
        ("a", "first", AT),
        ("b", "first", AT),
        ("c", "second", AT),
    ]
    with transaction.atomic():  # in the caller's transaction too, and again: nothing new
        assert rows_insert(Notification, FIELDS, [row(user.pk, "a", "third")], skip_conflicts=True) == 1
        assert rows_insert(Notification, FIELDS, [], skip_conflicts=True) == 0
    assert Notification.objects.count() == 3


def test_without_skipping_a_conflict_fails_the_whole_insert() -> None:
    user = user_make(email="maria@example.org")
    rows_insert(Notification, FIELDS, [row(user.pk, "a", "first")])

    driver_error = connection.Database.IntegrityError  # type: ignore[attr-defined]  # the driver's own
    with pytest.raises(driver_error), transaction.atomic():
        rows_insert(Notification, FIELDS, [row(user.pk, "b", "second"), row(user.pk, "a", "second")])

    assert list(Notification.objects.values_list("occasion", flat=True)) == ["a"]
