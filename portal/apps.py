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
        self.connect_generation()

    @staticmethod
    def connect_generation():
        """Web processes keep these rows between API requests (portal/generation.py): any one stored or deleted
        (a login deleted takes its tokens and memberships with it) is a new generation."""
        from django.contrib.auth import get_user_model
        from django.core.signals import request_finished, request_started
        from django.db.models.signals import post_delete, post_save

        from portal import generation
        from portal.api import throttling
        from portal.models import AdminMembership, ApiToken, Tenant

        for model in (get_user_model(), ApiToken, AdminMembership, Tenant):
            post_save.connect(_changed, sender=model, dispatch_uid=f"generation.saved.{model._meta.label}")
            post_delete.connect(_changed, sender=model, dispatch_uid=f"generation.deleted.{model._meta.label}")
        request_started.connect(generation.forget, dispatch_uid="generation.request_started")
        request_finished.connect(generation.forget, dispatch_uid="generation.request_finished")
        # The per-login throttle's place a request took ahead and never claimed (portal/api/throttling.py).
        request_started.connect(throttling.ahead_release, dispatch_uid="throttling.ahead.request_started")
        request_finished.connect(throttling.ahead_release, dispatch_uid="throttling.ahead.request_finished")


def _changed(sender, using, **kwargs):
    from portal import generation

    generation.bump(using)
