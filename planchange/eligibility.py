"""The eligibility engine: every rule of "Why can't I change plans?" runs, every
blocker is returned, and each target plan is supported or not by its data services.

``eligibility_context`` reads everything the rules need with a fixed number of queries
(no query grows with the tenant's users); the rules are small pure functions of it.
"""

from dataclasses import dataclass
from datetime import date

from django.db.models import F, Prefetch
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

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
from billing.money import money
from billing.periods import FREQUENCY_MONTHS
from planchange.blockers import Action, Blocker, Code
from planchange.models import LIVE_STATUSES, PlanChange
from portal import clock
from portal.models import Service, ServiceIncident, Tenant

NOT_ELIGIBLE_SOURCES = {
    Subscription.Source.TRIAL: gettext_lazy("This is a trial subscription."),
    Subscription.Source.PRODUCT_KEY: gettext_lazy("This subscription is prepaid with a product key."),
    Subscription.Source.RESELLER: gettext_lazy("This subscription was bought through a reseller."),
}


# The subscription's status in a sentence of its own: a status label isn't a word to put in a sentence.
NOT_ACTIVE = {
    Subscription.Status.EXPIRED: gettext_lazy("The subscription has expired."),
    Subscription.Status.DISABLED: gettext_lazy("The subscription is disabled."),
    Subscription.Status.DELETED: gettext_lazy("The subscription is deleted."),
    Subscription.Status.CANCELLED: gettext_lazy("The subscription is cancelled."),
}


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

    @property
    def product(self) -> Product:
        return self.products[self.subscription.product_id]


def catalog_products() -> dict[int, Product]:
    products = Product.objects.prefetch_related(
        "service_plans", Prefetch("offers", queryset=Offer.objects.order_by("term", "billing_frequency"))
    )
    return {p.pk: p for p in products}


def eligibility_contexts(*, subscriptions, exclude_change_id: int | None = None) -> list[EligibilityContext]:
    """Everything the rules read for each of ``subscriptions`` (of one tenant or many), in the same
    fixed number of queries whatever their number, their tenants' or their users'. ``exclude_change_id``:
    the change being validated, which must not block itself."""
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

    def by_tenant(rows) -> dict[int, list]:
        grouped: dict[int, list] = {}
        for row in rows:
            grouped.setdefault(row.tenant_id, []).append(row)
        return grouped

    incidents = by_tenant(ServiceIncident.objects.filter(tenant_id__in=tenant_ids).exclude(status__in=healthy))
    live = by_tenant(PlanChange.objects.filter(tenant_id__in=tenant_ids, status__in=LIVE_STATUSES)
                     .exclude(pk=exclude_change_id).select_related("subscription__product", "target_product"))
    checks = by_tenant(CreditCheck.objects.filter(tenant_id__in=tenant_ids, status=CreditCheck.Status.PENDING))
    same_product: dict[tuple[int, int], list] = {}
    for other in Subscription.objects.filter(tenant_id__in=tenant_ids, product_id__in={s.product_id for s in subs},
                                             status=Subscription.Status.ACTIVE).order_by("id"):
        same_product.setdefault((other.tenant_id, other.product_id), []).append(other)
    # Only an invoice payer's unpaid invoices block (the article's row says so).
    payers = {s.tenant_id for s in subs if s.payment == PaymentKind.INVOICE}
    unpaid = by_tenant(Invoice.objects.filter(tenant_id__in=payers, due_date__lt=today, total__gt=F("paid"))
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
        overdue_invoices=[i for i in unpaid.get(sub.tenant_id, []) if sub.payment == PaymentKind.INVOICE and (
            not sub.billing_profile_id or i.billing_profile_id == sub.billing_profile_id)],
    ) for sub in subs]


def eligibility_context(*, subscription: Subscription, exclude_change_id: int | None = None) -> EligibilityContext:
    """Everything the rules read for one subscription, in a fixed number of queries."""
    return eligibility_contexts(subscriptions=[subscription], exclude_change_id=exclude_change_id)[0]


