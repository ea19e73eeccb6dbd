from django.apps import AppConfig


class PlanchangeConfig(AppConfig):
    name = "planchange"

    def ready(self):
        from billing.hooks import SUBSCRIPTION_EDIT_LISTENERS
        from planchange import verbs as planchange_verbs
        from planchange.hooks import scheduled_change_on_edit
        from planchange.texts import EVENTS, MESSAGES
        from portal.texts import register, register_events

        register(MESSAGES)
        register_events(EVENTS, verbs=planchange_verbs)
        if scheduled_change_on_edit not in SUBSCRIPTION_EDIT_LISTENERS:
            SUBSCRIPTION_EDIT_LISTENERS.append(scheduled_change_on_edit)
