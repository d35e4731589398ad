from django.db import migrations

from chronicle.eventstore import append_only


class Migration(migrations.Migration):
    dependencies = [("eventstore", "0001_initial")]

    operations = [
        migrations.RunPython(
            lambda apps, schema_editor: append_only.install(schema_editor),
            lambda apps, schema_editor: append_only.remove(schema_editor),
        ),
    ]
