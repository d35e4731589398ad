import time

from django.core.management.base import BaseCommand

from chronicle.progress import progress
from chronicle.webhooks import delivery


class Command(BaseCommand):
    help = "Deliver every due webhook event now (what the Celery task does)."

    def handle(self, *args, **options):
        started = time.perf_counter()
        with progress(None, "endpoint", self.stderr) as bar:
            tally = delivery.deliver_due(on_progress=bar.update)
        self.stdout.write(f"Webhooks: {tally} in {time.perf_counter() - started:.1f} s.")
