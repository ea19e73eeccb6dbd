"""Reads for the shell: who the admin is, in which tenant, with which roles."""

import hmac
from collections.abc import Callable, Iterator

from django.contrib.auth.models import AbstractBaseUser
from django.db import models
from django.utils.translation import gettext_lazy

from portal import tokens
from portal.errors import Missing
from portal.inputs import parse_id
from portal.models import AdminMembership, ApiToken, IncidentStatus, Service, ServiceIncident, Tenant

TENANT_MISSING = Missing("tenant_not_found", gettext_lazy("No such organization."))
INCIDENT_MISSING = Missing("incident_not_found", gettext_lazy("No such incident."))
API_TOKEN_MISSING = Missing("api_token_not_found", gettext_lazy("No such API token."))
EVENT_MISSING = Missing("event_not_found", gettext_lazy("No such event."))


def object_get(queryset, raw_id, missing: Missing):
    """The one way to say "not found": the object of ``queryset`` (already scoped to the caller's tenant,
    locked if the caller wants) with this id, or ``missing``'s NotFound when there is none or the id
    isn't a whole number in ASCII digits within the database's range (ids arrive as text from forms and
    URLs; ``int('٤')`` is 4). A missing id and another tenant's read the same."""
    pk = parse_id(raw_id)
    found = None if pk is None else queryset.filter(pk=pk).first()
    if found is None:
        raise missing.error()
    return found


def tenant_id_ranges(ids: list[int], size: Callable[[], int]) -> Iterator[tuple[int, int]]:
    """Ranges of tenant ids (first id, last id) each holding ``size()`` (at least 1, asked for as each range is
    cut) of ``ids`` (sorted), together covering every id, the last one open-ended (a tenant made meanwhile is in
    it): how the day loop splits a busy day into short transactions, setting each range's size by how long the
    one before held its transaction."""
    lo, i = 0, 0
    while i < len(ids):
        i = min(i + max(size(), 1), len(ids))
        hi = ids[i - 1] if i < len(ids) else TENANT_ID_END
        yield lo, hi
        lo = hi + 1
    if not ids:
        yield 0, TENANT_ID_END


# Past every tenant's id (a bigint): the end of the last range.
TENANT_ID_END = 2**63 - 1


def within(tenants: tuple[int, int] | None) -> dict:
    """Filter keywords keeping the rows of tenants whose ids lie in ``tenants`` (first, last), or every
    tenant's (None)."""
    return {} if tenants is None else {"tenant_id__gte": tenants[0], "tenant_id__lte": tenants[1]}


def tenant_get(*, id) -> Tenant:
    """Any tenant (support staff's)."""
    return object_get(Tenant.objects.all(), id, TENANT_MISSING)


def incident_get(*, tenant: Tenant | None, id, lock: bool = False) -> ServiceIncident:
    """One of the tenant's incidents (``tenant=None``: any tenant's, support staff's)."""
    incidents = ServiceIncident.objects.all() if tenant is None else ServiceIncident.objects.filter(tenant=tenant)
    return object_get(incidents.select_for_update() if lock else incidents, id, INCIDENT_MISSING)


def tenant_for_user(*, user: AbstractBaseUser) -> Tenant | None:
    """The tenant an admin belongs to, or None (support staff, or no membership)."""
    if not user.is_authenticated:
        return None
    membership = (
        AdminMembership.objects.select_related("tenant").filter(user=user).order_by("id").first()
    )
    return membership.tenant if membership else None


def roles_for_user(*, user: AbstractBaseUser, tenant: Tenant) -> list[str]:
    return sorted(
        AdminMembership.objects.filter(user=user, tenant=tenant).values_list("role", flat=True)
    )


def tenant_and_roles_for_user(*, user: AbstractBaseUser) -> tuple[Tenant | None, list[str]]:
    """``tenant_for_user`` and that tenant's ``roles_for_user`` in one query (every API request asks
    both): the login's memberships, the first one's tenant, the roles it holds there."""
    if not user.is_authenticated:
        return None, []
    memberships = list(AdminMembership.objects.select_related("tenant").filter(user=user).order_by("id"))
    if not memberships:
        return None, []
    tenant = memberships[0].tenant
    return tenant, sorted(m.role for m in memberships if m.tenant_id == tenant.pk)


def is_support_staff(*, user: AbstractBaseUser) -> bool:
    return bool(user.is_authenticated and user.is_staff)


def incidents_open(*, tenant: Tenant):
    """Incidents not in a healthy state (CONTRACT.md lists the healthy statuses)."""
    healthy = [s.value for s in ServiceIncident.HEALTHY]
    return ServiceIncident.objects.filter(tenant=tenant).exclude(status__in=healthy)



def service_health(*, tenant: Tenant) -> list[dict]:
    """Every service with its status and open incidents, unhealthy services first
    (one query). A service without an open incident is operational."""
    incidents = list(incidents_open(tenant=tenant))
    rows = []
    for service in Service:
        mine = [i for i in incidents if i.service == service.value]
        rows.append({"service": service, "incidents": mine,
                     "status": mine[0].status if mine else IncidentStatus.SERVICE_OPERATIONAL})
    rows.sort(key=lambda r: (not r["incidents"], str(r["service"].label)))
    return rows


# --- API tokens (portal.tokens: the format; services: the writes) ------------------------------


def api_token_list(*, user: AbstractBaseUser):
    """The login's own tokens, live ones first, newest first within each."""
    return ApiToken.objects.filter(user=user).order_by(
        models.F("revoked_at").desc(nulls_first=True), "-created_at", "-id")


def api_token_get(*, user: AbstractBaseUser, id) -> ApiToken:
    """One of the login's own tokens; another login's and a missing one are the same 404."""
    return object_get(ApiToken.objects.filter(user=user), id, API_TOKEN_MISSING)


def api_token_find(*, key: str) -> ApiToken | None:
    """The token this secret is (with its login), revoked and expired ones too, or None. Looked up by
    its key id, then its digest compared in constant time."""
    if not key or len(key) > tokens.MAX_LENGTH:
        return None
    wanted = tokens.digest(key)
    found = None
    for candidate in ApiToken.objects.select_related("user").filter(key_id=tokens.key_id(key))[:20]:
        if hmac.compare_digest(candidate.digest, wanted):
            found = candidate
    return found


def api_token_key_in_use(*, key: str) -> bool:
    return ApiToken.objects.filter(digest=tokens.digest(key)).exists()
