from django.db import migrations

from chronicle.eventstore import store

# PostgreSQL only: the append as one prepared call (see store.APPEND_FUNCTION).


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(store.APPEND_FUNCTION)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(store.DROP_APPEND_FUNCTION)


class Migration(migrations.Migration):
    dependencies = [("eventstore", "0004_event_transaction_id")]

    operations = [migrations.RunPython(create, drop)]
