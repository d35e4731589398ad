from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "chronicle.api"
    label = "api"
    verbose_name = "Partner API"
