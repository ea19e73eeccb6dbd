from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from billing.api.serializers import InvoiceSerializer, ProductSerializer
from billing.models import Invoice
from billing.selectors import product_list
from billing.services import invoice_pay
from portal import clock
from portal.api.mixins import TenantScopedMixin


class ProductViewSet(viewsets.ReadOnlyModelViewSet):
    """The catalog: products with their service plans and offers (not tenant data)."""

    serializer_class = ProductSerializer
    lookup_field = "sku"

    def get_queryset(self):
        return product_list()


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
