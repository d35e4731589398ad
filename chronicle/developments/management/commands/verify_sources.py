from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from chronicle.developments import verification
from chronicle.progress import progress


class Command(BaseCommand):
    help = (
        "Check an import file against the documents its sources come from, in DIR: every quote "
        "verbatim, every locator names a document there, every number and amount written in the "
        "documents the record cites. Fails on any problem, and when it checked nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path, metavar="DIR", help="the folder holding the source documents")
        parser.add_argument(
            "--chronicle",
            type=Path,
            default=settings.BASE_DIR / "fixtures" / "seed_chronicle.json",
            help="the import file to check (default: the seed chronicle)",
        )

    def handle(self, *args, directory: Path, chronicle: Path, **options):
        if not directory.is_dir():
            raise CommandError(f"{directory} is not a folder; give the folder that holds the source documents.")
        records = verification.records_in(chronicle)
        with progress(len(records), "record", self.stderr) as bar:
            result = verification.verify(records, directory, on_record=bar.update)
        for problem in result.problems:
            self.stderr.write(f"  {problem}")
        self.stdout.write(f"{chronicle.name} against {directory}: {result.summary()}")
        if result.checked_nothing:
            raise CommandError(
                f"nothing was checked: none of the {result.documents} files in {directory} is a document "
                f"that the {result.records} records of {chronicle.name} quote."
            )
        if result.problems:
            raise CommandError(f"{len(result.problems)} problem(s) in {chronicle.name}; see above.")
