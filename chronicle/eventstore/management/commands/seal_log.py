from django.core.management.base import BaseCommand

from chronicle.eventstore import sealing
from chronicle.eventstore.models import Event, Seal
from chronicle.progress import progress


class Command(BaseCommand):
    help = "Seal every event that has no seal yet, now (the Celery task's body)."

    def handle(self, *args, **options):
        last = Seal.objects.order_by("-position").values_list("position", flat=True).first() or 0
        with progress(Event.objects.filter(position__gt=last).count(), "event", self.stderr) as bar:
            sealed = sealing.seal_pending(on_batch=bar.update)
        head = sealing.head()
        where = f"; the log is sealed up to position {head.position}" if head else ""
        self.stdout.write(f"Sealed {sealed:,} events{where}.")
