"""What every page of the shell needs: tenant name, navigation, support flag, and the errors a redirect
kept for it (``portal.pages``)."""

from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _

from portal.pages import kept_errors
from portal.roles import BILLING_WRITERS, LICENSE_WRITERS, may
from portal.selectors import is_support_staff, roles_for_user, tenant_for_user

# The login's own settings: a tenant's admins and support staff alike.
SETTINGS = ("settings", _("Settings"), "settings:api-tokens", [(_("API tokens"), "settings:api-tokens")])
# A tenant's admins also see its webhooks there.
TENANT_SETTINGS = ("settings", _("Settings"), "settings:api-tokens", [(_("API tokens"), "settings:api-tokens"),
                                                                      (_("Webhooks"), "settings:webhooks")])

# (section, label, url name, [(label, url name), …] shown under it)
NAV = [
    ("home", _("Home"), "home", []),
    ("users", _("Users"), "users:active", [(_("Active users"), "users:active")]),
    ("billing", _("Billing"), "billing:products", [(_("Purchase services"), "billing:purchase"),
                                                   (_("Your products"), "billing:products"),
                                                   (_("Bills & payments"), "billing:bills")]),
    ("health", _("Health"), "health:service-health", [(_("Service health"), "health:service-health")]),
    TENANT_SETTINGS,
]


def shell(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    tenant = getattr(request, "tenant", None) or tenant_for_user(user=user)
    support = is_support_staff(user=user)
    nav = list(NAV) if tenant else []
    if support:
        nav.append(("support", _("Support"), "support:console", []))
        if not tenant:  # their own API tokens, without a tenant's navigation
            nav.append(SETTINGS)
    roles = getattr(request, "roles", None)
    if roles is None:
        roles = roles_for_user(user=user, tenant=tenant) if tenant else []
    return {"shell_tenant": tenant, "shell_support": support, "shell_nav": nav,
            "shell_viewing_as": getattr(request, "viewing_as_support", False),
            "can_billing": may(roles, BILLING_WRITERS), "can_licenses": may(roles, LICENSE_WRITERS)}


def kept(request):
    """``kept``: the errors the previous request kept for this page, by form (read once, only by a template
    that shows them)."""
    return {"kept": SimpleLazyObject(lambda: kept_errors(request))}
