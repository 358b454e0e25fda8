"""The database refuses to change a ledger entry (on PostgreSQL also to delete one): a
mistake is put right by a new entry. SQLite keeps deletes possible, as test databases are
emptied row by row there."""

from django.db import migrations

PG = """
CREATE FUNCTION ledger_entry_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'a ledger entry is never changed or deleted: post a correcting entry';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER ledger_entry_no_update BEFORE UPDATE OR DELETE ON ledger_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION ledger_entry_immutable();
"""
PG_UNDO = """
DROP TRIGGER IF EXISTS ledger_entry_no_update ON ledger_ledgerentry;
DROP FUNCTION IF EXISTS ledger_entry_immutable();
"""
SQLITE = """
CREATE TRIGGER ledger_entry_no_update BEFORE UPDATE ON ledger_ledgerentry
BEGIN
    SELECT RAISE(ABORT, 'a ledger entry is never changed: post a correcting entry');
END;
"""
SQLITE_UNDO = "DROP TRIGGER IF EXISTS ledger_entry_no_update;"


def forwards(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        cursor.execute(PG if connection.vendor == "postgresql" else SQLITE)


def backwards(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        for statement in (PG_UNDO if connection.vendor == "postgresql" else SQLITE_UNDO).strip().split("\n"):
            cursor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
