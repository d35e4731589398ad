from django.apps import AppConfig


class DigestsConfig(AppConfig):
    name = "chronicle.digests"
    label = "digests"
    verbose_name = "Digests"
