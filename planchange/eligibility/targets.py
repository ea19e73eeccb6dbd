"""Each other plan as a target: supported when it keeps every data-related service at the same or a higher
level (and fits the users), an upgrade when it costs more per license (a plan that costs less is the
manual path, or an MCA tenant's renewal), with its offers."""

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.utils.translation import gettext as _

from billing.models import (
    BillingFrequency,
    Offer,
    Product,
    Subscription,
)
from billing.money import money, money_text
from billing.periods import months_per_period, renewal_date
from planchange.blockers import Blocker, Code
from planchange.eligibility.context import EligibilityContext
from planchange.eligibility.rules import manual_change_action, subscription_page_action

# --- Targets -------------------------------------------------------------------------


def data_services_lost(current: Product, target: Product) -> list[str]:
    """Names of the current plan's data-related service plans the target does not keep
    at the same or a higher level (empty: the change keeps every user's data)."""
    target_levels: dict[str, int] = {}
    for plan in target.service_plans.all():
        for service, level in plan.provides():
            target_levels[service] = max(level, target_levels.get(service, 0))
    return [
        plan.name
        for plan in sorted(current.service_plans.all(), key=lambda p: (p.service, p.level))
        if plan.data_related and target_levels.get(plan.service, 0) < plan.level
    ]


def services_gained(current: Product, target: Product) -> list[str]:
    """Names of the target's service plans the current plan has at no level or a lower one, by name."""
    current_levels: dict[str, int] = {}
    for plan in current.service_plans.all():
        for service, level in plan.provides():
            current_levels[service] = max(level, current_levels.get(service, 0))
    return sorted(plan.name for plan in target.service_plans.all() if current_levels.get(plan.service, 0) < plan.level)


def _price_per_license(product: Product, sub) -> Decimal:
    """What a license of ``product`` costs a month on the subscription's length and billing frequency (the
    price its card shows), else its annual-commitment list price."""
    wanted = (sub.term, sub.billing_frequency)
    offer = next((o for o in product.offers.all() if (o.term, o.billing_frequency) == wanted), None)
    return offer.price if offer is not None else product.annual_price


def rule_target_is_upgrade(ctx: EligibilityContext, target: Product) -> Blocker | None:
    """An automatic change goes up: to a higher list price per license (annual commitment; the offers of
    every product keep the same order)."""
    current = ctx.product
    if target.annual_price > current.annual_price:
        return None
    sub = ctx.subscription
    return Blocker(
        Code.TARGET_NOT_UPGRADE,
        _("%(target)s costs %(price)s per license a month, less than %(current)s (%(current_price)s): it isn't an "
          "upgrade.") % {"target": target.name, "price": money_text(_price_per_license(target, sub)),
                         "current": current.name, "current_price": money_text(_price_per_license(current, sub))},
        manual_change_action(sub.pk),
    )


def rule_target_supported(ctx: EligibilityContext, target: Product, into: Subscription | None = None) -> Blocker | None:
    lost = data_services_lost(ctx.product, target)
    if lost:
        return Blocker(
            Code.TARGET_NOT_SUPPORTED,
            _("Users would lose the data of: %(services)s.") % {"services": ", ".join(lost)},
            manual_change_action(ctx.subscription.pk),
            services=tuple(lost),
        )
    needed = into.licenses + licenses_into(ctx, target) if into else max(ctx.subscription.assigned_licenses, 1)
    if target.max_licenses is not None and needed > target.max_licenses:
        detail = (_("%(product)s allows at most %(max)d licenses; going into subscription %(id)s would make it "
                    "%(needed)d.") if into else _("%(product)s allows at most %(max)d licenses; %(needed)d users need "
                                                 "one."))
        return Blocker(Code.TARGET_NOT_SUPPORTED, detail % {
            "product": target.name, "max": target.max_licenses, "needed": needed, "id": into.pk if into else None},
            manual_change_action(ctx.subscription.pk))
    return None


# --- Into a product already owned (Partner Center's transition into an existing subscription) ---------

BILLED = {BillingFrequency.MONTHLY: _("billed monthly"), BillingFrequency.ANNUAL: _("billed annually")}


def _why_not_into(ctx: EligibilityContext, other: Subscription, ends) -> str | None:
    """Why the change can't go into ``other`` (a subscription of the target product), or None."""
    sub, owned = ctx.subscription, {"product": other.product.name, "id": other.pk}
    if other.status != Subscription.Status.ACTIVE:
        return _("You already have %(product)s (subscription %(id)s), which isn't active (%(status)s). A change can "
                 "go into it only while it is active.") % {**owned, "status": other.get_status_display()}
    if other.provisioning != Subscription.Provisioning.PROVISIONED:
        return _("You already have %(product)s (subscription %(id)s), which is still being set up. A change can go "
                 "into it once it is active.") % owned
    if other.source != Subscription.Source.DIRECT:
        return _("You already have %(product)s (subscription %(id)s), which isn't bought directly (%(source)s): a "
                 "change can't go into it.") % {**owned, "source": other.get_source_display()}
    if any(change.subscription_id == other.pk for change in ctx.live_changes):
        return _("You already have %(product)s (subscription %(id)s), which has a change of its own scheduled. A "
                 "change can't go into it.") % owned
    other_ends = renewal_date(start=other.start_date, term=other.term, today=ctx.today)
    if not other.recurring_billing:
        return _("You already have %(product)s (subscription %(id)s), whose recurring billing is off: it ends on "
                 "%(ends)s. A change can go into it only while it renews.") % {**owned, "ends": other_ends.isoformat()}
    if other.term != sub.term:
        return _("You already have %(product)s (subscription %(id)s) for %(other)s; this subscription is for "
                 "%(this)s. A change can go into it only when both have the same length and billing frequency.") % {
            **owned, "other": other.get_term_display(), "this": sub.get_term_display()}
    if other.billing_frequency != sub.billing_frequency:
        return _("You already have %(product)s (subscription %(id)s), %(other)s; this subscription is %(this)s. A "
                 "change can go into it only when both have the same length and billing frequency.") % {
            **owned, "other": BILLED[other.billing_frequency], "this": BILLED[sub.billing_frequency]}
    if other_ends < ends:
        return _("You already have %(product)s (subscription %(id)s), whose term ends on %(other)s, before this "
                 "subscription's term ends on %(this)s.") % {**owned, "other": other_ends.isoformat(),
                                                            "this": ends.isoformat()}
    return None


