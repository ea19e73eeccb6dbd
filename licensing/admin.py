from django.contrib import admin

from licensing.models import DirectoryUser, LicenseAssignment
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
