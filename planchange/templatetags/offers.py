"""``{% offers_sold sku as sold %}``: what the Change plan pane may offer for a plan, from the catalog's offers
(``billing.selectors.offers_sold``): each billing frequency's terms (``sold.terms``, space-separated, for the
page's script) and, for a length not sold with every frequency, the reason (``sold.hints``: term → text)."""

from dataclasses import dataclass, field

from django import template
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from billing.models import BillingFrequency, Term
from billing.selectors import offers_sold as catalog_offers

register = template.Library()

# How often a length is billed, as the reason's sentence says it ("billed monthly only").
BILLED = {BillingFrequency.MONTHLY: _lazy("monthly"), BillingFrequency.ANNUAL: _lazy("annually")}


@dataclass
class Sold:
    terms: dict[str, str] = field(default_factory=dict)  # billing frequency → "P1M P1Y"
    hints: dict[str, str] = field(default_factory=dict)  # term → why some frequency isn't offered with it

    def allows(self, term: str, frequency: str) -> bool:
        return term in self.terms.get(frequency, "").split()


@register.simple_tag
def offers_sold(sku: str) -> Sold:
    pairs = catalog_offers(sku=sku)
    sold = Sold(terms={f: " ".join(t for t in Term.values if (t, f) in pairs) for f in BillingFrequency.values})
    for term in Term:
        frequencies = [f for f in BillingFrequency if (term.value, f.value) in pairs]
        if frequencies and len(frequencies) < len(BillingFrequency):
            sold.hints[term.value] = _("%(term)s is billed %(frequency)s only.") % {
                "term": term.label, "frequency": " / ".join(str(BILLED[f]) for f in frequencies)}
    return sold


@register.filter
def sold_with(sold: Sold, pair: str) -> bool:
    """``sold|sold_with:"P1M annual"``: whether the catalog sells that term with that frequency."""
    term, frequency = pair.split()
    return sold.allows(term, frequency)


@register.filter
def terms_of(sold: Sold, frequency: str) -> str:
    """``sold|terms_of:"annual"``: the terms sold with that frequency, space-separated."""
    return sold.terms.get(frequency, "")
