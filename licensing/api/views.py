"""POST licenses/assign/, licenses/unassign/, licenses/replace/: all or nothing; licenses/preview/:
what Replace would change for each user."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from licensing.api.serializers import LicensePreviewSerializer
from licensing.services import license_assign, license_replace, license_replace_preview, license_unassign
from portal.api import serializers
from portal.api.fields import IdField, StrictBooleanField
from portal.api.mixins import IsTenantAdmin, TenantScopedMixin
from portal.roles import LICENSE_WRITERS


class UsersSerializer(serializers.Serializer):
    users = serializers.ListField(child=serializers.CharField(max_length=254), min_length=1, max_length=10000)
    subscription = IdField()


class ReplaceSerializer(serializers.Serializer):
    users = serializers.ListField(child=serializers.CharField(max_length=254), min_length=1, max_length=10000)
    from_subscription = IdField()
    to_subscription = IdField()


class ReplaceRequestSerializer(ReplaceSerializer):
    backup_confirmed = StrictBooleanField(
        default=False, help_text="required (true) when a user would lose the data of a data-related service: "
                                 "422 backup_required names them")
    reviewed = serializers.RegexField(r"^[0-9a-f]{32}$", required=False, allow_blank=True, help_text=(
        "the digest of licenses/preview/ you reviewed: if what changes for the users differs now, nothing moves "
        "(409 review_outdated)"))


Result = inline_serializer("LicenseResult", {"count": serializers.IntegerField()})


class _LicenseView(TenantScopedMixin, APIView):
    """The services take the caller's tenant, so every user and subscription is scoped."""

    write_roles = LICENSE_WRITERS

    input_serializer = UsersSerializer

    def post(self, request):
        data = self.input_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response({"count": self.perform(data.validated_data, actor=request.user.get_username())})


@extend_schema(request=UsersSerializer, responses=Result)
class AssignView(_LicenseView):
    def perform(self, data, actor):
        return license_assign(tenant=self.tenant, subscription_id=data["subscription"], upns=data["users"],
                              actor=actor)


@extend_schema(request=UsersSerializer, responses=Result)
class UnassignView(_LicenseView):
    def perform(self, data, actor):
        return license_unassign(tenant=self.tenant, subscription_id=data["subscription"], upns=data["users"],
                                actor=actor)


@extend_schema(request=ReplaceRequestSerializer, responses=Result)
class ReplaceView(_LicenseView):
    input_serializer = ReplaceRequestSerializer

    def perform(self, data, actor):
        return license_replace(tenant=self.tenant, from_subscription_id=data["from_subscription"],
                               to_subscription_id=data["to_subscription"], upns=data["users"], actor=actor,
                               backup_confirmed=data["backup_confirmed"], reviewed=data.get("reviewed", ""))


class ReplacePreviewView(TenantScopedMixin, APIView):
    """What Replace would change for each user, before anything moves (any admin role may look)."""

    permission_classes = [IsAuthenticated, IsTenantAdmin]

    @extend_schema(request=ReplaceSerializer, responses=LicensePreviewSerializer)
    def post(self, request):
        data = ReplaceSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        preview = license_replace_preview(tenant=self.tenant, from_subscription_id=fields["from_subscription"],
                                          to_subscription_id=fields["to_subscription"], upns=fields["users"])
        return Response(LicensePreviewSerializer(preview).data)
