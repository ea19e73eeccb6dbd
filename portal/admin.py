from django.contrib import admin

from portal.admin_base import ReadOnlyAdmin
from portal.models import AdminMembership, Event, ServiceIncident, SimulationClock, Tenant


@admin.register(Tenant)
class TenantAdmin(ReadOnlyAdmin):
    list_display = ["name", "domain", "kind", "agreement", "created_at"]
    list_filter = ["kind", "agreement"]
    search_fields = ["name", "domain"]


@admin.register(AdminMembership)
class AdminMembershipAdmin(ReadOnlyAdmin):
    list_display = ["user", "tenant", "role"]
    list_filter = ["role"]
    list_select_related = ["user", "tenant"]
    search_fields = ["user__username", "tenant__domain"]


@admin.register(ServiceIncident)
class ServiceIncidentAdmin(ReadOnlyAdmin):
    list_display = ["tenant", "service", "status", "title", "opened_at", "resolved_at"]
    list_filter = ["service", "status"]
    list_select_related = ["tenant"]


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["occurred_at", "tenant", "actor", "verb", "object_type", "object_id"]
    list_filter = ["verb"]
    list_select_related = ["tenant"]
    search_fields = ["actor", "verb", "object_id"]


@admin.register(SimulationClock)
class SimulationClockAdmin(ReadOnlyAdmin):
    list_display = ["id", "offset", "updated_at"]
