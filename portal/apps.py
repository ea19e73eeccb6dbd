from django.apps import AppConfig
from django.urls import register_converter


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Admin center"

    def ready(self):
        from portal import verbs as portal_verbs
        from portal import workers  # noqa: F401  its Celery signal receivers record each worker's beats
        from portal.converters import IdConverter
        from portal.texts import EVENTS, register_events

        register_converter(IdConverter, "id")
        register_events(EVENTS, verbs=portal_verbs)