# --- Actions: where the fix is -----------------------------------------------------


def _manual_change(sub_id: int) -> Action:
    """The manual path's checklist, for the subscription users would move away from."""
    return Action(_("Change plans manually"), reverse("billing:change-manually") + f"?from={sub_id}")


def _service_health() -> Action:
    return Action(_("Go to Health > Service health"), reverse("health:service-health"))


def _subscription_page(sub_id: int, anchor: str = "") -> str:
    return reverse("planchange:subscription", args=[sub_id]) + (f"#{anchor}" if anchor else "")


# --- One rule per row of the article ----------------------------------------------


def rule_users_exceed_licenses(ctx: EligibilityContext) -> Blocker | None:
    sub = ctx.subscription
    if sub.assigned_licenses <= sub.licenses:
        return None
    return Blocker(
        Code.USERS_EXCEED_LICENSES,
        ngettext("%(assigned)d user has a license, but the subscription has %(licenses)d.",
                 "%(assigned)d users have licenses, but the subscription has %(licenses)d.", sub.assigned_licenses)
        % {"assigned": sub.assigned_licenses, "licenses": sub.licenses},
        Action(_("Unassign licenses"), reverse("users:active") + f"?subscription={sub.pk}"),
    )


def rule_subscription_not_provisioned(ctx: EligibilityContext) -> Blocker | None:
    if ctx.subscription.provisioning == Subscription.Provisioning.PROVISIONED:
        return None
    until = ctx.subscription.provisioning_until
    detail = (_("%(product)s is still being set up; it is expected to be ready by %(when)s (simulation time), "
                "or when support finishes it.") % {"product": ctx.product.name,
                                                    "when": until.strftime("%Y-%m-%d %H:%M UTC")}
              if until else _("%(product)s is still being set up; support can finish it.")
              % {"product": ctx.product.name})
    return Blocker(Code.SUBSCRIPTION_NOT_PROVISIONED, detail, _service_health())


def rule_service_incident(ctx: EligibilityContext) -> Blocker | None:
    services = {plan.service for plan in ctx.product.service_plans.all()}
    hits = [i for i in ctx.open_incidents if i.service in services]
    if not hits:
        return None
    return Blocker(
        Code.SERVICE_INCIDENT,
        "; ".join(f"{Service(i.service).label}: {i.title} ({i.get_status_display()})" for i in hits)
        + " " + _("This clears as soon as the service is restored or the incident resolved; the Service health "
                  "page shows its progress."),
        _service_health(),
        services=tuple(sorted({i.service for i in hits})),
    )


def rule_change_in_progress(ctx: EligibilityContext) -> Blocker | None:
    sub = ctx.subscription
    running = [c for c in ctx.live_changes if c.status != PlanChange.Status.SCHEDULED]
    scheduled = [c for c in ctx.live_changes if c.status == PlanChange.Status.SCHEDULED and c.subscription_id == sub.pk]
    if running:
        change = running[0]
        return Blocker(
            Code.CHANGE_IN_PROGRESS,
            _("%(product)s is being changed to %(target)s (%(status)s).") % {
                "product": change.subscription.product.name, "target": change.target_product.name,
                "status": change.get_status_display()},
            Action(_("View the change in progress"), _subscription_page(change.subscription_id)),
        )
    if scheduled:
        change = scheduled[0]
        return Blocker(
            Code.CHANGE_IN_PROGRESS,
            _("A change to %(target)s is scheduled for %(date)s.") % {
                "target": change.target_product.name, "date": date_format(change.scheduled_for, "Y-m-d")},
            Action(_("View the scheduled change"), _subscription_page(sub.pk, "scheduled-change")),
        )
    return None


