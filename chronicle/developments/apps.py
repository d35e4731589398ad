from django.apps import AppConfig


class DevelopmentsConfig(AppConfig):
    name = "chronicle.developments"
    label = "developments"
    verbose_name = "Developments"
