"""Reads for the shell: who the admin is, in which tenant, with which roles."""

from django.contrib.auth.models import AbstractBaseUser

from portal.inputs import parse_id
from portal.models import AdminMembership, IncidentStatus, Service, ServiceIncident, Tenant


def by_id(queryset, raw_id):
    """The object with this id, or None when there is none or the id isn't a whole number
    in ASCII digits (ids arrive as text from forms and URLs; ``int('٤')`` is 4)."""
    pk = parse_id(raw_id)
    return None if pk is None else queryset.filter(pk=pk).first()


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
