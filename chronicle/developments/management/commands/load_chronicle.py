from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from chronicle.developments import importing
from chronicle.progress import progress


class Command(BaseCommand):
    help = (
        "Load developments from an import file (format: fixtures/README.md). The whole file is "
        "validated first and a file with any bad record loads nothing (there is no partial mode). "
        "Idempotent: records the database already holds unchanged append no event."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--check", action="store_true", help="validate only; record nothing")

    def handle(self, *args, path: Path, check: bool, **options):
        try:
            records = importing.read_import_file(path)
        except importing.ImportFileInvalid as invalid:
            for error in invalid.errors:
                self.stderr.write(f"  {error}")
            raise CommandError(f"{path}: {len(invalid.errors)} problem(s); nothing was loaded.") from None
        if check:
            self.stdout.write(f"{path}: all {len(records)} records are valid.")
            return
        with progress(len(records), "record", self.stderr) as bar:
            summary = importing.load(records, source_name=path.name, on_record=bar.update)
        for key in summary.notes_not_applied:
            self.stdout.write(f"  {key}: correction_note not applied; the record is new or unchanged.")
        if not summary.created and not summary.updated and not summary.corrected:
            self.stdout.write(f"{path}: nothing to do; all {summary.total} developments are already up to date.")
        else:
            self.stdout.write(
                f"{path}: loaded {summary.total} developments — {len(summary.created)} new, "
                f"{len(summary.corrected)} corrected, {len(summary.updated)} updated, "
                f"{len(summary.unchanged)} unchanged."
            )
