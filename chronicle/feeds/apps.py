from django.apps import AppConfig


class FeedsConfig(AppConfig):
    name = "chronicle.feeds"
    label = "feeds"
    verbose_name = "Feeds"

    def ready(self) -> None:
        from chronicle.developments.signals import public_events_committed

        from .tasks import queue_affected_feeds

        public_events_committed.connect(queue_affected_feeds, dispatch_uid="feeds.queue_affected_feeds")
