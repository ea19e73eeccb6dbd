"""The plan-change API, subscription edits that touch scheduled changes, and support's clock."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, status, viewsets
from rest_framework import serializers as drf_serializers
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from billing.api.serializers import SubscriptionSerializer
from billing.models import BillingFrequency, Subscription, Term
from billing.selectors import subscription_list
from billing.services import subscription_addon_remove, subscription_buy, subscription_licenses_change
from planchange.api.serializers import (
    AddOnAddSerializer,
    ClockMovedSerializer,
    ClockSerializer,
    PlanChangeRequestSerializer,
    PlanChangeSerializer,
    QuoteSerializer,
    SubscriptionUpdateSerializer,
    UpgradesSerializer,
)
from planchange.eligibility import eligibility_check
from planchange.idempotency import body_hash, idempotent
from planchange.models import PlanChange
from planchange.selectors import quote_users
from planchange.services import (
    plan_change_cancel,
    plan_change_preview,
    plan_change_request,
    subscription_addon_add,
    subscription_cancel,
    subscription_update,
)
from planchange.timeline import changes_started, clock_move
from portal import clock
from portal.api.errors import problem
from portal.api.fields import IdField, LicensesField
from portal.api.mixins import IsSupportStaff, TenantScopedMixin
from portal.errors import DomainError
from portal.roles import BILLING_WRITERS


class BuySerializer(drf_serializers.Serializer):
    sku = drf_serializers.CharField(max_length=64)
    licenses = LicensesField()
    term = drf_serializers.ChoiceField(choices=Term.choices, default="P1Y")
    billing_frequency = drf_serializers.ChoiceField(choices=BillingFrequency.choices, default="monthly")
    payment_method = IdField(required=False, allow_null=True)


class LicensesChangeSerializer(drf_serializers.Serializer):
    add = LicensesField(required=False, help_text="licenses to buy")
    remove = LicensesField(required=False, help_text="licenses to remove")

    openapi_schema = {"oneOf": [{"required": ["add"]}, {"required": ["remove"]}]}

    def validate(self, attrs):
        if len(attrs) != 1:
            raise drf_serializers.ValidationError(_("Give either add or remove, a whole number of licenses."))
        return attrs


class SubscriptionViewSet(TenantScopedMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """The caller's tenant's subscriptions; POST buys one; PATCH licenses or recurring billing; cancel."""

    write_roles = BILLING_WRITERS

    @extend_schema(request=BuySerializer, responses={201: SubscriptionSerializer})
    def create(self, request):
        data = BuySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        sub = subscription_buy(tenant=self.tenant, actor=request.user.get_username(), **data.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=sub.pk)).data, status=status.HTTP_201_CREATED)

    serializer_class = SubscriptionSerializer
    http_method_names = ["get", "patch", "post", "delete", "head", "options"]

    def tenant_queryset(self, tenant):
        return subscription_list(tenant=tenant)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "today": clock.today()}

    @extend_schema(request=SubscriptionUpdateSerializer, responses=SubscriptionSerializer)
    def partial_update(self, request, pk=None):
        subscription = self.get_object()
        data = SubscriptionUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        subscription_update(tenant=self.tenant, subscription_id=subscription.pk,
                            actor=request.user.get_username(), **data.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=subscription.pk)).data)

    def update(self, request, *args, **kwargs):
        if not kwargs.get("partial"):
            return self.http_method_not_allowed(request)
        return super().update(request, *args, **kwargs)

    @extend_schema(request=None, responses=inline_serializer("SubscriptionCancelled", {
        "subscription": SubscriptionSerializer(),
        "credit": inline_serializer("CancelCredit", {
            "amount": drf_serializers.DecimalField(max_digits=18, decimal_places=2),
            "invoice": drf_serializers.IntegerField(), "invoice_number": drf_serializers.CharField(),
            "description": drf_serializers.CharField()}, allow_null=True)}))
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel (Microsoft's "Cancel your subscription"): answers the credit it gave, or 409 with the
        reason (and, outside MCA's 7-day window, the alternative: turn off recurring billing)."""
        subscription = self.get_object()
        cancelled = subscription_cancel(tenant=self.tenant, subscription_id=subscription.pk,
                                        actor=request.user.get_username())
        line = cancelled.credit_line
        return Response({
            "subscription": self.get_serializer(self.get_queryset().get(pk=subscription.pk)).data,
            "credit": {"amount": str(line.amount), "invoice": line.invoice_id, "invoice_number": line.invoice.number,
                       "description": line.description} if line is not None else None,
        })

    @extend_schema(request=LicensesChangeSerializer, responses=inline_serializer("LicensesChanged", {
        "subscription": SubscriptionSerializer(),
        "effective": drf_serializers.CharField(help_text='"now", or the renewal date (YYYY-MM-DD) an MCA removal '
                                                         'waits for after its 7-day window'),
        "invoice": inline_serializer("LicensesInvoice", {"id": drf_serializers.IntegerField(),
                                                         "number": drf_serializers.CharField()}, allow_null=True)}))
    @action(detail=True, methods=["post"])
    def licenses(self, request, pk=None):
        """Buy or remove licenses (Microsoft's "Buy or remove licenses"): bought ones now with the rest of the
        period charged; removed ones never below the licenses assigned (409/422 with the numbers), MCA at once only
        within 7 days of the purchase or renewal, otherwise at the renewal."""
        subscription = self.get_object()
        data = LicensesChangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        changed = subscription_licenses_change(tenant=self.tenant, subscription_id=subscription.pk,
                                               actor=request.user.get_username(), **data.validated_data)
        invoice = getattr(changed, "licenses_invoice", None)
        effective = changed.licenses_effective
        return Response({
            "subscription": self.get_serializer(self.get_queryset().get(pk=subscription.pk)).data,
            "effective": effective if effective == "now" else effective.isoformat(),
            "invoice": {"id": invoice.pk, "number": invoice.number} if invoice is not None else None,
        })

    @extend_schema(request=AddOnAddSerializer, responses={201: SubscriptionSerializer})
    @action(detail=True, methods=["post"], url_path="addons")
    def add_addon(self, request, pk=None):
        """Add an add-on back: one removed from this subscription, or from (or left on) the subscription a
        plan change replaced with it. 409 ``addon_present_already``, ``addon_not_restorable`` (with
        ``can_add_back``), ``addon_blocks_scheduled_change``, ``subscription_not_active`` or
        ``change_in_progress``; 404 ``addon_not_found`` for a code the catalog doesn't have. An add-on that
        blocks a plan change blocks it again."""
        subscription = self.get_object()
        data = AddOnAddSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        subscription_addon_add(tenant=self.tenant, subscription_id=subscription.pk,
                               code=data.validated_data["code"], actor=request.user.get_username())
        return Response(self.get_serializer(self.get_queryset().get(pk=subscription.pk)).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["delete"], url_path=r"addons/(?P<code>[A-Z0-9_]+)")
    def remove_addon(self, request, pk, code):
        """Remove an add-on (one that blocks a plan change can be added back later)."""
        subscription = self.get_object()
        subscription_addon_remove(tenant=self.tenant, subscription_id=subscription.pk, code=code,
                                  actor=request.user.get_username())
        return Response(status=status.HTTP_204_NO_CONTENT)


