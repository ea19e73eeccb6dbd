"""Pages of the shell: Health > Service health (the home page, a summary of the tenant's
subscriptions, is billing's)."""

from django.shortcuts import render

from portal.decorators import tenant_page
from portal.selectors import service_health as service_health_rows  # the view has the same name


@tenant_page
def service_health(request):
    """Health > Service health: each service's state and its open incidents."""
    return render(request, "portal/service_health.html", {
        "section": "health", "rows": service_health_rows(tenant=request.tenant)})
