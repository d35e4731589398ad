from django.db import migrations

from chronicle.eventstore import store

# PostgreSQL only: the append function also refuses an append to a stream that is behind the
# version it expects (see store.APPEND_FUNCTION), so no stream gets a hole in its versions.


def replace(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(store.APPEND_FUNCTION)


class Migration(migrations.Migration):
    dependencies = [("eventstore", "0005_append_function")]

    operations = [migrations.RunPython(replace, migrations.RunPython.noop)]
