from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "chronicle.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        from chronicle.developments.signals import public_events_recording

        from .tasks import queue_deliveries

        public_events_recording.connect(queue_deliveries, dispatch_uid="webhooks.queue_deliveries")
