"""``tokens/``: a login's own API tokens (CONTRACT.md "Since the scripting issue").

GET lists them (name, created, last used, expires, status), POST makes one and answers the token
itself, once; DELETE ``tokens/{id}/`` revokes one (the very next request with it answers 401).
Scoped to the caller, not the tenant: each admin (any role) and each support login holds its own,
acting with its own roles; another login's token is a 404, the same as a missing one.
"""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response

from portal.api import serializers
from portal.api.fields import NameField, StrictDateTimeField
from portal.api.schema import problem_codes
from portal.inputs import ID_PATTERN
from portal.models import ApiToken, ApiTokenStatus
from portal.selectors import api_token_list, is_support_staff, tenant_for_user
from portal.services import API_TOKEN_NAME_MAX, api_token_create, api_token_revoke


class HoldsTokens(BasePermission):
    """A tenant's admin (any role) or support staff: who has something a token could act on."""

    message = _("API tokens are for a tenant's admins and support staff.")

    def has_permission(self, request, view):
        return is_support_staff(user=request.user) or tenant_for_user(user=request.user) is not None


class ApiTokenSerializer(serializers.ModelSerializer):
    prefix = serializers.CharField(read_only=True, help_text="pcp_ and the token's key id; empty for a token "
                                                             "from before the API tokens issue")
    created = serializers.DateTimeField(source="created_at", read_only=True)
    expires = serializers.DateTimeField(source="expires_at", read_only=True, allow_null=True,
                                        help_text="null: it never expires")
    last_used = serializers.DateTimeField(source="last_used_at", read_only=True, allow_null=True,
                                          help_text="to the minute; null: never used")
    revoked = serializers.DateTimeField(source="revoked_at", read_only=True, allow_null=True)
    status = serializers.SerializerMethodField()

    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created", "expires", "last_used", "revoked", "status"]

    def get_status(self, token) -> ApiTokenStatus:
        return token.status_at(self.context.get("now") or timezone.now())


class ApiTokenCreateSerializer(serializers.Serializer):
    name = NameField(max_length=API_TOKEN_NAME_MAX, help_text="1 to 100 characters, to tell your tokens apart")
    expires = StrictDateTimeField(required=False, allow_null=True, help_text=(
        "when it stops working: in the future, at most a year ahead; a date alone is that day's start (UTC); "
        "null or left out: never"))


class ApiTokenCreatedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    token = serializers.CharField(help_text="the token itself: shown only in this answer, store it now")
    created = serializers.DateTimeField()
    expires = serializers.DateTimeField(allow_null=True)


_problem = problem_codes


_UNAUTHENTICATED = "No token, a token that isn't valid, or one revoked or expired."
_UNAUTHENTICATED_CODES = ("not_authenticated", "authentication_failed", "token_revoked", "token_expired")


@extend_schema_view(
    list=extend_schema(
        summary="Your API tokens",
        description="The caller's own API tokens, live ones first: name, created, last used, expires, status "
                    "(`active`, `expired`, `revoked`). The tokens themselves are never shown again.",
        responses={200: ApiTokenSerializer(many=True), 401: _problem(401, _UNAUTHENTICATED, *_UNAUTHENTICATED_CODES)}),
    create=extend_schema(
        summary="Make an API token",
        description="A new token for the caller, acting with the caller's roles. The answer carries the token "
                    "once (`pcp_…`); only its digest is kept. Audited as `api_token.created` (without the token). "
                    "Made with an API token that expires, the new token must expire no later than it "
                    "(else 422 `api_token_expiry_too_far`).",
        request=ApiTokenCreateSerializer,
        responses={
            201: ApiTokenCreatedSerializer,
            400: _problem(400, "A field of the wrong type, a name empty, blank, over 100 characters or with control "
                               "characters, an expiry that isn't a date or date-time.", "invalid"),
            401: _problem(401, _UNAUTHENTICATED, *_UNAUTHENTICATED_CODES),
            409: _problem(409, "50 live tokens already: revoke one first.", "api_token_limit"),
            422: _problem(422, "An expiry in the past, more than a year ahead, or later than the expiry of the token "
                               "the request is signed in with.", "api_token_expiry_past", "api_token_expiry_too_far"),
        },
        examples=[
            OpenApiExample("A token for 90 days", request_only=True,
                           value={"name": "Nightly bulk change", "expires": "2026-09-15T00:00:00Z"}),
            OpenApiExample("Made", response_only=True, status_codes=["201"], value={
                "id": 7, "name": "Nightly bulk change", "token": "pcp_Ab3dE6gH" + "x" * 40,
                "created": "2026-06-17T09:30:00Z", "expires": "2026-09-15T00:00:00Z"}),
        ]),
    destroy=extend_schema(
        summary="Revoke an API token",
        description="Revoke one of the caller's tokens: the very next request with it answers 401 "
                    "`token_revoked`. Revoking a revoked token changes nothing. Audited as `api_token.revoked`.",
        responses={204: None, 401: _problem(401, _UNAUTHENTICATED, *_UNAUTHENTICATED_CODES),
                   404: _problem(404, "No such token of yours (another login's alike).", "api_token_not_found")}),
)
class ApiTokenViewSet(mixins.ListModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    permission_classes = [IsAuthenticated, HoldsTokens]
    serializer_class = ApiTokenSerializer
    lookup_value_regex = ID_PATTERN

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no caller
            return ApiToken.objects.none()
        return api_token_list(user=self.request.user)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "now": timezone.now()}

    def create(self, request):
        data = ApiTokenCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # Signed in with an API token that expires: the new one can't outlive it.
        signed_with = request.auth if isinstance(request.auth, ApiToken) else None
        token, key = api_token_create(user=request.user, name=data.validated_data["name"],
                                      expires_at=data.validated_data.get("expires"),
                                      expires_by=signed_with.expires_at if signed_with else None)
        response = Response({"id": token.pk, "name": token.name, "token": key,
                             "created": serializers.DateTimeField().to_representation(token.created_at),
                             "expires": (serializers.DateTimeField().to_representation(token.expires_at)
                                         if token.expires_at else None)},
                            status=status.HTTP_201_CREATED)
        response["Cache-Control"] = "no-store"
        return response

    def destroy(self, request, pk=None):
        api_token_revoke(user=request.user, token_id=pk, actor=request.user.get_username())
        return Response(status=status.HTTP_204_NO_CONTENT)
