"""What every Graph endpoint shares: ``Authorization: Bearer <the portal's API token>`` (the same tokens as
``Token`` on /api/, behind the same bad-token and per-user throttles), the token's tenant and roles (every
role reads; License, User and Global admins assign), JSON in and out, Graph's error shape for every
refusal and Graph's ``request-id`` headers on every answer."""

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from graph.errors import as_graph_error, error_body, request_ids
from portal.api.authentication import ApiTokenAuthentication
from portal.api.kept import tenant_and_roles
from portal.api.parsers import JSONParser
from portal.api.throttling import AnonymousRateLimit, TokenAuthentication, UserRateThrottle

BASE_PATH = "/graph/v1.0"


class BearerTokenAuthentication(ApiTokenAuthentication):
    """``Authorization: Bearer <token>`` with the portal's API tokens: what /api/ takes as ``Token``."""

    keyword = "Bearer"

    def authenticate(self, request):
        return TokenAuthentication.authenticate(self, request)


class IsTenantAdmin(BasePermission):
    message = _("Graph's endpoints are for a tenant's admins.")

    def has_permission(self, request, view):
        return view.tenant is not None


class GraphJSONRenderer(JSONRenderer):
    media_type = "application/json"
    charset = "utf-8"


class GraphView(APIView):
    """A Graph endpoint: subclasses read ``self.tenant`` and ``self.roles`` (set once the token is known)."""

    authentication_classes = [BearerTokenAuthentication, AnonymousRateLimit]
    permission_classes = [IsAuthenticated, IsTenantAdmin]
    throttle_classes = [UserRateThrottle]
    renderer_classes = [GraphJSONRenderer]
    parser_classes = [JSONParser]
    schema = None  # Graph's dialect is documented by Microsoft and docs/graph.md, not in /api/schema/
    tenant = None
    roles: list[str] = []

    def initial(self, request, *args, **kwargs):
        self.tenant, self.roles = tenant_and_roles(request)
        super().initial(request, *args, **kwargs)

    def permission_denied(self, request, message=None, code=None):
        if request.authenticators and not request.successful_authenticator:
            raise exceptions.NotAuthenticated()
        raise exceptions.PermissionDenied()

    def handle_exception(self, exc):
        error = as_graph_error(exc)
        response = Response(error_body(self.request, error.code, error.message), status=error.status)
        for name, value in error.headers.items():
            response[name] = value
        if error.status == 401:
            response["WWW-Authenticate"] = 'Bearer realm="", error="invalid_token"'
        return response

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        request_id, client_id = request_ids(request)
        response["request-id"], response["client-request-id"] = request_id, client_id
        return response

    def base_url(self) -> str:
        """Where this request's links start: scheme and host as the client called them, then /graph/v1.0."""
        return self.request.build_absolute_uri(BASE_PATH)

    def context(self, fragment: str) -> str:
        return f"{self.base_url()}/$metadata#{fragment}"
