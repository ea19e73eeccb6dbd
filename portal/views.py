"""Pages of the shell: home and Health > Service health."""

from django.shortcuts import render

from billing.selectors import subscription_list
from portal import clock
from portal.decorators import tenant_page
from portal.selectors import incidents_open, roles_for_user
from portal.selectors import service_health as service_health_rows  # the view has the same name


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


@tenant_page
def service_health(request):
    """Health > Service health: each service's state and its open incidents."""
    return render(request, "portal/service_health.html", {
        "section": "health", "rows": service_health_rows(tenant=request.tenant)})
