"""The services hold their own bounds, whatever door called them (the API's and the pages' checks
come first, but a service never trusts them): ids within the database's range, licenses within
the product's maximum or 1,000,000, UPNs with Entra's characters, names without bidi overrides."""

from datetime import date

import pytest

from billing.services import subscription_licenses_set, subscriptions_lock
from licensing.services import user_create
from planchange.services import plan_change_preview
from portal import clock
from portal.errors import DomainError, NotFound
from tests.factories import SubscriptionFactory, TenantFactory, product

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("raw", [2**63, 2**70, -1, 0, "٤", "1.0", True, None, "9" * 30])
def test_an_id_outside_the_databases_range_or_not_a_whole_number_is_not_found(raw):
    sub = SubscriptionFactory()
    with pytest.raises(NotFound):
        subscriptions_lock(tenant=sub.tenant, subscription_ids=[raw])


def test_licenses_past_a_million_are_refused_where_the_product_sets_no_maximum():
    clock.set_date(date(2026, 6, 15))
    sub = SubscriptionFactory(product=product("SPE_E5"), licenses=10)
    with pytest.raises(DomainError) as refused:
        subscription_licenses_set(tenant=sub.tenant, subscription_id=sub.pk, licenses=1_000_001, actor="a")
    assert (refused.value.code, str(refused.value.detail)) == (
        "licenses_too_many", "Microsoft 365 E5 allows at most 1000000 licenses.")
    other = SubscriptionFactory(tenant=sub.tenant, licenses=10)
    with pytest.raises(DomainError) as refused:
        plan_change_preview(tenant=sub.tenant, subscription_id=other.pk, target_sku="SPE_E5", licenses=10**30)
    assert refused.value.code == "licenses_too_many"


@pytest.mark.parametrize(("upn", "name", "field"), [
    ("al\u202eice@tenant.example", "Alice", "upn"),
    ("alice@tenant.example\u0000", "Alice", "upn"),
    ("alice@tenant.example", "Alice \u202eecilA", "display_name"),
    ("alice@tenant.example", "Alice\nBob", "display_name"),
])
def test_a_user_needs_an_entra_upn_and_a_plain_name(upn, name, field):
    tenant = TenantFactory(domain="tenant.example")
    with pytest.raises(DomainError) as refused:
        user_create(tenant=tenant, upn=upn, display_name=name, actor="a")
    assert refused.value.extra["field"] == field
