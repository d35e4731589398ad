import time

from django.core.management.base import BaseCommand

from chronicle.developments import projections
from chronicle.eventstore.models import Event
from chronicle.progress import progress


class Command(BaseCommand):
    help = "Drop every read model and rebuild it from the event log."

    def handle(self, *args, **options):
        total = Event.objects.count()
        started = time.perf_counter()
        with progress(total, "event", self.stderr) as bar:
            developments, events = projections.rebuild(on_progress=bar.update)
        elapsed = time.perf_counter() - started
        rate = events / elapsed if elapsed else 0
        self.stdout.write(
            f"Rebuilt read models for {developments} developments from {events} events "
            f"in {elapsed:.1f} s ({rate:,.0f} events/s)."
        )
