"""Who may change what (Microsoft 365 admin roles). Reading is open to every role;
a write needs one of the roles named for it."""

from portal.models import Role

BILLING_WRITERS = frozenset({Role.GLOBAL_ADMIN, Role.BILLING_ADMIN})
LICENSE_WRITERS = frozenset({Role.GLOBAL_ADMIN, Role.LICENSE_ADMIN, Role.USER_ADMIN})
USER_WRITERS = frozenset({Role.GLOBAL_ADMIN, Role.USER_ADMIN})
# Settings > Webhooks: where the tenant's data is sent, so Global admins only.
WEBHOOK_WRITERS = frozenset({Role.GLOBAL_ADMIN})


def may(roles, needed) -> bool:
    return bool(set(roles) & set(needed))
