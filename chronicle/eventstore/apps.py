from django.apps import AppConfig


class EventStoreConfig(AppConfig):
    name = "chronicle.eventstore"
    label = "eventstore"
    verbose_name = "Event log"
