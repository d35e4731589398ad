from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "chronicle.api"
    label = "api"
    verbose_name = "Partner API"

    def ready(self) -> None:
        from chronicle import cache
        from chronicle.developments.signals import public_events_committed

        from .answers import public_data_changed

        public_events_committed.connect(public_data_changed, dispatch_uid="api.public_data_changed")
        cache.reached_again.connect(public_data_changed, dispatch_uid="api.public_data_changed")
