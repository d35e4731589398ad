import time
from datetime import datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from chronicle.exports import packages
from chronicle.progress import progress


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise CommandError(f"--as-of {text!r} is not an ISO date-time, e.g. 2025-01-31T12:00:00Z.") from None
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment, timezone.UTC)


class Command(BaseCommand):
    help = "Write the public record as a Frictionless Data Package (CSV and NDJSON) into a folder."

    def add_arguments(self, parser):
        parser.add_argument("--output", required=True, type=Path, help="Folder to write the package into.")
        parser.add_argument(
            "--as-of", type=_moment, help="The record as it stood then (ISO date-time; UTC if no zone is given)."
        )

    def handle(self, *args, output: Path, as_of: datetime | None, **options):
        if output.exists() and not output.is_dir():
            raise CommandError(f"--output {output} is a file; name a folder.")
        started = time.perf_counter()
        cut = packages.cut_at(as_of)
        with progress(packages.count_rows(cut), "row", self.stderr) as bar:
            summary = packages.write_package(output, cut, on_progress=bar.update)
        elapsed = time.perf_counter() - started
        self.stdout.write(f"{summary} in {elapsed:.1f} s.")
