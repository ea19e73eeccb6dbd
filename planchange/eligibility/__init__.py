"""The eligibility engine: every rule of "Why can't I change plans?" runs, every
blocker is returned, and each target plan is supported or not by its data services.

``eligibility_contexts`` (``planchange.eligibility.context``) reads everything the rules need with a
fixed number of queries (no query grows with the tenant's users); the rules
(``planchange.eligibility.rules``) and the targets (``planchange.eligibility.targets``) are small pure
functions of it.
"""

from dataclasses import dataclass
from datetime import date

from billing.models import Product, Subscription
from planchange.blockers import Blocker
from planchange.eligibility.context import EligibilityContext, catalog_products, eligibility_contexts
from planchange.eligibility.rules import RULES, subscription_blockers
from planchange.eligibility.targets import (
    OfferOption,
    TargetOption,
    data_services_lost,
    rule_target_is_upgrade,
    rule_target_supported,
    services_gained,
    target_options,
)

__all__ = [
    "RULES", "Eligibility", "EligibilityContext", "OfferOption", "TargetOption", "catalog_products",
    "data_services_lost", "eligibility_check", "eligibility_checks", "eligibility_context", "eligibility_contexts",
    "rule_target_is_upgrade", "rule_target_supported", "services_gained", "subscription_blockers", "target_options",
]


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
    def renewal_only(self) -> list[TargetOption]:
        """Plans that cost less and keep every user's data: an MCA tenant's renewal may take them."""
        return [t for t in self.targets if t.renewal_only]

    @property
    def unsupported(self) -> list[TargetOption]:
        return [t for t in self.targets if not t.supported]


def _eligibility(ctx: EligibilityContext) -> Eligibility:
    return Eligibility(subscription=ctx.subscription, product=ctx.product, today=ctx.today,
                       blockers=subscription_blockers(ctx), targets=target_options(ctx))


def eligibility_check(*, subscription: Subscription, exclude_change_id: int | None = None) -> Eligibility:
    return _eligibility(eligibility_context(subscription=subscription, exclude_change_id=exclude_change_id))


def eligibility_checks(*, subscriptions, exclude_change_ids=()) -> list[Eligibility]:
    """``eligibility_check`` of each subscription (of one tenant or many: a support page's; the changes
    ``exclude_change_ids`` validated together, one per tenant), in the same fixed number of queries whatever
    their number."""
    return [_eligibility(ctx) for ctx in eligibility_contexts(subscriptions=subscriptions,
                                                              exclude_change_ids=exclude_change_ids)]


def eligibility_context(*, subscription: Subscription, exclude_change_id: int | None = None) -> EligibilityContext:
    """Everything the rules read for one subscription, in a fixed number of queries."""
    return eligibility_contexts(subscriptions=[subscription], exclude_change_id=exclude_change_id)[0]
