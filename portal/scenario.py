"""The shell's rows as a scenario file states them (the simulation's loader validates the file and
calls this; DESIGN.md: owners write their own tables): tenants, admins and their tokens, support
staff, service incidents."""

from datetime import date, datetime, time

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from portal import clock, tokens
from portal.models import AdminMembership, ApiToken, ServiceIncident, Tenant


def _login(*, username: str, password: str | None, token: str | None, **fields):
    user = get_user_model().objects.create(username=username, password=make_password(password), **fields)
    if token:  # stored as its digest, like every token (the file is where it is written down)
        ApiToken.objects.create(user=user, name="default", key_id=tokens.key_id(token), digest=tokens.digest(token),
                                created_at=timezone.now())
    return user


def tenant_load(t: dict) -> Tenant:
    """The tenant and its admins with their roles (and fixed API tokens, when the file gives them)."""
    tenant = Tenant.objects.create(name=t["name"], domain=t["domain"], kind=t.get("kind", Tenant.Kind.COMMERCIAL),
                                   agreement=t.get("agreement", Tenant.Agreement.MOSA))
    for a in t.get("admins", []):
        user = _login(username=a["username"], password=a.get("password"), token=a.get("api_token"),
                      first_name=a.get("display_name", "")[:150])
        AdminMembership.objects.bulk_create(AdminMembership(user=user, tenant=tenant, role=role)
                                            for role in dict.fromkeys(a["roles"]))
    return tenant


def support_staff_load(s: dict):
    return _login(username=s["username"], password=s.get("password"), token=s.get("api_token"), is_staff=True)


def incidents_load(tenant: Tenant, incidents: list[dict]) -> None:
    ServiceIncident.objects.bulk_create(
        ServiceIncident(tenant=tenant, service=inc["service"], status=inc["status"], title=inc["title"],
                        opened_at=(datetime.combine(date.fromisoformat(inc["opened"]), time(9, 0),
                                                    tzinfo=clock.now().tzinfo)
                                   if "opened" in inc else clock.now()))
        for inc in incidents)


def tenant_unload(tenant: Tenant) -> None:
    """Forget the tenant (an import's ``--replace``, after the apps above forgot their rows): its admins'
    logins that belong to no other tenant, then the tenant with its memberships, incidents and audit trail."""
    users = get_user_model().objects.filter(memberships__tenant=tenant).exclude(
        memberships__tenant__in=Tenant.objects.exclude(pk=tenant.pk))
    get_user_model().objects.filter(pk__in=list(users.values_list("pk", flat=True))).delete()
    tenant.delete()
