from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from billing.api.serializers import InvoiceSerializer, ProductSerializer, SubscriptionSerializer
from billing.models import Invoice
from billing.selectors import product_list, subscription_list
from billing.services import invoice_pay, subscription_addon_remove
from portal import clock
from portal.api.mixins import TenantScopedMixin


class ProductViewSet(viewsets.ReadOnlyModelViewSet):
    """The catalog: products with their service plans and offers (not tenant data)."""

    serializer_class = ProductSerializer
    lookup_field = "sku"

    def get_queryset(self):
        return product_list()


class SubscriptionViewSet(TenantScopedMixin, viewsets.ReadOnlyModelViewSet):
    """The caller's tenant's subscriptions."""

    serializer_class = SubscriptionSerializer

    def tenant_queryset(self, tenant):
        return subscription_list(tenant=tenant)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "today": clock.today()}

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["delete"], url_path=r"addons/(?P<code>[A-Z0-9_]+)")
    def remove_addon(self, request, pk, code):
        """Remove an add-on (one that blocks a plan change can be added back later)."""
        subscription = self.get_object()
        subscription_addon_remove(tenant=self.tenant, subscription_id=subscription.pk, code=code,
                                  actor=request.user.get_username())
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvoiceViewSet(TenantScopedMixin, viewsets.ReadOnlyModelViewSet):
    """The tenant's invoices; a credit is a line with a negative amount."""

    serializer_class = InvoiceSerializer

    def tenant_queryset(self, tenant):
        return Invoice.objects.filter(tenant=tenant).select_related("billing_profile").prefetch_related("lines")

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "today": clock.today()}

    @extend_schema(request=None, responses=InvoiceSerializer)
    @action(detail=True, methods=["post"])
    def pay(self, request, pk):
        """Pay the invoice's whole balance (Pay now / Settle balance)."""
        invoice = self.get_object()
        invoice_pay(tenant=self.tenant, invoice_id=invoice.pk, actor=request.user.get_username())
        return Response(self.get_serializer(self.get_queryset().get(pk=invoice.pk)).data)
