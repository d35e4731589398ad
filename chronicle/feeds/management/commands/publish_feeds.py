import time

from django.core.management.base import BaseCommand

from chronicle.feeds import catalog, publishing
from chronicle.progress import progress


class Command(BaseCommand):
    help = "Regenerate every feed file (Atom, RSS, JSON Feed) now."

    def handle(self, *args, **options):
        started = time.perf_counter()
        with progress(len(catalog.every_feed()), "feed", self.stderr) as bar:
            feeds, changed = publishing.publish_all(on_progress=bar.update)
        elapsed = time.perf_counter() - started
        self.stdout.write(f"Published {feeds} feeds ({changed} changed) in {elapsed:.1f} s.")
