"""Support staff's API (``/api/v1/support/…``): every tenant, so not tenant-scoped, and
closed to tenant tokens."""

from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from billing.lifecycle import subscription_provisioning_finish
from billing.models import CreditCheck
from billing.selectors import CREDIT_CHECK_MISSING, SUBSCRIPTION_MISSING, payers_of, subscriptions_all
from billing.services import credit_check_decide, payment_habit_set
from planchange.selectors import PLAN_CHANGE_MISSING
from planchange.services import plan_change_cancel, plan_change_retry
from portal.api.mixins import IsSupportStaff, NamedMissing
from portal.inputs import ID_PATTERN
from portal.models import ServiceIncident
from portal.selectors import INCIDENT_MISSING, tenant_get
from portal.services import incident_open, incident_update
from support.api.serializers import (
    CreditCheckSerializer,
    IncidentSerializer,
    IncidentStatusSerializer,
    PayerSerializer,
    PaymentHabitSerializer,
    ReasonSerializer,
    SupportPlanChangeDetailSerializer,
    SupportPlanChangeSerializer,
    SupportSubscriptionSerializer,
    SupportTenantSerializer,
    WorkersSerializer,
)
from support.selectors import support_changes, support_tenant_list, support_tenants
from support.workers import workers_health


class SupportMixin(NamedMissing):
    permission_classes = [IsAuthenticated, IsSupportStaff]
    lookup_value_regex = ID_PATTERN


def _reason(request) -> str:
    data = ReasonSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    return data.validated_data.get("reason", "")


