"""Reads of webhooks, scoped to a tenant."""

from django.db.models import Prefetch
from django.utils.translation import gettext as _

from portal.errors import NotFound
from portal.selectors import by_id
from webhooks.models import Attempt, Delivery, Endpoint


def endpoints_exist(*, tenant_ids) -> bool:
    return Endpoint.objects.filter(tenant_id__in=list(tenant_ids)).exists()


def endpoint_list(*, tenant):
    return Endpoint.objects.filter(tenant=tenant).order_by("created_at", "id")


def endpoint_get(*, tenant, endpoint_id) -> Endpoint:
    """The tenant's endpoint; the same 404 for a missing one and another tenant's."""
    endpoint = by_id(endpoint_list(tenant=tenant), endpoint_id)
    if endpoint is None:
        raise NotFound(_("No such webhook."), code="not_found")
    return endpoint


def delivery_list(*, endpoint: Endpoint):
    """The endpoint's deliveries, newest first, each with its attempts (two queries however many)."""
    return (Delivery.objects.filter(endpoint=endpoint).order_by("-created_at", "-id")
            .prefetch_related(Prefetch("attempt_log", queryset=Attempt.objects.order_by("number"))))
