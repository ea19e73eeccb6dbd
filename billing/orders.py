"""An order of a new subscription (Billing > Purchase services, POST subscriptions/): the product,
the offer and the charge of its first billing period, checked and computed here once, for the page
that shows the total before buying and for ``billing.services.subscription_buy`` that bills it, so
the two match to the cent."""

import re
import uuid
from dataclasses import dataclass
from datetime import date

from django.utils.translation import gettext as _

from billing.models import BillingFrequency, Offer, Product, Term
from billing.offers import offer_sold
from billing.proration import Line, Side, charge_line
from billing.texts import UNKNOWN_SKU
from portal.errors import DomainError
from portal.texts import Text

# What the order form's one-time token looks like: a UUID in its canonical lowercase form, nothing else.
_ORDER_TOKEN = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass(frozen=True)
class Order:
    product: Product
    offer: Offer
    licenses: int
    first_period: Line  # the first billing period's charge, as the invoice carries it

    @property
    def term(self) -> str:
        return self.offer.term

    @property
    def billing_frequency(self) -> str:
        return self.offer.billing_frequency


def order_check(*, sku: str, licenses: int, term: str, billing_frequency: str, day: date) -> Order:
    """The order of ``licenses`` of the product ``sku`` for ``term`` billed ``billing_frequency``,
    starting on ``day``; refused (``DomainError`` naming the field) for an unknown product, an offer
    the catalog doesn't sell, or a number of licenses outside 1 to the product's maximum. A one-month
    commitment is always billed monthly."""
    product = Product.objects.filter(sku=sku).first()
    if product is None:
        raise DomainError(Text(UNKNOWN_SKU, sku=sku), code="unknown_sku", field="sku")
    if term == Term.P1M:
        billing_frequency = BillingFrequency.MONTHLY
    offer = offer_sold(product, term=term, billing_frequency=billing_frequency)
    if not 1 <= licenses <= product.licenses_limit:
        raise DomainError(_("%(product)s allows 1 to %(max)d licenses.")
                          % {"product": product.name, "max": product.licenses_limit},
                          code="invalid_licenses", field="licenses")
    line = charge_line(Side(product.name, offer.price, licenses, offer.term, offer.billing_frequency), effective=day)
    return Order(product=product, offer=offer, licenses=licenses, first_period=line)


def first_period_key(subscription_id: int) -> str:
    """The idempotency key of a bought subscription's first-period invoice line."""
    return f"subscription/{subscription_id}/first-period"


def order_token_new() -> str:
    return str(uuid.uuid4())


def order_token_parse(raw) -> uuid.UUID | None:
    """The order form's token as a UUID, or None for anything else (a hostile value included)."""
    if not isinstance(raw, str) or not _ORDER_TOKEN.fullmatch(raw):
        return None
    return uuid.UUID(raw)
