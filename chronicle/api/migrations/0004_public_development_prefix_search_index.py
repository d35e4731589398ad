"""`q` matches word prefixes in PublicDevelopment.search_text (" kopyl" in " … kopylsky …"):
on PostgreSQL a trigram GIN index serves those LIKE '% word%' lookups, and the English
full-text index it replaces goes."""

from django.db import migrations

INDEX = "api_public_development_search_trigram"
OLD_INDEX = "api_public_development_search"
OLD_DOCUMENT = (
    "setweight(to_tsvector('english', coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('english', coalesce(summary, '')), 'B')"
)


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        schema_editor.execute(f"DROP INDEX IF EXISTS {OLD_INDEX}")
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON developments_publicdevelopment USING gin (search_text gin_trgm_ops)"
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {OLD_INDEX} ON developments_publicdevelopment USING gin (({OLD_DOCUMENT}))"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0003_partner_managers"),
        ("developments", "0004_public_search_text"),
    ]

    operations = [migrations.RunPython(create_index, drop_index)]
