from django.db import migrations, models

from chronicle.domain import search


def fold_existing(apps, schema_editor):
    PublicDevelopment = apps.get_model("developments", "PublicDevelopment")
    rows = PublicDevelopment.objects.using(schema_editor.connection.alias).only("id", "title", "summary")
    for row in rows.iterator(chunk_size=2000):
        row.search_text = search.document(row.title, row.summary)
        row.save(update_fields=["search_text"])


class Migration(migrations.Migration):
    dependencies = [
        ("developments", "0003_public_relation"),
    ]

    operations = [
        migrations.AddField(
            model_name="publicdevelopment",
            name="search_text",
            field=models.TextField(
                default="", editable=False, help_text="Title and summary folded for `q` (chronicle.domain.search)."
            ),
        ),
        migrations.RunPython(fold_existing, migrations.RunPython.noop),
    ]
