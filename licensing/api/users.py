from rest_framework import serializers, viewsets

from licensing.models import DirectoryUser
from licensing.selectors import user_list
from portal.api.mixins import TenantScopedMixin


class LicenseSerializer(serializers.Serializer):
    subscription = serializers.IntegerField(source="subscription_id")
    sku = serializers.CharField(source="subscription.product.sku")
    disabled_plans = serializers.ListField(child=serializers.CharField())


class DirectoryUserSerializer(serializers.ModelSerializer):
    licenses = LicenseSerializer(many=True)

    class Meta:
        model = DirectoryUser
        fields = ["id", "upn", "display_name", "licenses"]


class UserViewSet(TenantScopedMixin, viewsets.ReadOnlyModelViewSet):
    """The tenant's directory users with their licenses; ``?search=`` matches name or UPN."""

    serializer_class = DirectoryUserSerializer

    def tenant_queryset(self, tenant):
        return user_list(tenant=tenant, search=self.request.query_params.get("search", "").strip())
