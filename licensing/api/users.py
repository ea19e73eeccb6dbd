from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.response import Response

from licensing.models import DirectoryUser
from licensing.selectors import USER_MISSING, user_list
from licensing.services import user_create
from portal.api import serializers
from portal.api.fields import NameField, UpnField
from portal.api.mixins import TenantScopedMixin
from portal.roles import USER_WRITERS


class LicenseSerializer(serializers.Serializer):
    subscription = serializers.IntegerField(source="subscription_id")
    sku = serializers.CharField(source="subscription.product.sku")
    disabled_plans = serializers.ListField(child=serializers.CharField())


class DirectoryUserSerializer(serializers.ModelSerializer):
    licenses = LicenseSerializer(many=True)

    class Meta:
        model = DirectoryUser
        fields = ["id", "upn", "display_name", "usage_location", "licenses"]


class NewUserSerializer(serializers.Serializer):
    upn = UpnField()
    display_name = NameField(max_length=200, required=False, default="")


class UserViewSet(TenantScopedMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """The tenant's directory users with their licenses; ``?search=`` matches name or UPN;
    POST adds an (unlicensed) user."""

    missing = USER_MISSING
    write_roles = USER_WRITERS
    serializer_class = DirectoryUserSerializer

    def tenant_queryset(self, tenant):
        return user_list(tenant=tenant, search=self.request.query_params.get("search", "").strip())

    @extend_schema(request=NewUserSerializer, responses={201: DirectoryUserSerializer})
    def create(self, request, *args, **kwargs):
        data = NewUserSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = user_create(tenant=self.tenant, actor=request.user.get_username(), **data.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=user.pk)).data, status=201)
