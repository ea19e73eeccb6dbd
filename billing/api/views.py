from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from billing.api.serializers import InvoiceSerializer, ProductSerializer
from billing.models import Invoice, PaymentMethod
from billing.selectors import payment_method_list, product_list
from billing.services import invoice_pay, payment_method_add_card
from portal import clock
from portal.api.mixins import TenantScopedMixin
from portal.roles import BILLING_WRITERS


class ProductViewSet(viewsets.ReadOnlyModelViewSet):
    """The catalog: products with their service plans and offers (not tenant data)."""

    serializer_class = ProductSerializer
    lookup_field = "sku"
    lookup_value_regex = "[A-Za-z0-9_-]{1,64}"

    def get_queryset(self):
        return product_list()


class InvoiceViewSet(TenantScopedMixin, viewsets.ReadOnlyModelViewSet):
    """The tenant's invoices; a credit is a line with a negative amount."""

    write_roles = BILLING_WRITERS

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


class PaymentMethodSerializer(serializers.ModelSerializer):
    class Meta:
        model = PaymentMethod
        fields = ["id", "kind", "last4", "holder_name", "expiry_month", "expiry_year", "is_default"]


class CardSerializer(serializers.Serializer):
    number = serializers.CharField(max_length=40, write_only=True)
    expiry = serializers.CharField(max_length=7, help_text="MM/YY")
    holder_name = serializers.CharField(max_length=200)


class PaymentMethodViewSet(TenantScopedMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """The tenant's payment methods; POST adds a card (only its last four digits are kept)."""

    write_roles = BILLING_WRITERS

    serializer_class = PaymentMethodSerializer

    def tenant_queryset(self, tenant):
        return payment_method_list(tenant=tenant)

    @extend_schema(request=CardSerializer, responses={201: PaymentMethodSerializer})
    def create(self, request, *args, **kwargs):
        data = CardSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        method = payment_method_add_card(tenant=self.tenant, actor=request.user.get_username(), **data.validated_data)
        return Response(PaymentMethodSerializer(method).data, status=201)