class SupportPlanChangeViewSet(SupportMixin, viewsets.ReadOnlyModelViewSet):
    """Plan changes in every tenant; ``?status=`` filters (``stalled``: running, with a step whose worker
    stopped renewing its lease); a stuck or stalled one can be retried, a scheduled one cancelled."""

    missing = PLAN_CHANGE_MISSING
    serializer_class = SupportPlanChangeSerializer

    def get_queryset(self):
        status = self.request.query_params.get("status", "")
        changes = support_changes(status=status).select_related("quote", "invoice", "new_subscription")
        return changes

    def get_serializer_class(self):
        return SupportPlanChangeDetailSerializer if self.action != "list" else SupportPlanChangeSerializer

    @extend_schema(request=ReasonSerializer, responses=SupportPlanChangeDetailSerializer)
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        change = plan_change_retry(change_id=pk, actor=request.user.get_username(), reason=_reason(request))
        return Response(self.get_serializer(self.get_queryset().get(pk=change.pk)).data)

    @extend_schema(request=ReasonSerializer, responses=SupportPlanChangeDetailSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel a scheduled change for its organization."""
        change = plan_change_cancel(tenant=None, change_id=pk, actor=request.user.get_username(),
                                    reason=_reason(request), by_support=True)
        return Response(self.get_serializer(self.get_queryset().get(pk=change.pk)).data)


class SupportSubscriptionViewSet(SupportMixin, viewsets.ReadOnlyModelViewSet):
    """Every tenant's subscriptions; ``provision`` finishes one's set-up now."""

    missing = SUBSCRIPTION_MISSING
    serializer_class = SupportSubscriptionSerializer

    def get_queryset(self):
        return subscriptions_all()

    @extend_schema(request=ReasonSerializer, responses=SupportSubscriptionSerializer)
    @action(detail=True, methods=["post"])
    def provision(self, request, pk=None):
        sub = subscription_provisioning_finish(subscription_id=pk, actor=request.user.get_username(),
                                               reason=_reason(request))
        return Response(self.get_serializer(self.get_queryset().get(pk=sub.pk)).data)


class SupportCreditCheckViewSet(SupportMixin, viewsets.ReadOnlyModelViewSet):
    missing = CREDIT_CHECK_MISSING
    serializer_class = CreditCheckSerializer
    queryset = CreditCheck.objects.order_by("-requested", "-id")

    @extend_schema(request=ReasonSerializer, responses=CreditCheckSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return Response(self.get_serializer(credit_check_decide(check_id=pk, approve=True, reason=_reason(request),
                                                                actor=request.user.get_username())).data)

    @extend_schema(request=ReasonSerializer, responses=CreditCheckSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return Response(self.get_serializer(credit_check_decide(check_id=pk, approve=False, reason=_reason(request),
                                                                actor=request.user.get_username())).data)


class SupportIncidentViewSet(SupportMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin,
                             viewsets.ReadOnlyModelViewSet):
    """Open an incident on a tenant's service (POST), change its status, e.g. to resolved (PATCH)."""

    missing = INCIDENT_MISSING
    serializer_class = IncidentSerializer
    queryset = ServiceIncident.objects.order_by("-opened_at", "-id")
    http_method_names = ["get", "post", "patch", "head", "options"]

    def create(self, request, *args, **kwargs):
        data = IncidentSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        tenant = tenant_get(id=fields.pop("tenant_id"))
        incident = incident_open(actor=request.user.get_username(), tenant=tenant, **fields)
        return Response(IncidentSerializer(incident).data, status=201)

    @extend_schema(request=IncidentStatusSerializer, responses=IncidentSerializer)
    def partial_update(self, request, pk=None):
        data = IncidentStatusSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        incident = incident_update(incident_id=pk, status=data.validated_data["status"],
                                   reason=data.validated_data.get("reason", ""), actor=request.user.get_username())
        return Response(IncidentSerializer(incident).data)


class SupportTenantsView(GenericAPIView):
    """Every organization with its open problems (support staff), a page at a time; ``?search=``."""

    permission_classes = [IsAuthenticated, IsSupportStaff]
    serializer_class = SupportTenantSerializer

    def get_queryset(self):
        return support_tenant_list(search=self.request.query_params.get("search", "")[:100])

    @extend_schema(responses=SupportTenantSerializer(many=True))
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(SupportTenantSerializer(support_tenants(tenants=page), many=True).data)


class SupportPaymentHabitsView(GenericAPIView):
    """How an organization's payers pay their invoices as the days pass (support staff): GET lists them,
    POST sets one's habit (``billing_profile`` left out: the organization's invoices without one)."""

    permission_classes = [IsAuthenticated, IsSupportStaff]
    serializer_class = PayerSerializer
    pagination_class = None  # a handful of payers: the list as it is

    @extend_schema(responses=PayerSerializer(many=True))
    def get(self, request, pk):
        return Response(PayerSerializer(payers_of(tenant=tenant_get(id=pk)), many=True).data)

    @extend_schema(request=PaymentHabitSerializer, responses=PayerSerializer(many=True))
    def post(self, request, pk):
        tenant = tenant_get(id=pk)
        data = PaymentHabitSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        payment_habit_set(tenant=tenant, billing_profile_id=fields.get("billing_profile"),
                          habit=fields["payment_habit"], delay_days=fields.get("payment_delay_days"),
                          actor=request.user.get_username(), reason=fields.get("reason", ""))
        return Response(PayerSerializer(payers_of(tenant=tenant), many=True).data)


class SupportWorkersView(GenericAPIView):
    """Whether plan-change workers (queue ``celery``) and webhook workers (``webhooks``) are alive (support
    staff): each queue's workers with when they last answered, the work waiting for them, and ``silent``
    when none answered within ``silence_seconds`` while work waits."""

    permission_classes = [IsAuthenticated, IsSupportStaff]
    serializer_class = WorkersSerializer
    pagination_class = None

    @extend_schema(responses=WorkersSerializer)
    def get(self, request):
        now = timezone.now()
        return Response(WorkersSerializer({"checked_at": now, "silence_seconds": settings.PORTAL_WORKER_SILENCE_SECONDS,
                                           "queues": workers_health(now=now)}).data)
