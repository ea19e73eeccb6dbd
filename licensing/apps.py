from django.apps import AppConfig


class LicensingConfig(AppConfig):
    name = "licensing"

    def ready(self):
        from licensing import verbs as licensing_verbs
        from licensing.texts import EVENTS
        from portal.texts import register_events

        register_events(EVENTS, verbs=licensing_verbs)
