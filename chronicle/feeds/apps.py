from django.apps import AppConfig


class FeedsConfig(AppConfig):
    name = "chronicle.feeds"
    label = "feeds"
    verbose_name = "Feeds"

    def ready(self) -> None:
        from chronicle.developments.signals import public_events_recording

        from .tasks import mark_affected_feeds

        public_events_recording.connect(mark_affected_feeds, dispatch_uid="feeds.mark_affected_feeds")
