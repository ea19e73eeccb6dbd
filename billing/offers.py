"""The catalog's offers as every caller reads them: one offer by product, term and billing frequency (``offer_for``),
or that offer or the refusal a request gets when the catalog doesn't sell it (``offer_sold``); and a block that
reads the catalog once however often it asks (``catalog_pinned``: a clock move)."""

from contextlib import contextmanager
from contextvars import ContextVar

from billing.models import Offer, Product
from billing.texts import offer_not_sold
from portal.errors import DomainError

# Set by ``catalog_pinned``: what a block has read of the catalog, read once for the whole block.
_catalog_memo: ContextVar[dict | None] = ContextVar("catalog_memo", default=None)


@contextmanager
def catalog_pinned():
    """Inside, each part of the catalog (an offer, the products with their plans and offers) is read from the
    database once, not once per call: for a block that asks it many times (a clock move: every period billed,
    every scheduled change validated and billed). The catalog changes only by migrations and ``catalog_sync``
    (its admin pages are read-only), never while the portal serves, so nothing read inside can go stale."""
    token = _catalog_memo.set({}) if _catalog_memo.get() is None else None
    try:
        yield
    finally:
        if token is not None:
            _catalog_memo.reset(token)


def catalog_memo() -> dict | None:
    """The pinned block's memo of the catalog (``catalog_pinned``), or None outside one."""
    return _catalog_memo.get()


def offer_for(*, product_id: int, term: str, billing_frequency: str, cache: dict | None = None) -> Offer | None:
    """The catalog offer of a product for a term and billing frequency; ``cache`` (or a pinned block's memo)
    keeps one query per offer across many calls."""
    if cache is None:
        cache = catalog_memo()
    key = ("offer", product_id, term, billing_frequency)
    if cache is None or key not in cache:
        offer = Offer.objects.filter(product_id=product_id, term=term, billing_frequency=billing_frequency).first()
        if cache is None:
            return offer
        cache[key] = offer
    return cache[key]


def offer_sold(product: Product, *, term: str, billing_frequency: str) -> Offer:
    """The offer a request names, or its refusal (``invalid_offer`` on ``billing_frequency``): the catalog
    doesn't sell the product for that term and billing frequency."""
    offer = offer_for(product_id=product.pk, term=term, billing_frequency=billing_frequency)
    if offer is None:
        raise DomainError(offer_not_sold(product=product.name, term=term, billing_frequency=billing_frequency),
                          code="invalid_offer", field="billing_frequency")
    return offer
