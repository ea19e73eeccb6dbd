from drf_spectacular.utils import extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from billing.models import Subscription
from billing.selectors import subscription_list
from planchange.api.serializers import UpgradesSerializer
from planchange.eligibility import eligibility_check
from portal.api.mixins import TenantScopedMixin


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