def rule_credit_check_pending(ctx: EligibilityContext) -> Blocker | None:
    if not ctx.pending_credit_checks:
        return None
    check = ctx.pending_credit_checks[0]
    return Blocker(
        Code.CREDIT_CHECK_PENDING,
        _("A credit check requested on %(date)s is pending.") % {"date": date_format(check.requested, "Y-m-d")},
        None,  # nothing to do but wait (support staff can decide it sooner)
    )


def rule_subscription_not_eligible(ctx: EligibilityContext) -> Blocker | None:
    reason = NOT_ELIGIBLE_SOURCES.get(ctx.subscription.source)
    if reason is None:
        return None
    return Blocker(Code.SUBSCRIPTION_NOT_ELIGIBLE, str(reason), _manual_change(ctx.subscription.pk))


def rule_duplicate_product(ctx: EligibilityContext) -> Blocker | None:
    if len(ctx.same_product_active) < 2:
        return None
    others = [s for s in ctx.same_product_active if s.pk != ctx.subscription.pk]
    return Blocker(
        Code.DUPLICATE_PRODUCT,
        _("Your organization has %(count)d active %(product)s subscriptions.")
        % {"count": len(ctx.same_product_active), "product": ctx.product.name},
        Action(_("Move users to a single plan"), reverse("users:active") + f"?subscription={others[0].pk}"),
    )


def rule_government_or_nonprofit(ctx: EligibilityContext) -> Blocker | None:
    if ctx.tenant.kind == Tenant.Kind.COMMERCIAL:
        return None
    detail = (_("Your organization is a government organization.") if ctx.tenant.kind == Tenant.Kind.GOVERNMENT
              else _("Your organization is a nonprofit organization."))
    return Blocker(Code.GOVERNMENT_OR_NONPROFIT, detail, _manual_change(ctx.subscription.pk))


def rule_addon_present(ctx: EligibilityContext) -> Blocker | None:
    blocking = [a for a in ctx.addons if a.blocks_plan_change]
    if not blocking:
        return None
    return Blocker(
        Code.ADDON_PRESENT,
        _("Add-ons that prevent the change: %(addons)s.") % {"addons": ", ".join(a.name for a in blocking)},
        Action(_("Remove the add-on"), _subscription_page(ctx.subscription.pk, "addons")),
    )


def rule_unpaid_balance(ctx: EligibilityContext) -> Blocker | None:
    if not ctx.overdue_invoices:
        return None
    invoice = ctx.overdue_invoices[0]
    return Blocker(
        Code.UNPAID_BALANCE,
        _("Invoice %(number)s has USD %(balance)s unpaid, due %(due)s.") % {
            "number": invoice.number, "balance": money(invoice.balance),
            "due": date_format(invoice.due_date, "Y-m-d")},
        Action(_("Pay now"), reverse("billing:invoice", args=[invoice.pk])),
    )


def rule_subscription_not_active(ctx: EligibilityContext) -> Blocker | None:
    sub = ctx.subscription
    if sub.status == Subscription.Status.ACTIVE:
        return None
    return Blocker(Code.SUBSCRIPTION_NOT_ACTIVE, str(NOT_ACTIVE.get(sub.status, sub.status)), _manual_change(sub.pk))


RULES = (
    rule_users_exceed_licenses,
    rule_subscription_not_provisioned,
    rule_service_incident,
    rule_change_in_progress,
    rule_credit_check_pending,
    rule_subscription_not_eligible,
    rule_duplicate_product,
    rule_government_or_nonprofit,
    rule_addon_present,
    rule_unpaid_balance,
    rule_subscription_not_active,
)


def subscription_blockers(ctx: EligibilityContext) -> list[Blocker]:
    """Every blocker of the subscription, in the article's order (not just the first)."""
    return [blocker for rule in RULES if (blocker := rule(ctx)) is not None]


# --- Targets -------------------------------------------------------------------------


