from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"

    def ready(self):
        from billing import verbs as billing_verbs
        from billing.texts import EVENTS, MESSAGES
        from portal.texts import register, register_events

        register(MESSAGES)
        register_events(EVENTS, verbs=billing_verbs)
