"""Support staff's API (``/api/v1/support/…``): every tenant, so not tenant-scoped, and
closed to tenant tokens."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from billing.api.serializers import SubscriptionSerializer
from billing.lifecycle import subscription_provisioning_finish
from billing.models import CreditCheck
from billing.selectors import subscriptions_all
from billing.services import credit_check_decide
from planchange.api.serializers import PlanChangeSerializer
from planchange.models import PlanChange
from planchange.services import plan_change_retry
from portal.api.fields import IdRelatedField, NameField
from portal.api.mixins import IsSupportStaff
from portal.inputs import ID_PATTERN
from portal.models import ServiceIncident, Tenant
from portal.services import incident_open, incident_update


class SupportMixin:
    permission_classes = [IsAuthenticated, IsSupportStaff]
    lookup_value_regex = ID_PATTERN


class SupportPlanChangeSerializer(PlanChangeSerializer):
    tenant = serializers.IntegerField(source="tenant_id")

    class Meta(PlanChangeSerializer.Meta):
        fields = ["tenant", *PlanChangeSerializer.Meta.fields]


class SupportPlanChangeViewSet(SupportMixin, viewsets.ReadOnlyModelViewSet):
    """Plan changes in every tenant; ``?status=`` filters; a stuck one can be retried."""

    serializer_class = SupportPlanChangeSerializer

    def get_queryset(self):
        changes = (PlanChange.objects.select_related("target_product").prefetch_related("steps")
                   .order_by("-requested_at", "-id"))
        status = self.request.query_params.get("status")
        return changes.filter(status=status) if status else changes

    @extend_schema(request=None, responses=SupportPlanChangeSerializer)
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        change = plan_change_retry(change_id=pk, actor=request.user.get_username())
        return Response(self.get_serializer(self.get_queryset().get(pk=change.pk)).data)


class SupportSubscriptionSerializer(SubscriptionSerializer):
    tenant = serializers.IntegerField(source="tenant_id")

    class Meta(SubscriptionSerializer.Meta):
        fields = ["tenant", *SubscriptionSerializer.Meta.fields]


class SupportSubscriptionViewSet(SupportMixin, viewsets.ReadOnlyModelViewSet):
    """Every tenant's subscriptions; ``provision`` finishes one's set-up now."""

    serializer_class = SupportSubscriptionSerializer

    def get_queryset(self):
        return subscriptions_all()

    @extend_schema(request=None, responses=SupportSubscriptionSerializer)
    @action(detail=True, methods=["post"])
    def provision(self, request, pk=None):
        sub = subscription_provisioning_finish(subscription_id=pk, actor=request.user.get_username())
        return Response(self.get_serializer(self.get_queryset().get(pk=sub.pk)).data)


class CreditCheckSerializer(serializers.ModelSerializer):
    tenant = serializers.IntegerField(source="tenant_id")

    class Meta:
        model = CreditCheck
        fields = ["id", "tenant", "status", "requested", "decided_on"]


class SupportCreditCheckViewSet(SupportMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = CreditCheckSerializer
    queryset = CreditCheck.objects.order_by("-requested", "-id")

    @extend_schema(request=None, responses=CreditCheckSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return Response(self.get_serializer(credit_check_decide(check_id=pk, approve=True,
                                                                actor=request.user.get_username())).data)

    @extend_schema(request=None, responses=CreditCheckSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return Response(self.get_serializer(credit_check_decide(check_id=pk, approve=False,
                                                                actor=request.user.get_username())).data)


class IncidentSerializer(serializers.ModelSerializer):
    tenant = IdRelatedField(queryset=Tenant.objects.all())
    title = NameField(max_length=300)

    class Meta:
        model = ServiceIncident
        fields = ["id", "tenant", "service", "status", "title", "opened_at", "resolved_at"]
        read_only_fields = ["opened_at", "resolved_at"]


class IncidentStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ServiceIncident.Status.choices)


class SupportIncidentViewSet(SupportMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin,
                             viewsets.ReadOnlyModelViewSet):
    """Open an incident on a tenant's service (POST), change its status, e.g. to resolved (PATCH)."""

    serializer_class = IncidentSerializer
    queryset = ServiceIncident.objects.order_by("-opened_at", "-id")
    http_method_names = ["get", "post", "patch", "head", "options"]

    def create(self, request, *args, **kwargs):
        data = IncidentSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        incident = incident_open(actor=request.user.get_username(), **data.validated_data)
        return Response(IncidentSerializer(incident).data, status=201)

    @extend_schema(request=IncidentStatusSerializer, responses=IncidentSerializer)
    def partial_update(self, request, pk=None):
        data = IncidentStatusSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        incident = incident_update(incident_id=pk, status=data.validated_data["status"],
                                   actor=request.user.get_username())
        return Response(IncidentSerializer(incident).data)
