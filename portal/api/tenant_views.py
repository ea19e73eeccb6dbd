"""The tenant's audit trail and Health > Service health through the API."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import viewsets
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from portal.api import serializers
from portal.api.fields import JSONObjectField
from portal.api.mixins import TenantScopedMixin
from portal.models import Event, ServiceIncident
from portal.selectors import EVENT_MISSING, incidents_open, service_health


class EventSerializer(serializers.ModelSerializer):
    data = JSONObjectField(help_text="the verb's own fields (docs/api.md, \"Audit events\")")

    class Meta:
        model = Event
        fields = ["id", "occurred_at", "actor", "verb", "object_type", "object_id", "data"]


class EventViewSet(TenantScopedMixin, viewsets.ReadOnlyModelViewSet):
    """The tenant's audit trail, newest first."""

    missing = EVENT_MISSING
    serializer_class = EventSerializer

    def tenant_queryset(self, tenant):
        return Event.objects.filter(tenant=tenant).order_by("-occurred_at", "-id")


class IncidentBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = ServiceIncident
        fields = ["id", "status", "title", "opened_at"]


class ServiceHealthView(TenantScopedMixin, GenericAPIView):
    """Every service with its status and open incidents."""

    queryset_model = ServiceIncident
    serializer_class = IncidentBriefSerializer
    pagination_class = None  # one row per service: the schema mustn't offer ?page=

    def tenant_queryset(self, tenant):
        return incidents_open(tenant=tenant)

    @extend_schema(responses=inline_serializer("ServiceHealth", {
        "service": serializers.CharField(), "status": serializers.CharField(),
        "incidents": IncidentBriefSerializer(many=True)}, many=True))
    def get(self, request):
        return Response([
            {"service": row["service"].value, "status": str(row["status"]),
             "incidents": IncidentBriefSerializer(row["incidents"], many=True).data}
            for row in service_health(tenant=self.tenant)
        ])
