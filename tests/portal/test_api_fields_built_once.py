"""``portal.api.fields.FieldsBuiltOnce``: a serializer's fields are built from the model once per class and
copied for each serializer; each copy is that serializer's own (its name, parent and context), so what one
request's serializer is told (the clock's today) is never another's."""

from datetime import date

import pytest

from billing.api.serializers import SubscriptionSerializer
from billing.selectors import subscriptions_shown
from tests.factories import SubscriptionFactory, TenantFactory, product

pytestmark = pytest.mark.django_db


def test_each_serializer_has_fields_of_its_own_bound_to_it():
    first, second = SubscriptionSerializer(), SubscriptionSerializer()
    for name, field in first.fields.items():
        other = second.fields[name]
        assert field is not other
        assert (field.parent, other.parent, field.field_name, other.field_name) == (first, second, name, name)


def test_what_one_serializer_is_told_is_not_another_s():
    tenant = TenantFactory()
    SubscriptionFactory(tenant=tenant, product=product("O365_BUSINESS_PREMIUM"), start_date=date(2026, 1, 10))
    sub = subscriptions_shown(tenant=tenant).get()
    june = SubscriptionSerializer(sub, context={"today": date(2026, 6, 1)})
    next_year = SubscriptionSerializer(sub, context={"today": date(2027, 3, 1)})
    assert (june.data["renewal_date"], next_year.data["renewal_date"]) == ("2027-01-10", "2028-01-10")
    assert (june.data["licenses"], june.data["sku"]) == (sub.licenses, "O365_BUSINESS_PREMIUM")
