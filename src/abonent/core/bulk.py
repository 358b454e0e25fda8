"""Inserting many rows at once: COPY on PostgreSQL, one prepared statement on SQLite.

Rows are tuples in the order of ``fields`` (model field names; a foreign key by its
``<name>_id`` column); dates, datetimes and decimals are Python values, JSON a string.
It runs on the current connection, inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db import connection, models


def _converters(model: type[models.Model], fields: Sequence[str]) -> list[tuple[int, Callable[[Any], Any]]]:
    ops = connection.ops
    result: list[tuple[int, Callable[[Any], Any]]] = []
    for i, name in enumerate(fields):
        field = model._meta.get_field(name)
        if isinstance(field, models.DateTimeField):
            result.append((i, ops.adapt_datetimefield_value))
        elif isinstance(field, models.DateField):
            result.append((i, ops.adapt_datefield_value))
        elif isinstance(field, models.DecimalField):
            result.append((i, str))
    return result


def rows_insert(model: type[models.Model], fields: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> int:
    """Insert ``rows`` into ``model``'s table; returns how many. A broken constraint raises
    the database's IntegrityError and, inside a transaction, leaves nothing written."""
    qn = connection.ops.quote_name
    columns = [str(model._meta.get_field(name).column) for name in fields]  # type: ignore[union-attr]
    table = qn(model._meta.db_table)
    names = ", ".join(qn(c) for c in columns)
    count = 0
    connection.ensure_connection()
    raw: Any = connection.connection
    if connection.vendor == "postgresql":
        with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
        return count
    converters = _converters(model, fields)
    converted = []
    for row in rows:
        values = list(row)
        for i, convert in converters:
            if values[i] is not None:
                values[i] = convert(values[i])
        converted.append(values)
    if converted:
        marks = ", ".join("?" for _ in columns)
        raw.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", converted)
    return len(converted)
