"""Reads of the catalog and of a tenant's subscriptions."""

from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from django.db.models import Case, DecimalField, OuterRef, Prefetch, Q, Subquery, Value, When
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from billing.models import (
    MONEY,
    AddOnProduct,
    BillingProfile,
    CreditCheck,
    Invoice,
    InvoiceLine,
    InvoicePayer,
    LicenseChange,
    Offer,
    PaymentHabit,
    PaymentMethod,
    Product,
    RemovedAddOn,
    ServicePlan,
    Subscription,
    SubscriptionAddOn,
)
from billing.offers import offer_for
from billing.orders import first_period_key
from billing.periods import MCA_CANCEL_WINDOW_DAYS, current_term_start, renewal_date
from portal import clock
from portal.compiled import Compiled, children_attach
from portal.errors import Missing
from portal.models import Tenant
from portal.selectors import object_get


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
    ).order_by().values("price")[:1]  # one offer per product, term and frequency: no order (nor its join) needed
    subs = Subscription.objects.all() if tenant is None else Subscription.objects.filter(tenant=tenant)
    return (
        subs.select_related("tenant", "product", "billing_profile", "payment_method")
        .prefetch_related(
            Prefetch("subscription_addons", queryset=SubscriptionAddOn.objects.select_related("addon"))
        )
        .annotate(price=Subquery(price, output_field=DecimalField(**MONEY)))
    )


@cache
def _subscriptions_listed():
    # Built once per process (never evaluated itself: each call filters a copy). Resolving the price
    # subquery and the order anew was a sixth of an API list's CPU.
    active_first = Case(When(status=Subscription.Status.ACTIVE, then=Value(0)), default=Value(1))
    return _subscriptions(None).order_by(active_first, "product__name", "start_date", "id")


def subscription_list(*, tenant: Tenant):
    """The tenant's subscriptions as Your products lists them: active ones first."""
    return _subscriptions_listed().filter(tenant=tenant)


def subscriptions_shown(*, tenant: Tenant | int):
    """``subscription_list`` with what the API's answer reads of each: its product and billing profile, not its
    tenant or payment method (two joins fewer), and its add-ons."""
    return subscription_list(tenant=tenant).select_related(None).select_related("product", "billing_profile")


_SUBSCRIPTIONS_SHOWN = Compiled(lambda tenant: subscriptions_shown(tenant=tenant).prefetch_related(None))
_ADDONS_OF = Compiled(lambda parents: SubscriptionAddOn.objects.select_related("addon")
                      .filter(subscription__in=parents))


def subscriptions_shown_first(*, tenant: Tenant, limit: int) -> list[Subscription]:
    """The first ``limit`` of ``subscriptions_shown``, with their add-ons: the same rows, read with SQL compiled
    once per process (``portal.compiled``; the API's list asks for its first page on every request)."""
    subs = _SUBSCRIPTIONS_SHOWN.rows(limit=limit, tenant=tenant.pk)
    children_attach(subs, relation="subscription_addons", children=_ADDONS_OF)
    return subs


_SUBSCRIPTION_SHOWN = Compiled(lambda tenant, id: subscriptions_shown(tenant=tenant).filter(pk=id)
                               .prefetch_related(None))


def subscription_shown(*, tenant: Tenant, id) -> Subscription:
    """One of ``subscriptions_shown``, with its add-ons, read with SQL compiled once per process; missing and
    foreign ids are the same ``subscription_not_found``."""
    return _SUBSCRIPTION_SHOWN.get(id, SUBSCRIPTION_MISSING, children=("subscription_addons", _ADDONS_OF),
                                   tenant=tenant.pk)


def service_plan_names() -> dict[str, str]:
    """Each service plan's name (the catalog's) by its code, e.g. YAMMER_ENTERPRISE → Viva Engage."""
    return dict(ServicePlan.objects.values_list("code", "name"))


def offer_of(sub: Subscription, cache: dict | None = None) -> Offer | None:
    """The catalog offer a subscription is on (its product, term and billing frequency); ``cache``
    keeps one query per offer across many subscriptions."""
    return offer_for(product_id=sub.product_id, term=sub.term, billing_frequency=sub.billing_frequency, cache=cache)


PREDECESSORS_MAX = 100  # a chain of plan changes longer than this is no one's history


def offers_sold(*, sku: str) -> set[tuple[str, str]]:
    """The (term, billing frequency) pairs the catalog sells ``sku`` for (one query)."""
    return set(Offer.objects.filter(product__sku=sku).values_list("term", "billing_frequency"))


