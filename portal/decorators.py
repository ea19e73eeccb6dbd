"""What a page is: a tenant's, support staff's, or the login's own settings. Each wrapper also makes a
not-found (``portal.errors.NotFound``, a missing id and another tenant's alike) the 404 page, so a page
passes the ids it got straight to selectors and services."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render

from portal.errors import NotFound
from portal.models import Tenant
from portal.roles import Role, may
from portal.selectors import is_support_staff, tenant_and_roles_for_user


def _not_found_is_404(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            if exc.status != 404 or "field" in exc.extra:  # a form's field that names nothing: not a missing page
                raise
            raise Http404 from exc

    return wrapper


def tenant_page(view):
    """A page of a tenant's admin center: logged in, with ``request.tenant`` set."""
    view = _not_found_is_404(view)

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        tenant, roles = tenant_and_roles_for_user(user=request.user)
        if tenant is None:
            if is_support_staff(user=request.user):
                # Support staff look at a tenant's admin center as its Global reader would: read-only.
                viewing = Tenant.objects.filter(pk=request.session.get("view_as_tenant")).first()
                if viewing is None:
                    return redirect("support:console")
                request.tenant, request.roles, request.viewing_as_support = viewing, [Role.GLOBAL_READER], True
                return view(request, *args, **kwargs)
            return render(request, "portal/no_tenant.html", status=403)
        request.tenant, request.roles = tenant, roles
        return view(request, *args, **kwargs)

    return wrapper


def writes(roles):
    """A page action that changes something: only for these admin roles (inside tenant_page)."""

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method not in ("GET", "HEAD") and not may(request.roles, roles):
                return render(request, "portal/forbidden_role.html", status=403)
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


def support_page(view):
    """A page of the support console: support staff only."""
    view = _not_found_is_404(view)

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not is_support_staff(user=request.user):
            return render(request, "portal/forbidden.html", status=403)
        return view(request, *args, **kwargs)

    return wrapper


def own_settings_page(view):
    """A page of the login's own settings (its API tokens): a tenant's admin of any role, with
    ``request.tenant`` and ``request.roles`` for the shell, or support staff (``request.tenant`` None:
    what they manage there is theirs, not a tenant's)."""
    view = _not_found_is_404(view)

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        tenant, roles = tenant_and_roles_for_user(user=request.user)
        if tenant is None and not is_support_staff(user=request.user):
            return render(request, "portal/no_tenant.html", status=403)
        request.tenant, request.roles = tenant, roles
        return view(request, *args, **kwargs)

    return wrapper
