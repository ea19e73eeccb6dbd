"""The plan-change API: a subscription's upgrades, and plan changes previewed, requested,
followed and cancelled."""

import json

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.settings import api_settings

from billing.models import Subscription
from billing.selectors import SUBSCRIPTION_MISSING, subscription_list
from licensing.preview_csv import FILTERS, user_changes_csv
from planchange.api.serializers import (
    PlanChangeRequestSerializer,
    PlanChangeSerializer,
    QuoteSerializer,
    UpgradesSerializer,
)
from planchange.eligibility import eligibility_check
from planchange.idempotency import body_hash, idempotent
from planchange.models import PlanChange
from planchange.selectors import (
    PLAN_CHANGE_MISSING,
    plan_change_shown,
    plan_changes_shown,
    plan_changes_shown_first,
    quote_users,
)
from planchange.services import plan_change_cancel, plan_change_preview, plan_change_request
from portal.api.errors import problem
from portal.api.mixins import TenantScopedMixin
from portal.errors import DomainError
from portal.roles import BILLING_WRITERS


class SubscriptionUpgradesView(TenantScopedMixin, GenericAPIView):
    """Can this subscription change plans automatically, why not, and to which plans."""

    missing = SUBSCRIPTION_MISSING
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


class UserChangesCSVRenderer(BaseRenderer):
    """Each user's change as CSV (``licensing.preview_csv``); a refusal is still problem+json."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if response is not None and response.status_code >= 400:
            response["Content-Type"] = "application/problem+json"
            return json.dumps(data).encode()
        return data.encode("utf-8")


class _NoFormatOverride:
    """DRF's settings without ``?format=``: the preview's CSV is asked for with ``Accept: text/csv``, as HTTP does
    (a query parameter the schema doesn't name is ignored, like any other)."""

    def __getattr__(self, name):
        return None if name == "URL_FORMAT_OVERRIDE" else getattr(api_settings, name)


class AcceptHeaderNegotiation(DefaultContentNegotiation):
    settings = _NoFormatOverride()


class PlanChangeViewSet(TenantScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                        viewsets.GenericViewSet):
    """Plan changes of the caller's tenant: preview, request, follow, cancel."""

    missing = PLAN_CHANGE_MISSING
    write_roles = BILLING_WRITERS
    serializer_class = PlanChangeSerializer

    def tenant_queryset(self, tenant):
        return plan_changes_shown(tenant=tenant, status=self._status_wanted())

    def _status_wanted(self) -> str | None:
        wanted = self.request.query_params.get("status") if self.action == "list" else None
        if wanted is not None and wanted not in PlanChange.Status.values:
            raise ValidationError({"status": [_("Give one of: %(statuses)s.")
                                              % {"statuses": ", ".join(PlanChange.Status.values)}]})
        return wanted

    def retrieve(self, request, *args, **kwargs):
        return self.retrieve_read(plan_change_shown)

    def _request_fields(self, request) -> dict:
        data = PlanChangeRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        fields["subscription_id"] = fields.pop("subscription")
        return fields

    @extend_schema(request=PlanChangeRequestSerializer, responses={
        200: QuoteSerializer, (200, "text/csv"): OpenApiResponse(str, description=(
            "With `Accept: text/csv`: every user's change, one row each: user_principal_name, from, to, "
            "services_gained, services_lost, turned_back_on, data_lost (`?only=gains|losses|data_lost|"
            "settings_reset` narrows it)"))},
        parameters=[OpenApiParameter("only", str, enum=list(FILTERS), required=False,
                                     description="With `Accept: text/csv`: only the users who gain, lose, lose "
                                                 "data or have settings reset (another value is 400 `invalid`)."),
                    OpenApiParameter("format", exclude=True)])
    @action(detail=False, methods=["post"], renderer_classes=[JSONRenderer, UserChangesCSVRenderer],
            content_negotiation_class=AcceptHeaderNegotiation)
    def preview(self, request):
        only = request.query_params.get("only")
        if only is not None and only not in FILTERS:  # whatever was asked for: a bad value is never ignored
            raise ValidationError({"only": [_("Give one of: %(values)s.") % {"values": ", ".join(FILTERS)}]})
        fields = self._request_fields(request)
        fields.pop("quote_id", None)
        quote = quote_users(plan_change_preview(tenant=self.tenant, **fields))
        if request.accepted_renderer.format == "csv":
            return Response(user_changes_csv(quote.users_preview, source=quote.subscription.product.name,
                                             target=quote.target_product.name, only=only),
                            headers={"Content-Disposition": 'attachment; filename="plan-change-users.csv"'})
        return Response(QuoteSerializer(quote).data)

    @extend_schema(parameters=[OpenApiParameter(
        "status", str, enum=PlanChange.Status.values,
        description="Only the changes in this status (another value is 400 `invalid`).")])
    def list(self, request, *args, **kwargs):
        status = self._status_wanted()
        return self.list_read(lambda limit: plan_changes_shown_first(tenant=self.tenant, status=status, limit=limit))

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
        plan_change_cancel(tenant=self.tenant, change_id=pk, actor=request.user.get_username())
        return Response(PlanChangeSerializer(self.get_queryset().get(pk=pk)).data)
