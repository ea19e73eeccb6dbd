"""Reads of the catalog and of a tenant's subscriptions."""

from django.db.models import Case, DecimalField, OuterRef, Prefetch, Subquery, Value, When
from django.http import Http404

from billing.models import (
    MONEY,
    AddOnProduct,
    CreditCheck,
    Invoice,
    InvoiceLine,
    Offer,
    Product,
    ServicePlan,
    Subscription,
    SubscriptionAddOn,
)
from billing.orders import first_period_key
from portal.models import Event, Tenant


def product_list():
    return Product.objects.prefetch_related(
        "service_plans", Prefetch("offers", queryset=Offer.objects.order_by("term", "billing_frequency"))
    ).order_by("family", "annual_price")


def _subscriptions(tenant: Tenant | None):
    """The tenant's subscriptions with what their pages show: the offer's price, add-ons.
    ``assigned_licenses`` and ``change_in_progress`` are billing's own (a count licensing keeps
    through billing's service, and the hold a change takes)."""
    price = Offer.objects.filter(
        product=OuterRef("product"), term=OuterRef("term"),
        billing_frequency=OuterRef("billing_frequency"),
    ).values("price")[:1]
    subs = Subscription.objects.all() if tenant is None else Subscription.objects.filter(tenant=tenant)
    return (
        subs.select_related("tenant", "product", "billing_profile", "payment_method")
        .prefetch_related(
            Prefetch("subscription_addons", queryset=SubscriptionAddOn.objects.select_related("addon"))
        )
        .annotate(price=Subquery(price, output_field=DecimalField(**MONEY)))
    )


def subscription_list(*, tenant: Tenant):
    """The tenant's subscriptions as Your products lists them: active ones first."""
    active_first = Case(When(status=Subscription.Status.ACTIVE, then=Value(0)), default=Value(1))
    return _subscriptions(tenant).order_by(active_first, "product__name", "start_date", "id")


def service_plan_names() -> dict[str, str]:
    """Each service plan's name (the catalog's) by its code, e.g. YAMMER_ENTERPRISE → Viva Engage."""
    return dict(ServicePlan.objects.values_list("code", "name"))


def offer_of(sub: Subscription, cache: dict | None = None) -> Offer | None:
    """The catalog offer a subscription is on (its product, term and billing frequency); ``cache``
    keeps one query per offer across many subscriptions."""
    key = (sub.product_id, sub.term, sub.billing_frequency)
    if cache is None or key not in cache:
        offer = Offer.objects.filter(product_id=sub.product_id, term=sub.term,
                                     billing_frequency=sub.billing_frequency).first()
        if cache is None:
            return offer
        cache[key] = offer
    return cache[key]


ADDON_REMOVED = "subscription.addon_removed"  # the audit verb of billing's subscription_addon_remove


def addons_restorable(*, tenant: Tenant, subscription: Subscription, predecessor_ids=()) -> list[AddOnProduct]:
    """The add-ons that can be added back to the subscription (the article: "remove the add-on ... you
    can add it back later"): those removed from it, and, for a subscription a plan change made, those
    removed from the subscriptions it replaced (``predecessor_ids``, which the caller knows) or left on
    them when they were cancelled. Not those it has now. In the catalog's order (by name).

    What was removed is read from the audit trail, which records every removal in the transaction
    that made it."""
    ids = [subscription.pk, *predecessor_ids]
    removed = Event.objects.filter(tenant=tenant, verb=ADDON_REMOVED, object_type=Subscription._meta.label_lower,
                                   object_id__in=[str(i) for i in ids]).values_list("data", flat=True)
    codes = {data.get("addon") for data in removed if isinstance(data, dict)}
    codes |= set(SubscriptionAddOn.objects.filter(subscription_id__in=predecessor_ids, subscription__tenant=tenant)
                 .values_list("addon__code", flat=True))
    present = SubscriptionAddOn.objects.filter(subscription=subscription).values("addon_id")
    return list(AddOnProduct.objects.filter(code__in=codes - {None}).exclude(pk__in=present).order_by("name", "pk"))


def subscriptions_all():
    """Every tenant's subscriptions (support staff), newest first."""
    return _subscriptions(None).order_by("-id")


def subscription_get(*, tenant: Tenant, subscription_id) -> Subscription:
    """One of the tenant's subscriptions; missing and foreign ids are the same 404."""
    try:
        return _subscriptions(tenant).get(pk=subscription_id)
    except (Subscription.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc



def invoice_get(*, tenant: Tenant, invoice_id) -> Invoice:
    """One of the tenant's invoices with its lines; missing and foreign ids are the same 404."""
    try:
        return Invoice.objects.prefetch_related("lines").select_related("billing_profile").get(
            tenant=tenant, pk=invoice_id)
    except (Invoice.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def subscription_first_charge(*, subscription: Subscription) -> InvoiceLine | None:
    """The invoice line that charged a bought subscription's first period, with its invoice."""
    return (InvoiceLine.objects.select_related("invoice")
            .filter(subscription=subscription, idempotency_key=first_period_key(subscription.pk)).first())


def invoice_list(*, tenant: Tenant):
    """The tenant's invoices, newest first, with their lines (two queries, whatever the count)."""
    return (Invoice.objects.filter(tenant=tenant).select_related("billing_profile")
            .prefetch_related("lines").order_by("-date", "-id"))


def payment_method_list(*, tenant: Tenant):
    """The tenant's payment methods, the default first."""
    from billing.models import PaymentMethod

    return PaymentMethod.objects.filter(tenant=tenant).order_by("-is_default", "id")


def credit_check_pending(*, tenant: Tenant) -> CreditCheck | None:
    """The tenant's pending credit check, if any."""
    return CreditCheck.objects.filter(tenant=tenant, status=CreditCheck.Status.PENDING).first()
