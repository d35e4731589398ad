import time
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from chronicle.digests import delivery
from chronicle.progress import progress


class Command(BaseCommand):
    help = "Run a digest pass now: plan the period's digests and send every one that is due."

    def add_arguments(self, parser):
        parser.add_argument("--frequency", required=True, choices=["daily", "weekly"])
        parser.add_argument("--day", help="The day whose period to run (YYYY-MM-DD); today by default.")

    def handle(self, *args, frequency: str, day: str | None, **options):
        try:
            on = date.fromisoformat(day) if day else None
        except ValueError:
            raise CommandError(f"--day={day!r} is not a date; use YYYY-MM-DD.") from None
        started = time.perf_counter()
        with progress(None, "digest", self.stderr) as bar:

            def advance(done: int, total: int) -> None:
                bar.total = total
                bar.update(done)

            period, tally = delivery.run_pass(frequency, on, on_progress=advance)
        elapsed = time.perf_counter() - started
        self.stdout.write(f"{frequency.capitalize()} digests for {period}: {tally} in {elapsed:.1f} s.")
