from django.contrib import admin

from licensing.models import DirectoryUser, LicenseAssignment, OtherServicePlan
from portal.admin_base import ReadOnlyAdmin, ReadOnlyInline


class LicenseInline(ReadOnlyInline):
    model = LicenseAssignment


@admin.register(DirectoryUser)
class DirectoryUserAdmin(ReadOnlyAdmin):
    list_display = ["upn", "display_name", "tenant"]
    list_select_related = ["tenant"]
    search_fields = ["upn", "display_name"]
    inlines = [LicenseInline]


@admin.register(LicenseAssignment)
class LicenseAssignmentAdmin(ReadOnlyAdmin):
    list_display = ["user", "subscription", "disabled_plans", "assigned_at"]
    list_select_related = ["user", "subscription__product"]
    search_fields = ["user__upn"]


@admin.register(OtherServicePlan)
class OtherServicePlanAdmin(ReadOnlyAdmin):
    list_display = ["name", "service_plan_id", "product", "tenant"]
    list_select_related = ["product", "tenant"]
    search_fields = ["name", "tenant__domain"]
