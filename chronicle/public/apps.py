from django.apps import AppConfig


class PublicConfig(AppConfig):
    name = "chronicle.public"
    label = "public"
    verbose_name = "Public pages"