def data_services_lost(current: Product, target: Product) -> list[str]:
    """Names of the current plan's data-related service plans the target does not keep
    at the same or a higher level (empty: the change keeps every user's data)."""
    target_levels: dict[str, int] = {}
    for plan in target.service_plans.all():
        target_levels[plan.service] = max(plan.level, target_levels.get(plan.service, 0))
    return [
        plan.name
        for plan in sorted(current.service_plans.all(), key=lambda p: (p.service, p.level))
        if plan.data_related and target_levels.get(plan.service, 0) < plan.level
    ]


def rule_target_supported(ctx: EligibilityContext, target: Product) -> Blocker | None:
    lost = data_services_lost(ctx.product, target)
    if lost:
        return Blocker(
            Code.TARGET_NOT_SUPPORTED,
            _("Users would lose the data of: %(services)s.") % {"services": ", ".join(lost)},
            _manual_change(ctx.subscription.pk),
            services=tuple(lost),
        )
    needed = max(ctx.subscription.assigned_licenses, 1)
    if target.max_licenses is not None and needed > target.max_licenses:
        return Blocker(
            Code.TARGET_NOT_SUPPORTED,
            _("%(product)s allows at most %(max)d licenses; %(needed)d users need one.")
            % {"product": target.name, "max": target.max_licenses, "needed": needed},
            _manual_change(ctx.subscription.pk),
        )
    return None


@dataclass
class OfferOption:
    offer: Offer
    licenses: int

    @property
    def monthly_total(self):
        return money(self.offer.price * self.licenses)

    @property
    def period_total(self):
        """What one billing period costs: a month, or twelve months billed annually."""
        months = 1 if self.offer.term == "P1M" else FREQUENCY_MONTHS[self.offer.billing_frequency]
        return money(self.offer.price * self.licenses * months)


@dataclass
class TargetOption:
    product: Product
    reasons: list[Blocker]
    offers: list[OfferOption]

    @property
    def supported(self) -> bool:
        return not self.reasons


def target_options(ctx: EligibilityContext) -> list[TargetOption]:
    """Every other product: supported first, the current family first, upgrades before
    cheaper plans, by price."""
    licenses = max(ctx.subscription.licenses, ctx.subscription.assigned_licenses, 1)
    options = []
    for product in ctx.products.values():
        if product.pk == ctx.product.pk:
            continue
        reason = rule_target_supported(ctx, product)
        options.append(TargetOption(
            product=product,
            reasons=[reason] if reason else [],
            offers=[OfferOption(offer, licenses) for offer in product.offers.all()],
        ))
    family, price = ctx.product.family, ctx.product.annual_price
    # Supported first; the current family first; upgrades (dearer plans) before plans that
    # cost less; then by price.
    options.sort(key=lambda o: (not o.supported, o.product.family != family, o.product.annual_price < price,
                                o.product.annual_price, o.product.name))
    return options


@dataclass
class Eligibility:
    subscription: Subscription
    product: Product
    today: date
    blockers: list[Blocker]
    targets: list[TargetOption]

    @property
    def can_change_automatically(self) -> bool:
        return not self.blockers

    @property
    def recommended(self) -> list[TargetOption]:
        return [t for t in self.targets if t.supported]

    @property
    def unsupported(self) -> list[TargetOption]:
        return [t for t in self.targets if not t.supported]


def _eligibility(ctx: EligibilityContext) -> Eligibility:
    return Eligibility(subscription=ctx.subscription, product=ctx.product, today=ctx.today,
                       blockers=subscription_blockers(ctx), targets=target_options(ctx))


def eligibility_check(*, subscription: Subscription, exclude_change_id: int | None = None) -> Eligibility:
    return _eligibility(eligibility_context(subscription=subscription, exclude_change_id=exclude_change_id))


def eligibility_checks(*, subscriptions) -> list[Eligibility]:
    """``eligibility_check`` of each subscription (of one tenant or many: a support page's), in the
    same fixed number of queries whatever their number."""
    return [_eligibility(ctx) for ctx in eligibility_contexts(subscriptions=subscriptions)]
