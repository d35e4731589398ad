"""A GIN index for `q` on PostgreSQL, over exactly the expression selectors.SEARCH_DOCUMENT
searches. The table belongs to the developments app; the index serves only the API."""

from django.db import migrations

INDEX = "api_public_development_search"
DOCUMENT = (
    "setweight(to_tsvector('english', coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('english', coalesce(summary, '')), 'B')"
)


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON developments_publicdevelopment USING gin (({DOCUMENT}))"
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0001_initial"),
        ("developments", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_index, drop_index)]
