from django.apps import AppConfig


class PlanchangeConfig(AppConfig):
    name = "planchange"

    def ready(self):
        from planchange.texts import EVENTS, MESSAGES
        from portal.texts import register, register_events

        register(MESSAGES)
        register_events(EVENTS)