class SubscriptionUpgradesView(TenantScopedMixin, GenericAPIView):
    """Can this subscription change plans automatically, why not, and to which plans."""

    serializer_class = UpgradesSerializer
    queryset_model = Subscription

    def tenant_queryset(self, tenant):
        return subscription_list(tenant=tenant)

    @extend_schema(responses=UpgradesSerializer)
    def get(self, request, pk):
        subscription = self.get_object()
        return Response(UpgradesSerializer(eligibility_check(subscription=subscription)).data)


IDEMPOTENCY_HEADER = OpenApiParameter("Idempotency-Key", {"type": "string", "minLength": 1, "maxLength": 255,
                                                         "pattern": r"^\S(.*\S)?$"},
                                      OpenApiParameter.HEADER, required=True,
                                      description="Any unique string; the same key and body replay the answer.")


class PlanChangeViewSet(TenantScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                        viewsets.GenericViewSet):
    """Plan changes of the caller's tenant: preview, request, follow, cancel."""

    write_roles = BILLING_WRITERS

    serializer_class = PlanChangeSerializer

    def tenant_queryset(self, tenant):
        changes = (PlanChange.objects.filter(tenant=tenant)
                   .select_related("target_product").prefetch_related("steps").order_by("-requested_at", "-id"))
        wanted = self.request.query_params.get("status") if self.action == "list" else None
        if wanted is None:
            return changes
        if wanted not in PlanChange.Status.values:
            raise ValidationError({"status": [_("Give one of: %(statuses)s.")
                                              % {"statuses": ", ".join(PlanChange.Status.values)}]})
        return changes.filter(status=wanted)

    def _request_fields(self, request) -> dict:
        data = PlanChangeRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        fields["subscription_id"] = fields.pop("subscription")
        return fields

    @extend_schema(request=PlanChangeRequestSerializer, responses={200: QuoteSerializer})
    @action(detail=False, methods=["post"])
    def preview(self, request):
        fields = self._request_fields(request)
        fields.pop("quote_id", None)
        quote = plan_change_preview(tenant=self.tenant, **fields)
        return Response(QuoteSerializer(quote_users(quote)).data)

    @extend_schema(parameters=[OpenApiParameter(
        "status", str, enum=PlanChange.Status.values,
        description="Only the changes in this status (another value is 400 `invalid`).")])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=PlanChangeRequestSerializer, parameters=[IDEMPOTENCY_HEADER, OpenApiParameter(
                       "Idempotent-Replayed", str, OpenApiParameter.HEADER, enum=["true"], response=[202, 409, 422],
                       description="Present when the answer is an earlier request's, replayed for its key.")],
                   responses={202: OpenApiResponse(PlanChangeSerializer, description=(
                       "The change, queued or scheduled. A request repeating an Idempotency-Key (with the same "
                       "body) gets the first request's answer again, with the header `Idempotent-Replayed: true`; "
                       "nothing is changed twice."))})
    def create(self, request):
        key = request.headers.get("Idempotency-Key", "").strip()
        if not key or len(key) > 255:
            raise DomainError(_("Send an Idempotency-Key header (1 to 255 characters) with each new request."),
                              code="idempotency_key_required", status=400)
        fields = self._request_fields(request)

        def request_change() -> tuple[int, dict]:
            try:
                change = plan_change_request(tenant=self.tenant, user=request.user, **fields)
            except DomainError as exc:
                return exc.status, problem(status_code=exc.status, code=exc.code, detail=exc.detail, **exc.extra).data
            return status.HTTP_202_ACCEPTED, PlanChangeSerializer(self.get_queryset().get(pk=change.pk)).data

        answer = idempotent(tenant=self.tenant, user=request.user, key=key, request_hash=body_hash(fields),
                            action=request_change)
        return Response(answer.body, status=answer.status,
                        content_type="application/problem+json" if answer.status >= 400 else None,
                        headers={"Idempotent-Replayed": "true"} if answer.replayed else None)

    @extend_schema(request=None, responses=PlanChangeSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        change = self.get_object()
        plan_change_cancel(tenant=self.tenant, change_id=change.pk, actor=request.user.get_username())
        return Response(PlanChangeSerializer(self.get_queryset().get(pk=change.pk)).data)


class SupportClockView(GenericAPIView):
    """The simulation clock (support staff): GET it, POST to move it forward; the sweep runs at once."""

    permission_classes = [IsAuthenticated, IsSupportStaff]
    serializer_class = ClockSerializer

    @extend_schema(responses=inline_serializer("Clock", {"now": drf_serializers.DateTimeField(),
                                                         "today": drf_serializers.DateField()}))
    def get(self, request):
        return Response({"now": clock.now(), "today": clock.today()})

    @extend_schema(request=ClockSerializer, responses=ClockMovedSerializer)
    def post(self, request):
        """Move the clock forward, applying every day on the way in order (renewals, invoices, lifecycle
        moves, scheduled changes, credit checks, provisioning); ``dry_run`` lists them and moves nothing."""
        data = ClockSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        moved = clock_move(actor=request.user.get_username(), **data.validated_data)
        return Response({"now": clock.now(), "today": clock.today(), **moved,
                         "sweep": {"scheduled_started": changes_started(moved["events"])}})