def subscription_predecessors(*, subscription: Subscription) -> list[int]:
    """The subscriptions that completed plan changes replaced, one after the other, to end with this
    one (A → B → C: for C, [B, A]), nearest first: each cancelled one names its replacement
    (``replaced_by``)."""
    ids: list[int] = []
    frontier = [subscription.pk]
    while frontier and len(ids) < PREDECESSORS_MAX:
        found = [pk for pk in Subscription.objects.filter(replaced_by_id__in=frontier).order_by("pk")
                 .values_list("pk", flat=True) if pk not in ids and pk != subscription.pk]
        ids += found[:PREDECESSORS_MAX - len(ids)]
        frontier = found
    return ids


def addons_restorable(*, subscription: Subscription) -> list[AddOnProduct]:
    """The add-ons that can be added back to the subscription (the article: "remove the add-on ... you
    can add it back later"): those removed from it, and, for a subscription a plan change made, those
    removed from the subscriptions it replaced (``subscription_predecessors``) or left on them when
    they were cancelled. Not those it has now. In the catalog's order (by name)."""
    predecessors = subscription_predecessors(subscription=subscription)
    removed = RemovedAddOn.objects.filter(subscription_id__in=[subscription.pk, *predecessors]).values("addon_id")
    left_on = SubscriptionAddOn.objects.filter(subscription_id__in=predecessors).values("addon_id")
    present = SubscriptionAddOn.objects.filter(subscription=subscription).values("addon_id")
    return list(AddOnProduct.objects.filter(Q(pk__in=removed) | Q(pk__in=left_on)).exclude(pk__in=present)
                .order_by("name", "pk"))


def subscriptions_all():
    """Every tenant's subscriptions (support staff), newest first."""
    return _subscriptions(None).order_by("-id")


SUBSCRIPTION_MISSING = Missing("subscription_not_found", gettext_lazy("No such subscription."))
INVOICE_MISSING = Missing("invoice_not_found", gettext_lazy("No such invoice."))
CREDIT_CHECK_MISSING = Missing("credit_check_not_found", gettext_lazy("No such credit check."))
PAYMENT_METHOD_MISSING = Missing("payment_method_not_found", gettext_lazy("No such payment method."))
PRODUCT_MISSING = Missing("product_not_found", gettext_lazy("No such product in the catalog."))
# A billing profile named in support's body (a payer's habit): a field of the request.
BILLING_PROFILE_UNKNOWN = Missing("unknown_billing_profile",
                                  gettext_lazy("Choose one of the organization's billing profiles."),
                                  status=422, field="billing_profile")
# A payment method named in an order's body: a field of the request that names nothing of the tenant's.
PAYMENT_METHOD_UNKNOWN = Missing("unknown_payment_method",
                                 gettext_lazy("Choose one of your organization's payment methods."),
                                 status=422, field="payment_method")


def subscription_get(*, tenant: Tenant | None, id) -> Subscription:
    """One of the tenant's subscriptions with what its pages show (``tenant=None``: any tenant's,
    support staff's); missing and foreign ids are the same ``subscription_not_found``."""
    return object_get(_subscriptions(tenant), id, SUBSCRIPTION_MISSING)


def invoice_get(*, tenant: Tenant, id) -> Invoice:
    """One of the tenant's invoices with its lines; missing and foreign ids are the same ``invoice_not_found``."""
    return object_get(Invoice.objects.prefetch_related("lines").select_related("billing_profile").filter(tenant=tenant),
                      id, INVOICE_MISSING)


def credit_check_get(*, tenant: Tenant | None, id, lock: bool = False) -> CreditCheck:
    """A tenant's credit check (``tenant=None``: any tenant's, support staff's)."""
    checks = CreditCheck.objects.all() if tenant is None else CreditCheck.objects.filter(tenant=tenant)
    return object_get(checks.select_for_update() if lock else checks, id, CREDIT_CHECK_MISSING)


def payment_method_get(*, tenant: Tenant, id) -> PaymentMethod:
    """One of the tenant's payment methods, named by an order (422 ``unknown_payment_method`` otherwise)."""
    return object_get(PaymentMethod.objects.filter(tenant=tenant), id, PAYMENT_METHOD_UNKNOWN)


def subscription_first_charge(*, subscription: Subscription) -> InvoiceLine | None:
    """The invoice line that charged a bought subscription's first period, with its invoice."""
    return (InvoiceLine.objects.select_related("invoice")
            .filter(subscription=subscription, idempotency_key=first_period_key(subscription.pk)).first())


def invoice_list(*, tenant: Tenant, lines: bool = True):
    """The tenant's invoices, newest first, with their lines (two queries, whatever the count; one without them)."""
    invoices = Invoice.objects.filter(tenant=tenant).select_related("billing_profile").order_by("-date", "-id")
    return invoices.prefetch_related("lines") if lines else invoices


def payment_method_list(*, tenant: Tenant):
    """The tenant's payment methods, the default first."""
    from billing.models import PaymentMethod

    return PaymentMethod.objects.filter(tenant=tenant).order_by("-is_default", "id")


