from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from chronicle.developments import importing
from chronicle.domain.errors import DomainError
from chronicle.progress import progress


class Command(BaseCommand):
    help = (
        "Load developments from an import file (format: fixtures/README.md). The whole file is "
        "validated first and a file with any bad record loads nothing (there is no partial mode). "
        "Idempotent: records the database already holds unchanged append no event. Records are "
        "loaded in batches; a run that stops keeps the batches it loaded, and running it again "
        "goes on from there."
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
        loaded = 0

        def on_record() -> None:
            nonlocal loaded
            loaded += 1
            bar.update()

        def on_resume(already: int, total: int) -> None:
            self.stdout.write(f"{path}: resuming: {already:,} of {total:,} records already in the log, continuing.")

        try:
            with progress(len(records), "record", self.stderr) as bar:
                summary = importing.load(records, source_name=path.name, on_record=on_record, on_resume=on_resume)
        except BaseException as error:
            if loaded:
                self.stderr.write(
                    f"{path}: stopped after {loaded:,} of {len(records):,} records; those stay loaded. "
                    "Run the same command again to continue from there."
                )
            if isinstance(error, DomainError):  # e.g. a development changed meanwhile, or the database is gone
                raise CommandError(f"{path}: {error}") from None
            if isinstance(error, KeyboardInterrupt):  # Ctrl-C: the line above says it all
                raise SystemExit(130) from None
            raise
        for key in summary.notes_not_applied:
            self.stdout.write(f"  {key}: correction_note not applied; the record is new or unchanged.")
        if not summary.created and not summary.updated and not summary.corrected:
            self.stdout.write(f"{path}: nothing to do; all {summary.total:,} developments are already up to date.")
            return
        earlier = f" ({summary.resumed:,} of them loaded by an earlier run that stopped)" if summary.resumed else ""
        self.stdout.write(
            f"{path}: loaded {summary.total:,} developments — {summary.created:,} new, "
            f"{summary.corrected:,} corrected, {summary.updated:,} updated, {summary.unchanged:,} unchanged{earlier}."
        )
