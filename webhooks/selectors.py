"""Reads of webhooks, scoped to a tenant."""

from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext_lazy

from portal.errors import Missing
from portal.selectors import object_get
from webhooks.models import Attempt, Delivery, Endpoint


def endpoints_exist(*, tenant_ids) -> bool:
    return Endpoint.objects.filter(tenant_id__in=list(tenant_ids)).exists()


def endpoint_list(*, tenant):
    return Endpoint.objects.filter(tenant=tenant).order_by("created_at", "id")


WEBHOOK_MISSING = Missing("webhook_not_found", gettext_lazy("No such webhook."))
DELIVERY_MISSING = Missing("delivery_not_found", gettext_lazy("No such delivery."))


def endpoint_get(*, tenant, id) -> Endpoint:
    """The tenant's endpoint; the same ``webhook_not_found`` for a missing one and another tenant's."""
    return object_get(endpoint_list(tenant=tenant), id, WEBHOOK_MISSING)


def delivery_get(*, endpoint: Endpoint, id, lock: bool = False) -> Delivery:
    deliveries = Delivery.objects.filter(endpoint=endpoint)
    return object_get(deliveries.select_for_update() if lock else deliveries, id, DELIVERY_MISSING)


def delivery_list(*, endpoint: Endpoint):
    """The endpoint's deliveries, newest first, each with its attempts (two queries however many)."""
    return (Delivery.objects.filter(endpoint=endpoint).order_by("-created_at", "-id")
            .prefetch_related(Prefetch("attempt_log", queryset=Attempt.objects.order_by("number"))))


def deliveries_waiting_count() -> int:
    """Deliveries due and not being sent, in every tenant: work for a webhook worker (a retry not yet due
    waits for its time, and one being sent carries its lease in ``next_attempt_at``)."""
    return Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=timezone.now()).count()
