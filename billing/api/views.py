from rest_framework import viewsets

from billing.api.serializers import ProductSerializer, SubscriptionSerializer
from billing.selectors import product_list, subscription_list
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
