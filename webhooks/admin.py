from django.contrib import admin

from portal.admin_base import ReadOnlyAdmin, ReadOnlyInline
from webhooks.models import Attempt, Delivery, Endpoint


@admin.register(Endpoint)
class EndpointAdmin(ReadOnlyAdmin):
    list_display = ["id", "tenant", "url", "status", "failing_since", "created_at"]
    list_filter = ["status"]
    list_select_related = ["tenant"]
    exclude = ["secret"]  # the tenant's signing key: not for support staff's eyes


class AttemptInline(ReadOnlyInline):
    model = Attempt


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ["id", "endpoint", "message_id", "type", "status", "attempts", "next_attempt_at", "created_at"]
    list_filter = ["status", "type"]
    list_select_related = ["endpoint__tenant"]
    inlines = [AttemptInline]
