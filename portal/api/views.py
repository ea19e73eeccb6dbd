from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.api import serializers
from portal.api.kept import tenant_and_roles
from portal.selectors import is_support_staff


class TenantSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    domain = serializers.CharField()
    kind = serializers.CharField()
    agreement = serializers.CharField()


class MeView(APIView):
    """Who the caller is: their tenant and roles."""

    @extend_schema(responses=inline_serializer("Me", {
        "username": serializers.CharField(),
        "tenant": TenantSerializer(allow_null=True),
        "roles": serializers.ListField(child=serializers.CharField()),
        "support_staff": serializers.BooleanField(),
    }))
    def get(self, request):
        tenant, roles = tenant_and_roles(request)
        return Response({
            "username": request.user.get_username(),
            "tenant": TenantSerializer(tenant).data if tenant else None,
            "roles": roles,
            "support_staff": is_support_staff(user=request.user),
        })
