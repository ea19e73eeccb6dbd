"""Pages of the shell: home, the pages later issues fill, and the support console."""

from django.shortcuts import render

from billing.selectors import subscription_list
from portal import clock
from portal.decorators import tenant_page
from portal.models import Service
from portal.selectors import incidents_open, roles_for_user


@tenant_page
def home(request):
    subscriptions = list(subscription_list(tenant=request.tenant))
    return render(request, "portal/home.html", {
        "active_count": sum(1 for s in subscriptions if s.status == "active"),
        "license_total": sum(s.licenses for s in subscriptions if s.status == "active"),
        "assigned_total": sum(s.assigned_licenses for s in subscriptions if s.status == "active"),
        "open_incidents": incidents_open(tenant=request.tenant).count(),
        "roles": roles_for_user(user=request.user, tenant=request.tenant),
        "today": clock.today(),
        "section": "home",
    })


def _not_built(request, *, title, section):
    return render(request, "portal/not_built.html", {"title": title, "section": section})


@tenant_page
def service_health(request):
    """Health > Service health: each service's state and its open incidents."""
    open_incidents = list(incidents_open(tenant=request.tenant))
    rows = []
    for service in Service:
        incidents = [i for i in open_incidents if i.service == service.value]
        rows.append({"service": service, "incidents": incidents, "healthy": not incidents})
    rows.sort(key=lambda r: (r["healthy"], str(r["service"].label)))
    return render(request, "portal/service_health.html", {"section": "health", "rows": rows})
