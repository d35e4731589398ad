from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import connection

# What a restore gives back without a backup: (app label, model name or "*") → how. Everything
# not listed here (and not the log itself) holds facts that exist nowhere else.
REBUILT = {
    ("developments", "*"): "read models: python manage.py rebuild_projections",
    ("eventstore", "seal"): "seals: python manage.py seal_log (verify_log checks them)",
    ("feeds", "*"): "feed files and their state: python manage.py publish_feeds",
    ("contenttypes", "*"): "created by python manage.py migrate",
    ("auth", "permission"): "created by python manage.py migrate",
    ("auth", "group"): "the roles: created by python manage.py migrate",
    ("auth", "group_permissions"): "the roles: created by python manage.py migrate",
    ("sessions", "*"): "sign-in sessions: people sign in again",
}
LOG = ("eventstore", "event")


class Command(BaseCommand):
    help = "List what a backup of Chronicle must hold, and what a restore rebuilds from the event log."

    def handle(self, *args, **options):
        keep, rebuilt = [], []
        for model in apps.get_models(include_auto_created=True):
            meta = model._meta
            key = (meta.app_label, meta.model_name)
            how = REBUILT.get(key) or REBUILT.get((meta.app_label, "*"))
            row = (meta.db_table, str(meta.verbose_name_plural), model.objects.count())
            if key == LOG:
                log = row
            elif how:
                rebuilt.append((*row, how))
            else:
                keep.append(row)
        write = self.stdout.write
        write("A backup must hold:")
        write(f"  {log[0]:<32} {log[2]:>9,} rows  the event log: every development and its whole history")
        for table, name, count in keep:
            write(f"  {table:<32} {count:>9,} rows  {name} (not events: back them up beside the log)")
        write("A restore rebuilds, so a backup need not hold:")
        for table, _name, count, how in rebuilt:
            write(f"  {table:<32} {count:>9,} rows  {how}")
        write("Also outside the database: SECRET_KEY (the links in digest emails already sent are signed with it).")
        tables = " ".join(f"-t {table}" for table in [log[0]] + [table for table, _, _ in keep])
        how = (
            f"pg_dump --data-only {tables} {connection.settings_dict['NAME']}"
            if connection.vendor == "postgresql"
            else f"a copy of {connection.settings_dict['NAME']} taken while Chronicle is stopped"
        )
        write(f"Back up {1 + len(keep)} tables, e.g. {how}; {len(rebuilt)} tables are rebuilt after a restore.")
