"""Rows to the database in bulk: COPY on PostgreSQL, ``executemany`` on SQLite.

Primary keys are assigned here, not by the database: the run starts from the first free
id of every table (max(id) + 1, or past what the PostgreSQL sequence has handed out) and
the batches take ids on from there, so child rows name their parents without a round
trip. Each batch is a transaction that locks the tables against other writers
(PostgreSQL: ``SHARE ROW EXCLUSIVE``, reads go on; SQLite: the write lock of BEGIN
IMMEDIATE), checks that nobody took its ids meanwhile, writes, and moves the sequences
past the ids it used, so the application's own inserts go on from there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from abonent.cli.demo.generator import IdCursor, Row
from abonent.customers.models import Contract, GasEquipment, PersonalAccount
from abonent.metering.models import Meter, Reading


@dataclass(frozen=True)
class Table:
    """A model and the fields (by name, primary key first) in the order rows give them."""

    key: str  # the IdCursor attribute
    model: type[models.Model]
    fields: tuple[str, ...]

    @property
    def db_table(self) -> str:
        return self.model._meta.db_table

    @property
    def pk_column(self) -> str:
        return str(self.model._meta.pk.column)

    def columns(self) -> list[str]:
        return [str(self.model._meta.get_field(name).column) for name in self.fields]  # type: ignore[union-attr]


ACCOUNTS = Table(
    "account",
    PersonalAccount,
    (
        "id", "supplier", "number", "holder_last_name", "holder_first_name", "holder_middle_name",
        "postal_code", "region", "locality", "street", "house", "apartment", "residents", "heated_area",
        "central_hot_water", "uses_cooking", "uses_water_heating", "uses_heating", "status", "opened_on",
        "closed_on", "pin_hash",
    ),
)  # fmt: skip
EQUIPMENT = Table("equipment", GasEquipment, ("id", "account", "kind", "model", "installed_on"))
CONTRACTS = Table(
    "contract",
    Contract,
    ("id", "account", "kind", "number", "contractor", "signed_on", "valid_from", "valid_to", "status"),
)
METERS = Table(
    "meter",
    Meter,
    (
        "id", "account", "serial", "model", "digits", "decimals", "initial_value", "installed_on", "sealed_on",
        "verification_due_on", "status", "removed_on",
    ),
)  # fmt: skip
READINGS = Table(
    "reading",
    Reading,
    (
        "id", "meter", "period", "value", "consumption", "read_on", "submitted_at", "channel", "operator_name",
        "status", "submission_key", "review", "rejection_reason",
    ),
)  # fmt: skip
TABLES: tuple[Table, ...] = (ACCOUNTS, EQUIPMENT, CONTRACTS, METERS, READINGS)  # parents first


class SeedError(RuntimeError):
    """The seed cannot go on; the message says why, in Russian."""


class SchemaMismatch(SeedError):
    """A model gained a required field the demo data does not fill."""


def check_tables(tables: Iterable[Table] = TABLES) -> None:
    """Every required column of each table is written: a field added to a model later
    without a default stops the seed here, with its name, not halfway with an IntegrityError."""
    for table in tables:
        missing = [
            f.name
            for f in table.model._meta.concrete_fields
            if f.name not in table.fields and not f.null and f.db_default is models.NOT_PROVIDED
        ]
        if missing:
            raise SchemaMismatch(
                f"{table.model.__name__}: демо-данные не заполняют обязательные поля {', '.join(missing)} — "
                "добавьте их в abonent/cli/demo/generator.py и writer.py"
            )


class IdsTaken(SeedError):
    """Someone else wrote to the tables between two batches."""


class BulkWriter:
    """Writes batches of rows, each in a transaction of its own.

    The connection is looked up on every call, so a batch may be written from a worker
    thread (with that thread's connection) while the next one is being generated.
    """

    def __init__(self, alias: str = DEFAULT_DB_ALIAS) -> None:
        connection = connections[alias]
        if connection.vendor not in {"postgresql", "sqlite"}:
            raise SeedError(f"База {connection.vendor} не поддерживается: только PostgreSQL и SQLite")
        check_tables()
        self.alias = alias
        self.postgres = connection.vendor == "postgresql"
        self._sql = {t.key: self._insert_sql(connection, t) for t in TABLES}
        self._convert = {t.key: self._converters(connection, t) for t in TABLES}
        self._types = {t.key: self._column_types(connection, t) for t in TABLES} if self.postgres else {}
        self._sequences: dict[str, str] = {}

    def _insert_sql(self, connection: BaseDatabaseWrapper, table: Table) -> str:
        qn = connection.ops.quote_name
        columns = ", ".join(qn(c) for c in table.columns())
        if self.postgres:
            return f"COPY {qn(table.db_table)} ({columns}) FROM STDIN (FORMAT BINARY)"
        marks = ", ".join("?" for _ in table.fields)
        return f"INSERT INTO {qn(table.db_table)} ({columns}) VALUES ({marks})"

    @staticmethod
    def _column_types(connection: BaseDatabaseWrapper, table: Table) -> list[str]:
        """PostgreSQL's names of the columns' types, which binary COPY needs to be told."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT attname, format_type(atttypid, NULL) FROM pg_attribute"
                " WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
                [connection.ops.quote_name(table.db_table)],
            )
            types = dict(cursor.fetchall())
        return [types[column] for column in table.columns()]

    def _converters(self, connection: BaseDatabaseWrapper, table: Table) -> list[tuple[int, Callable[[Any], Any]]]:
        """SQLite takes text for dates and times; they are written as the ORM writes them."""
        if self.postgres:
            return []
        ops = connection.ops
        result: list[tuple[int, Callable[[Any], Any]]] = []
        for i, name in enumerate(table.fields):
            field = table.model._meta.get_field(name)
            if isinstance(field, models.DateTimeField):
                result.append((i, ops.adapt_datetimefield_value))
            elif isinstance(field, models.DateField):
                result.append((i, ops.adapt_datefield_value))
            elif isinstance(field, models.DecimalField):
                result.append((i, str))
        return result

    # --- ids ------------------------------------------------------------------------------
    def _sequence(self, cursor: Any, table: Table) -> str:
        if table.key not in self._sequences:
            cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [table.db_table, table.pk_column])
            self._sequences[table.key] = str(cursor.fetchone()[0])
        return self._sequences[table.key]

    def _tops(self, cursor: Any, connection: BaseDatabaseWrapper) -> dict[str, int]:
        """The highest id of every table in use: in a row, or (PostgreSQL) handed out by its sequence."""
        qn = connection.ops.quote_name
        tops: dict[str, int] = {}
        for table in TABLES:
            cursor.execute(f"SELECT MAX({qn(table.pk_column)}) FROM {qn(table.db_table)}")
            top = cursor.fetchone()[0] or 0
            if self.postgres:
                cursor.execute(f"SELECT last_value, is_called FROM {self._sequence(cursor, table)}")
                last_value, is_called = cursor.fetchone()
                top = max(top, last_value if is_called else last_value - 1)
            tops[table.key] = top
        return tops

    def analyze(self) -> None:
        """Refresh PostgreSQL's statistics of the written tables: after a bulk load the
        planner would otherwise plan with the row counts of an empty database until
        autovacuum comes round."""
        connection = connections[self.alias]
        with connection.cursor() as cursor:
            for table in TABLES:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(table.db_table)}")

    def next_ids(self) -> IdCursor:
        """The first free id of every table; the batches take ids on from there."""
        connection = connections[self.alias]
        with connection.cursor() as cursor:
            return IdCursor(**{key: top + 1 for key, top in self._tops(cursor, connection).items()})

    # --- rows -----------------------------------------------------------------------------
    def write_batch(self, rows: dict[str, list[Row]], first: IdCursor, after: IdCursor) -> None:
        """Write one batch, whose rows have ids from ``first`` up to (not including) ``after``,
        in a transaction. Raises IdsTaken when another writer has used those ids meanwhile."""
        connection = connections[self.alias]
        with transaction.atomic(using=self.alias), connection.cursor() as cursor:
            if self.postgres:
                # demo data: a crash may lose the last batches, which the next run makes again
                cursor.execute("SET LOCAL synchronous_commit = off")
                qn = connection.ops.quote_name
                cursor.execute(f"LOCK TABLE {', '.join(qn(t.db_table) for t in TABLES)} IN SHARE ROW EXCLUSIVE MODE")
            tops = self._tops(cursor, connection)
            taken = [t.db_table for t in TABLES if rows[t.key] and tops[t.key] >= getattr(first, t.key)]
            if taken:
                raise IdsTaken(
                    f"Пока загружались демо-данные, в таблицы {', '.join(taken)} писал кто-то ещё. "
                    "Запустите abonent seed ещё раз: он продолжит с того места, где остановился"
                )
            raw: Any = connection.connection
            for table in TABLES:
                if rows[table.key]:
                    self._write(raw, table, rows[table.key])
            if self.postgres:
                for table in TABLES:
                    if rows[table.key]:
                        cursor.execute(
                            "SELECT setval(%s, %s)", [self._sequence(cursor, table), getattr(after, table.key) - 1]
                        )

    def _write(self, raw: Any, table: Table, rows: Sequence[Row]) -> None:
        sql = self._sql[table.key]
        if self.postgres:
            with raw.cursor() as cursor, cursor.copy(sql) as copy:
                copy.set_types(self._types[table.key])
                for row in rows:
                    copy.write_row(row)
            return
        converters = self._convert[table.key]
        if not converters:
            raw.executemany(sql, rows)
            return
        converted = []
        for row in rows:
            values = list(row)
            for i, convert in converters:
                if values[i] is not None:
                    values[i] = convert(values[i])
            converted.append(values)
        raw.executemany(sql, converted)