def into_subscription(ctx: EligibilityContext, target: Product) -> tuple[Subscription | None, Blocker | None]:
    """The tenant's subscription of ``target`` the change goes into (the first that can take it), or why
    none can: (None, None) when the tenant has none."""
    owned = ctx.owned.get(target.pk) or []
    if not owned:
        return None, None
    sub = ctx.subscription
    # The end of the term the day before is in: on a renewal day (a change scheduled for it), the term ending.
    ends = renewal_date(start=sub.start_date, term=sub.term, today=ctx.today - timedelta(days=1))
    reasons = []
    for other in owned:
        why = _why_not_into(ctx, other, ends)
        if why is None:
            return other, None
        reasons.append((other, why))
    other, why = reasons[0]
    return None, Blocker(Code.TARGET_ALREADY_OWNED, why, subscription_page_action(other.pk))


def licenses_into(ctx: EligibilityContext, target: Product) -> int:
    """The licenses a change into ``target``'s subscription adds: one per user who doesn't hold it yet."""
    return max(ctx.subscription.assigned_licenses - ctx.holding.get(target.pk, 0), 0)


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
        months = months_per_period(term=self.offer.term, billing_frequency=self.offer.billing_frequency)
        return money(self.offer.price * self.licenses * months)


@dataclass
class TargetOption:
    """A plan to change to. ``gate``: what rules it out whenever the change happens (data lost, too many
    users); ``lower``: it isn't an upgrade, which only an MCA tenant's renewal allows (``renewal_allowed``)."""

    product: Product
    gate: list[Blocker]
    offers: list[OfferOption]
    lower: Blocker | None = None
    renewal_allowed: bool = False
    gains: list[str] = field(default_factory=list)
    list_offer: OfferOption | None = None  # the offer of the current term and billing frequency, for its price
    into: Subscription | None = None  # the tenant's subscription of this product the change goes into

    @property
    def upgrade(self) -> bool:
        return self.lower is None

    @property
    def reasons(self) -> list[Blocker]:
        """Why it can't be ordered now."""
        return [*self.gate, *([self.lower] if self.lower else [])]

    @property
    def supported(self) -> bool:
        """It can be ordered now: an upgrade that keeps every user's data."""
        return not self.reasons

    @property
    def renewal_only(self) -> bool:
        return not self.gate and self.lower is not None and self.renewal_allowed

    def reasons_for(self, *, at_renewal: bool) -> list[Blocker]:
        return self.gate if at_renewal and self.renewal_allowed else self.reasons


def target_options(ctx: EligibilityContext) -> list[TargetOption]:
    """Every other product: upgrades that keep the data first, then cheaper plans that keep it (an MCA
    tenant's renewal may take them first), then the rest; in each, the current family first, upgrades before
    cheaper plans, by price."""
    sub = ctx.subscription
    licenses = max(sub.licenses, sub.assigned_licenses, 1)
    options = []
    for product in ctx.products.values():
        if product.pk == ctx.product.pk:
            continue
        into, owned_reason = into_subscription(ctx, product)
        reason = owned_reason or rule_target_supported(ctx, product, into=into)
        offers = [OfferOption(offer, licenses_into(ctx, product) if into else licenses)
                  for offer in product.offers.all()
                  if into is None or (offer.term, offer.billing_frequency) == (into.term, into.billing_frequency)]
        options.append(TargetOption(
            product=product, gate=[reason] if reason else [], offers=offers,
            lower=rule_target_is_upgrade(ctx, product), renewal_allowed=ctx.tenant.has_billing_profile,
            gains=services_gained(ctx.product, product), into=into,
            list_offer=next((o for o in offers if (o.offer.term, o.offer.billing_frequency)
                             == (sub.term, sub.billing_frequency)), offers[0] if offers else None),
        ))
    family, price = ctx.product.family, ctx.product.annual_price
    # Supported first; the current family first; upgrades (dearer plans) before plans that
    # cost less; then by price.
    options.sort(key=lambda o: (not o.supported, not o.renewal_only, bool(o.gate), o.product.family != family,
                                o.product.annual_price < price,
                                o.product.annual_price, o.product.name))
    return options
