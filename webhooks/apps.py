from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"

    def ready(self):
        from portal.services import EVENT_LISTENERS
        from portal.texts import register_events
        from webhooks import verbs as webhooks_verbs
        from webhooks.outbox import event_recorded
        from webhooks.texts import EVENTS

        register_events(EVENTS, verbs=webhooks_verbs)
        if event_recorded not in EVENT_LISTENERS:
            EVENT_LISTENERS.append(event_recorded)