def credit_check_pending(*, tenant: Tenant) -> CreditCheck | None:
    """The tenant's pending credit check, if any."""
    return CreditCheck.objects.filter(tenant=tenant, status=CreditCheck.Status.PENDING).first()


def subscription_last_id() -> int:
    """The highest subscription id so far (0 before the first)."""
    return Subscription.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


# --- Licenses: whether they can be bought or removed, and when ------------------------------------


SOURCE_LICENSES_REFUSED = {
    Subscription.Source.TRIAL:
        gettext_lazy("It's a trial: buy the subscription to choose how many licenses it has."),
    Subscription.Source.PRODUCT_KEY:
        gettext_lazy("It's prepaid with a product key: redeem a key for a different number of licenses."),
    Subscription.Source.RESELLER:
        gettext_lazy("It was bought through a reseller: ask your partner to change its licenses."),
}


def licenses_editable(sub: Subscription, *, credit_check=None) -> str:
    """Why the subscription's licenses can't be bought or removed now ("" when they can): not active,
    not bought here (a trial, a product key, a reseller), or a credit check pending (``credit_check``:
    the tenant's pending one, if the caller has it)."""
    if sub.status != Subscription.Status.ACTIVE:
        return str(_("Only an active subscription's licenses can change."))
    if sub.source in SOURCE_LICENSES_REFUSED:
        return str(SOURCE_LICENSES_REFUSED[sub.source])
    if credit_check is not None:
        return _("A credit check requested on %(date)s is pending: licenses can't change until it's decided "
                 "(within two business days).") % {"date": credit_check.requested.isoformat()}
    return ""


def licenses_bought_recently(sub: Subscription, *, now) -> int:
    """Licenses bought in the last 7 days (net of those removed since): MCA removes those at once."""
    since = now - timedelta(days=MCA_CANCEL_WINDOW_DAYS)
    changes = LicenseChange.objects.filter(subscription=sub, changed_at__gte=since)
    return max(sum(after - before for before, after in changes.values_list("licenses_before", "licenses_after")), 0)


def licenses_remove_window(sub: Subscription, *, today, count: int = 0) -> tuple[bool, object]:
    """Whether ``count`` licenses can be removed now, and the renewal date a later removal waits for.
    MOSA: any time. MCA: within 7 days of the purchase or the last renewal, or licenses bought in the
    last 7 days (at most as many as were bought); otherwise at the renewal."""
    renewal = renewal_date(start=sub.start_date, term=sub.term, today=today)
    if sub.billing_profile_id is None:
        return True, renewal
    term_start = current_term_start(start=sub.start_date, term=sub.term, today=today)
    if (today - term_start).days <= MCA_CANCEL_WINDOW_DAYS:
        return True, renewal
    return 0 < count <= licenses_bought_recently(sub, now=clock.now()), renewal


CREDIT_CHECK_BUSINESS_DAYS = 2  # "Kreditkontroller kan ta upp till två arbetsdagar."


def credit_checks_next_due(after):
    """The first day after ``after`` on which a pending credit check is approved by itself."""
    first = (CreditCheck.objects.filter(status=CreditCheck.Status.PENDING).order_by("requested")
             .values_list("requested", flat=True).first())
    if first is None:
        return None
    return max(clock.add_business_days(first, CREDIT_CHECK_BUSINESS_DAYS), after + timedelta(days=1))


@dataclass(frozen=True)
class Payer:
    """Who pays a tenant's invoices and how (``billing.habits``): a billing profile, or the tenant for its
    invoices without one (``billing_profile_id`` None)."""

    billing_profile_id: int | None
    name: str
    payment_habit: str
    payment_delay_days: int

    @property
    def habit_text(self) -> str:
        if self.payment_habit == PaymentHabit.LATE:
            return ngettext("Pays %(days)d day after the due date", "Pays %(days)d days after the due date",
                            self.payment_delay_days) % {"days": self.payment_delay_days}
        return str(PaymentHabit(self.payment_habit).label)


def payers_of(*, tenant: Tenant) -> list[Payer]:
    """The tenant's payers of invoices with their habits: each billing profile (MCA), and the tenant itself
    when it has no billing profile or has invoices without one (no ``InvoicePayer`` row: on time)."""
    payers = [Payer(p.pk, p.name, p.payment_habit, p.payment_delay_days)
              for p in BillingProfile.objects.filter(tenant=tenant).order_by("name", "pk")]
    if not payers or Invoice.objects.filter(tenant=tenant, billing_profile__isnull=True).exists():
        own = InvoicePayer.objects.filter(tenant=tenant).first()
        payers.append(Payer(None, tenant.name, own.payment_habit if own else PaymentHabit.ON_TIME,
                            own.payment_delay_days if own else 0))
    return payers
