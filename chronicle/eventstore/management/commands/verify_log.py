import re

from django.core.management.base import BaseCommand, CommandError

from chronicle.eventstore import sealing
from chronicle.eventstore.models import Event
from chronicle.progress import progress

_KEPT = re.compile(r"^(\d+):([0-9a-f]{64})$")


class Command(BaseCommand):
    help = (
        "Check the event log's tamper-evident seal chain: recompute every seal from the events and "
        "compare. Exits non-zero naming the first position that does not match."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--kept",
            action="append",
            default=[],
            metavar="POSITION:SEAL",
            help="A seal you kept from /api/v1/events/ or /api/v1/events/head/; repeatable.",
        )

    def handle(self, *args, **options):
        kept = {}
        for value in options["kept"]:
            match = _KEPT.match(value.strip().lower())
            if not match:
                raise CommandError(f"--kept {value!r}: give POSITION:SEAL, the seal as 64 hexadecimal digits.")
            kept[int(match[1])] = match[2]
        with progress(Event.objects.count(), "event", self.stderr) as bar:
            result = sealing.verify(kept=kept, on_progress=bar.update)
        if not result.ok:
            raise CommandError(
                f"Position {result.bad_position} does not match: {result.problem}. "
                f"{result.checked:,} sealed events before it matched."
            )
        unsealed = f"; {result.unsealed:,} newer events are not sealed yet" if result.unsealed else ""
        kept_note = f", and the {len(kept)} kept seals" if kept else ""
        summary = f"The log is intact: {result.checked:,} sealed events match their seals{kept_note}{unsealed}."
        self.stdout.write(summary)
