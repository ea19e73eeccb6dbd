from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"

    def ready(self):
        from billing.texts import MESSAGES
        from portal.texts import register

        register(MESSAGES)
