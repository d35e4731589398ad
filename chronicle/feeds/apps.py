from django.apps import AppConfig


class FeedsConfig(AppConfig):
    name = "chronicle.feeds"
    label = "feeds"
    verbose_name = "Feeds"
