"""Tenant scoping that fails closed (STYLE.md: PostHog's routing mixin).

Every tenant endpoint inherits ``TenantScopedMixin``. It owns ``get_queryset`` and
hands subclasses only the caller's tenant; a subclass that defines its own
``get_queryset`` or a class-level ``queryset`` is refused when the class is created.
"""

from collections.abc import Callable

from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.response import Response

from portal.api.kept import tenant_and_roles
from portal.api.pagination import FirstPageRead
from portal.errors import Missing
from portal.inputs import ID_PATTERN
from portal.roles import may
from portal.selectors import is_support_staff


class IsTenantAdmin(BasePermission):
    message = _("This endpoint is for a tenant's admins.")

    def has_permission(self, request, view):
        return getattr(view, "tenant", None) is not None


class HasWriteRole(BasePermission):
    """Reads for every tenant role; writes only for the roles the view names (none by default)."""

    message = _("Your admin role can't make this change.")

    def has_permission(self, request, view):
        if request.method in SAFE_METHODS:
            return True
        return may(view.roles, view.write_roles)


class IsSupportStaff(BasePermission):
    message = _("This endpoint is for support staff.")

    def has_permission(self, request, view):
        return is_support_staff(user=request.user)


class NamedMissing:
    """A detail route answers its entity's not-found (``missing``: ``subscription_not_found``, …,
    docs/api.md "Not found"), as the entity's selector does, for a missing id and another tenant's alike."""

    missing: Missing | None = None

    def get_object(self):
        try:
            return super().get_object()
        except Http404 as exc:
            if self.missing is None:
                raise
            raise self.missing.error() from exc

    def request_body(self, serializer_class) -> dict:
        """The body of an action on the path's object, as ``serializer_class`` reads it: the object first
        (another tenant's is its 404 whatever the body says), then the body (400 with what is wrong)."""
        if self.kwargs.get(self.lookup_url_kwarg or self.lookup_field) is not None:
            self.get_object()
        data = serializer_class(data=self.request.data)
        data.is_valid(raise_exception=True)
        return dict(data.validated_data)


class TenantScopedMixin(NamedMissing):
    permission_classes = [IsAuthenticated, IsTenantAdmin, HasWriteRole]
    lookup_value_regex = ID_PATTERN  # /subscriptions/٤/ is a 404, not subscription 4
    tenant = None
    roles: list[str] = []
    write_roles: frozenset = frozenset()  # fail closed: a view that writes names who may

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "get_queryset" in cls.__dict__:
            raise TypeError(f"{cls.__name__}: implement tenant_queryset(tenant), not get_queryset")
        if cls.__dict__.get("queryset") is not None:
            raise TypeError(f"{cls.__name__}: a class-level queryset bypasses tenant scoping")

    def initial(self, request, *args, **kwargs):
        # Authentication is lazy: resolve the tenant once the user is known.
        self.tenant, self.roles = tenant_and_roles(request)
        super().initial(request, *args, **kwargs)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request, no tenant
            return self.tenant_queryset_model().objects.none()
        if self.tenant is None:
            raise PermissionDenied(IsTenantAdmin.message)
        return self.tenant_queryset(self.tenant)

    def tenant_queryset(self, tenant):
        raise NotImplementedError

    def list_read(self, first: Callable[[int], list]):
        """A list whose first page (nearly every list) is ``first(limit)``: the same rows as the queryset's, read
        with SQL compiled once per process (``portal.compiled``); other pages and a full first page's count are the
        queryset's."""
        page = self.paginate_queryset(FirstPageRead(first=first, queryset=self.get_queryset))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve_read(self, shown: Callable):
        """A detail whose object is ``shown(tenant=…, id=…)``: the selector's ``object_get`` read with SQL compiled
        once per process, its not-found for a missing id and another tenant's alike."""
        found = shown(tenant=self.tenant, id=self.kwargs[self.lookup_url_kwarg or self.lookup_field])
        self.check_object_permissions(self.request, found)
        return Response(self.get_serializer(found).data)

    def tenant_queryset_model(self):
        serializer = self.get_serializer_class()
        return getattr(getattr(serializer, "Meta", None), "model", None) or self.queryset_model

    queryset_model = None
