"""Everything the eligibility rules read, for one subscription or many, in a fixed number of queries."""

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Count, F, Prefetch

from billing.models import (
    AddOnProduct,
    CreditCheck,
    Invoice,
    Offer,
    PaymentKind,
    Product,
    Subscription,
    SubscriptionAddOn,
)
from billing.offers import catalog_memo
from licensing.models import LicenseAssignment
from planchange.models import LIVE_STATUSES, PlanChange
from portal import clock
from portal.models import ServiceIncident, Tenant


@dataclass
class EligibilityContext:
    tenant: Tenant
    subscription: Subscription  # annotated by billing's selector: assigned_licenses
    today: date
    products: dict[int, Product]  # the catalog, with service plans and offers
    addons: list[AddOnProduct]
    open_incidents: list[ServiceIncident]
    live_changes: list[PlanChange]
    pending_credit_checks: list[CreditCheck]
    same_product_active: list[Subscription]
    overdue_invoices: list[Invoice]
    owned: dict[int, list[Subscription]] = field(default_factory=dict)  # the tenant's other live ones, by product
    holding: dict[int, int] = field(default_factory=dict)  # its users who already hold a product, by product

    @property
    def product(self) -> Product:
        return self.products[self.subscription.product_id]


def catalog_products() -> dict[int, Product]:
    """The catalog's products by id, with their service plans and offers (read once in a block that pins the
    catalog: ``billing.offers.catalog_pinned``)."""
    memo = catalog_memo()
    if memo is not None and "products" in memo:
        return memo["products"]
    products = {p.pk: p for p in Product.objects.prefetch_related(
        "service_plans", Prefetch("offers", queryset=Offer.objects.order_by("term", "billing_frequency"))
    )}
    if memo is not None:
        memo["products"] = products
    return products


def _by_tenant(rows) -> dict[int, list]:
    grouped: dict[int, list] = {}
    for row in rows:
        grouped.setdefault(row.tenant_id, []).append(row)
    return grouped


def eligibility_contexts(*, subscriptions, exclude_change_id: int | None = None,
                         exclude_change_ids=()) -> list[EligibilityContext]:
    """Everything the rules read for each of ``subscriptions`` (of one tenant or many), in the same
    fixed number of queries whatever their number, their tenants' or their users'. ``exclude_change_id``:
    the change being validated, which must not block itself (``exclude_change_ids``: the changes being validated
    together, one per tenant)."""
    subs = list(subscriptions)
    if not subs:
        return []
    tenant_ids = {s.tenant_id for s in subs}
    today = clock.today()
    healthy = [s.value for s in ServiceIncident.HEALTHY]
    # Add-ons: the ones a selector prefetched, else read together (the caller's objects are left as they are).
    prefetched = {s.pk for s in subs if "subscription_addons" in getattr(s, "_prefetched_objects_cache", {})}
    addons: dict[int, list] = {}
    for sa in (SubscriptionAddOn.objects.filter(subscription_id__in=[s.pk for s in subs if s.pk not in prefetched])
               .select_related("addon").order_by("pk")):
        addons.setdefault(sa.subscription_id, []).append(sa.addon)
    incidents = _by_tenant(ServiceIncident.objects.filter(tenant_id__in=tenant_ids).exclude(status__in=healthy))
    live = _by_tenant(PlanChange.objects.filter(tenant_id__in=tenant_ids, status__in=LIVE_STATUSES)
                     .exclude(pk__in=[pk for pk in (*exclude_change_ids, exclude_change_id) if pk is not None])
                     .select_related("subscription__product", "target_product"))
    checks = _by_tenant(CreditCheck.objects.filter(tenant_id__in=tenant_ids, status=CreditCheck.Status.PENDING))
    same_product, owned = _live_subscriptions(tenant_ids)
    holding = _holding(subs, owned)
    # Only an invoice payer's unpaid invoices block (the article's row says so).
    payers = {s.tenant_id for s in subs if s.payment == PaymentKind.INVOICE}
    unpaid = _by_tenant(Invoice.objects.filter(tenant_id__in=payers, due_date__lt=today, total__gt=F("paid"))
                       .order_by("due_date")) if payers else {}
    products = catalog_products()
    return [EligibilityContext(
        tenant=sub.tenant,
        subscription=sub,
        today=today,
        products=products,
        addons=([sa.addon for sa in sub.subscription_addons.all()] if sub.pk in prefetched
                else addons.get(sub.pk, [])),
        open_incidents=incidents.get(sub.tenant_id, []),
        live_changes=live.get(sub.tenant_id, []),
        pending_credit_checks=checks.get(sub.tenant_id, []),
        same_product_active=same_product.get((sub.tenant_id, sub.product_id), []),
        owned={product: rows for product, rows in owned.get(sub.tenant_id, {}).items() if product != sub.product_id},
        holding=holding.get(sub.pk, {}),
        overdue_invoices=[i for i in unpaid.get(sub.tenant_id, []) if sub.payment == PaymentKind.INVOICE and (
            not sub.billing_profile_id or i.billing_profile_id == sub.billing_profile_id)],
    ) for sub in subs]


def _live_subscriptions(tenant_ids) -> tuple[dict[tuple[int, int], list], dict[int, dict[int, list]]]:
    """The tenants' live subscriptions, read once: the active ones by (tenant, product) (the same product twice
    blocks), and all of them by tenant and product (another product's may take a change's users in)."""
    same_product: dict[tuple[int, int], list] = {}
    owned: dict[int, dict[int, list]] = {}
    for other in (Subscription.objects.filter(tenant_id__in=tenant_ids).select_related("product")
                  .exclude(status__in=(Subscription.Status.CANCELLED, Subscription.Status.DELETED)).order_by("id")):
        owned.setdefault(other.tenant_id, {}).setdefault(other.product_id, []).append(other)
        if other.status == Subscription.Status.ACTIVE:
            same_product.setdefault((other.tenant_id, other.product_id), []).append(other)
    return same_product, owned


def _holding(subs, owned: dict[int, dict[int, list]]) -> dict[int, dict[int, int]]:
    """For each subscription whose tenant owns another product (a change may go into it): how many of its
    users already hold a license of that product, by product. One query, only when there is such a tenant."""
    candidates = [s.pk for s in subs if set(owned.get(s.tenant_id, {})) - {s.product_id}]
    if not candidates:
        return {}
    rows = (LicenseAssignment.objects.filter(subscription_id__in=candidates)
            .values_list("subscription_id", "user__licenses__subscription__product_id")
            .annotate(users=Count("user_id", distinct=True)))
    holding: dict[int, dict[int, int]] = {}
    for subscription_id, product_id, users in rows:
        holding.setdefault(subscription_id, {})[product_id] = users
    return holding
