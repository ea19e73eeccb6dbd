"""Each other plan as a target: supported when it keeps every data-related service at the same or a higher
level (and fits the users), with its offers."""

from dataclasses import dataclass

from django.utils.translation import gettext as _

from billing.models import (
    Offer,
    Product,
)
from billing.money import money
from billing.periods import months_per_period
from planchange.blockers import Blocker, Code
from planchange.eligibility.context import EligibilityContext
from planchange.eligibility.rules import manual_change_action

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
            manual_change_action(ctx.subscription.pk),
            services=tuple(lost),
        )
    needed = max(ctx.subscription.assigned_licenses, 1)
    if target.max_licenses is not None and needed > target.max_licenses:
        return Blocker(
            Code.TARGET_NOT_SUPPORTED,
            _("%(product)s allows at most %(max)d licenses; %(needed)d users need one.")
            % {"product": target.name, "max": target.max_licenses, "needed": needed},
            manual_change_action(ctx.subscription.pk),
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
        months = months_per_period(term=self.offer.term, billing_frequency=self.offer.billing_frequency)
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
