from django.contrib import admin

from planchange.models import PlanChange, PlanChangeStep, Quote
from portal.admin_base import ReadOnlyAdmin, ReadOnlyInline


class StepInline(ReadOnlyInline):
    model = PlanChangeStep


@admin.register(PlanChange)
class PlanChangeAdmin(ReadOnlyAdmin):
    list_display = ["id", "tenant", "subscription", "target_product", "status", "schedule", "scheduled_for",
                    "requested_at"]
    list_filter = ["status", "schedule"]
    list_select_related = ["tenant", "subscription__product", "target_product"]
    inlines = [StepInline]


@admin.register(Quote)
class QuoteAdmin(ReadOnlyAdmin):
    list_display = ["id", "tenant", "subscription", "target_product", "total", "created_at", "expires_at"]
    list_select_related = ["tenant", "subscription__product", "target_product"]
