"""Reading and inserting many rows at once, past the ORM's per-value work.

``rows_insert``: COPY on PostgreSQL, one prepared statement on SQLite (on both, the rows
that would break a unique constraint may be skipped instead). Rows are tuples in
the order of ``fields`` (model field names; a foreign key by its ``<name>_id`` column);
dates, datetimes and decimals are Python values, JSON a string. It runs on the current
connection, inside the caller's transaction.

``rows_select``: plain tuples from SQL, with decimals, dates and booleans as Python values
on every database (PostgreSQL's driver gives them so; SQLite gives numbers and text).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.db import connection, models, transaction


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


def rows_insert(
    model: type[models.Model], fields: Sequence[str], rows: Iterable[tuple[Any, ...]], *, skip_conflicts: bool = False
) -> int:
    """Insert ``rows`` into ``model``'s table; returns how many were given. A broken
    constraint raises the database's IntegrityError and, inside a transaction, leaves
    nothing written — unless ``skip_conflicts``: then a row that would break a unique
    constraint is left out (``INSERT … ON CONFLICT DO NOTHING``; on PostgreSQL from a scratch
    table the rows are copied to) and the others are inserted."""
    qn = connection.ops.quote_name
    columns = [str(model._meta.get_field(name).column) for name in fields]  # type: ignore[union-attr]
    table = qn(model._meta.db_table)
    names = ", ".join(qn(c) for c in columns)
    count = 0
    connection.ensure_connection()
    raw: Any = connection.connection
    if connection.vendor == "postgresql" and skip_conflicts:
        # COPY has no ON CONFLICT: the rows go to a scratch table of the transaction first.
        scratch = qn(f"_rows_{model._meta.db_table}")
        with transaction.atomic(), raw.cursor() as cursor:
            cursor.execute(f"CREATE TEMP TABLE {scratch} ON COMMIT DROP AS SELECT {names} FROM {table} WITH NO DATA")
            with cursor.copy(f"COPY {scratch} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
            cursor.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM {scratch} ON CONFLICT DO NOTHING")
            cursor.execute(f"DROP TABLE {scratch}")
        return count
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
        conflicts = " ON CONFLICT DO NOTHING" if skip_conflicts else ""
        raw.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks}){conflicts}", converted)
    return len(converted)


def table(model: type[models.Model]) -> str:
    """The model's table name, quoted for SQL."""
    return str(connection.ops.quote_name(model._meta.db_table))


def rows_select(
    sql: str,
    params: Sequence[Any] = (),
    *,
    decimals: dict[int, int] | None = None,
    dates: Sequence[int] = (),
    bools: Sequence[int] = (),
) -> list[tuple[Any, ...]]:
    """The rows of ``sql`` (``%s`` placeholders) as tuples; the columns at the positions in
    ``decimals`` (position → decimal places of the column), ``dates`` and ``bools`` come back
    as Decimal, date and bool everywhere."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows: list[tuple[Any, ...]] = cursor.fetchall()
    if connection.vendor == "postgresql" or not rows or not (decimals or dates or bools):
        return rows
    steps = [(i, Decimal(1).scaleb(-places)) for i, places in (decimals or {}).items()]
    result = []
    for row in rows:
        values = list(row)
        for i, places in steps:
            if values[i] is not None:
                values[i] = Decimal(str(values[i])).quantize(places)
        for i in dates:  # a date column comes back as a date, an expression's value as text
            if isinstance(values[i], str):
                values[i] = dt.date.fromisoformat(values[i])
        for i in bools:
            if values[i] is not None:
                values[i] = bool(values[i])
        result.append(tuple(values))
    return result
