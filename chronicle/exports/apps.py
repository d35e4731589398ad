from django.apps import AppConfig


class ExportsConfig(AppConfig):
    name = "chronicle.exports"
    label = "exports"
    verbose_name = "Exports"
