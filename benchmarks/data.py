"""Big tenants made fast, by set-based SQL on PostgreSQL (``generate_series``): the benchmarks'
data, never the code they measure. Every tenant is as the portal would have it (a MOSA tenant
paying by card, a Global admin, users each holding one license, billing's count kept)."""

from django.db import connection

from billing.models import Subscription
from licensing.models import DirectoryUser, LicenseAssignment
from tests.factories import PaymentMethodFactory, SubscriptionFactory, TenantFactory, admin_of, product

# One user in this many has a service plan turned off (the change resets it and keeps the setting).
DISABLED_EVERY = 100


def users_add(*, tenant, count: int, start: int = 1, subscriptions=(), disabled_every: int = DISABLED_EVERY) -> None:
    """``count`` users user<n>@<domain> (n from ``start``), each holding a license of every one of
    ``subscriptions``; one in ``disabled_every`` with Viva Engage turned off. Counts kept."""
    users, licenses = DirectoryUser._meta.db_table, LicenseAssignment._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH made AS (INSERT INTO {users} (tenant_id, upn, display_name, created_at) "  # noqa: S608 - our names
            f"SELECT %s, 'user' || g || '@' || %s, 'User ' || lpad(g::text, 6, '0'), now() "
            f"FROM generate_series(%s, %s) g RETURNING id) "
            f"INSERT INTO {licenses} (user_id, subscription_id, disabled_plans, assigned_at) "
            f"SELECT made.id, s.id, CASE WHEN made.id %% %s = 0 THEN '[\"YAMMER_ENTERPRISE\"]'::jsonb "
            f"ELSE '[]'::jsonb END, now() FROM made CROSS JOIN unnest(%s::int[]) AS s(id)",
            [tenant.pk, tenant.domain, start, start + count - 1, disabled_every, [s.pk for s in subscriptions]])
        for sub in subscriptions:
            Subscription.objects.filter(pk=sub.pk).update(
                assigned_licenses=LicenseAssignment.objects.filter(subscription=sub).count())
        cursor.execute(f"ANALYZE {users}, {licenses}")


def tenant_with_seats(*, seats: int, sku: str, domain: str, licenses: int | None = None):
    """A MOSA tenant paying by card with one subscription of ``sku`` and ``seats`` users holding it.
    Returns (tenant, subscription, admin)."""
    tenant = TenantFactory(name=domain.split(".")[0].title(), domain=domain)
    card = PaymentMethodFactory(tenant=tenant, is_default=True)
    sub = SubscriptionFactory(tenant=tenant, product=product(sku), licenses=licenses or seats, payment_method=card)
    users_add(tenant=tenant, count=seats, subscriptions=[sub])
    sub.refresh_from_db()
    return tenant, sub, admin_of(tenant)


def users_add_each(*, subscriptions, count: int) -> None:
    """``count`` users user<n>@<the tenant's domain> in each subscription's tenant, each holding a
    license of that subscription (one in DISABLED_EVERY with Viva Engage turned off): every tenant
    in one statement. Counts kept."""
    from portal.models import Tenant

    users, licenses = DirectoryUser._meta.db_table, LicenseAssignment._meta.db_table
    subs, tenants = Subscription._meta.db_table, Tenant._meta.db_table
    ids = [s.pk for s in subscriptions]
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH made AS (INSERT INTO {users} (tenant_id, upn, display_name, created_at) "  # noqa: S608 - our names
            f"SELECT t.id, 'user' || g || '@' || t.domain, 'User ' || lpad(g::text, 6, '0'), now() "
            f"FROM {subs} s JOIN {tenants} t ON t.id = s.tenant_id CROSS JOIN generate_series(1, %s) g "
            f"WHERE s.id = ANY(%s) RETURNING id, tenant_id) "
            f"INSERT INTO {licenses} (user_id, subscription_id, disabled_plans, assigned_at) "
            f"SELECT made.id, s.id, CASE WHEN made.id %% %s = 0 THEN '[\"YAMMER_ENTERPRISE\"]'::jsonb "
            f"ELSE '[]'::jsonb END, now() FROM made JOIN {subs} s ON s.tenant_id = made.tenant_id AND s.id = ANY(%s)",
            [count, ids, DISABLED_EVERY, ids])
        cursor.execute(f"UPDATE {subs} s SET assigned_licenses = (SELECT count(*) FROM {licenses} l "  # noqa: S608
                       f"WHERE l.subscription_id = s.id) WHERE s.id = ANY(%s)", [ids])
        cursor.execute(f"ANALYZE {users}, {licenses}")
