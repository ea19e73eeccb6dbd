"""Settings > Webhooks through the API: endpoints, their deliveries with every attempt, test events
and resends."""

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from portal.api.mixins import TenantScopedMixin
from portal.api.schema import problem_codes
from portal.roles import WEBHOOK_WRITERS
from webhooks.api.serializers import (
    DeliverySerializer,
    EndpointCreatedSerializer,
    EndpointCreateSerializer,
    EndpointSerializer,
)
from webhooks.selectors import DELIVERY_MISSING, WEBHOOK_MISSING, delivery_list, endpoint_get, endpoint_list
from webhooks.services import delivery_resend, endpoint_create, endpoint_delete, endpoint_test

NOT_FOUND = problem_codes(404, "No such webhook (or delivery) in your tenant.", WEBHOOK_MISSING.code,
                          DELIVERY_MISSING.code)
FORBIDDEN = problem_codes(403, "Only a Global admin changes webhooks.", "permission_denied")
CREATED_EXAMPLE = {"id": 7, "url": "https://hooks.contoso.example/portal", "events": ["plan_change.completed"],
                   "description": "Tell the ERP", "status": "active", "failing_since": None,
                   "created_at": "2026-06-16T09:30:00Z", "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}


class WebhookViewSet(TenantScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                     mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """The tenant's webhook endpoints (Settings > Webhooks). Readers see them; a Global admin adds,
    deletes and tests them."""

    missing = WEBHOOK_MISSING
    serializer_class = EndpointSerializer
    write_roles = WEBHOOK_WRITERS

    def tenant_queryset(self, tenant):
        return endpoint_list(tenant=tenant)

    @extend_schema(
        request=EndpointCreateSerializer,
        responses={201: EndpointCreatedSerializer,
                   400: problem_codes(400, "A field is wrong (see `errors`).", "invalid"),
                   403: FORBIDDEN,
                   409: problem_codes(409, "The tenant has 20 webhooks already.", "webhook_limit"),
                   422: problem_codes(422, "The URL is on a loopback, private or reserved address.",
                                      "webhook_url_private")},
        description="Add an endpoint. The answer carries its signing secret (`whsec_…`), shown only here: "
                    "deliveries are signed with it per Standard Webhooks.",
        examples=[OpenApiExample("Add", request_only=True, value={
            "url": "https://hooks.contoso.example/portal", "events": ["plan_change.completed", "plan_change.failed"],
            "description": "Tell the ERP"}), OpenApiExample("Added", response_only=True, status_codes=["201"],
                                                            value=CREATED_EXAMPLE)],
    )
    def create(self, request):
        data = EndpointCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint = endpoint_create(tenant=self.tenant, user=request.user, **data.validated_data)
        response = Response(EndpointCreatedSerializer(endpoint).data, status=status.HTTP_201_CREATED)
        response["Cache-Control"] = "no-store"  # it carries the secret
        return response

    @extend_schema(responses={204: None, 403: FORBIDDEN, 404: NOT_FOUND},
                   description="Delete the endpoint, its deliveries and their attempts; nothing more is sent to it.")
    def destroy(self, request, pk=None):
        endpoint_delete(tenant=self.tenant, endpoint_id=pk, actor=request.user.get_username())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={202: DeliverySerializer, 403: FORBIDDEN, 404: NOT_FOUND},
                   description="Send a `webhook.test` event to the endpoint now (whatever types it chose); "
                               "follow it in `deliveries/`.")
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        delivery = endpoint_test(tenant=self.tenant, endpoint_id=pk, actor=request.user.get_username())
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


class DeliveryViewSet(TenantScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                      viewsets.GenericViewSet):
    """An endpoint's deliveries, newest first, each with every attempt and the HTTP status it got."""

    missing = DELIVERY_MISSING
    serializer_class = DeliverySerializer
    write_roles = WEBHOOK_WRITERS

    def tenant_queryset(self, tenant):
        endpoint = endpoint_get(tenant=tenant, id=self.kwargs.get("webhook_pk"))
        return delivery_list(endpoint=endpoint)

    @extend_schema(responses={200: DeliverySerializer(many=True), 404: NOT_FOUND})
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(responses={200: DeliverySerializer, 404: NOT_FOUND})
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(request=None, responses={
        202: DeliverySerializer, 403: FORBIDDEN, 404: NOT_FOUND,
        409: problem_codes(409, "The message is still being sent.", "delivery_pending")},
        description="Send the same message (same `webhook-id` and body, signed anew) again, with a new round of "
                    "retries. Only once it is delivered or has failed.")
    @action(detail=True, methods=["post"])
    def resend(self, request, webhook_pk=None, pk=None):
        delivery = delivery_resend(tenant=self.tenant, endpoint_id=webhook_pk, delivery_id=pk,
                                   actor=request.user.get_username())
        return Response(DeliverySerializer(self.get_queryset().get(pk=delivery.pk)).data,
                        status=status.HTTP_202_ACCEPTED)
