from django.db import migrations

# PostgreSQL only: which transaction recorded each event, so readers of `position > cursor`
# can wait for every older writer instead of serialising writers (see store.py).
ADD = """
ALTER TABLE eventstore_event ADD COLUMN transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id();
"""
DROP = "ALTER TABLE eventstore_event DROP COLUMN transaction_id;"


def add(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(ADD)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("eventstore", "0003_seal")]

    operations = [migrations.RunPython(add, drop)]
