"""``portal.api.fields.FieldsBuiltOnce``: a serializer's fields are built from the model once per class and
copied for each serializer; each copy is that serializer's own (its name, parent and context), so what one
request's serializer is told (the clock's today) is never another's."""

from datetime import date

import pytest

from billing.api.serializers import SubscriptionSerializer
from billing.selectors import subscriptions_shown
from planchange import workflow
from planchange.api.serializers import PlanChangeSerializer
from planchange.models import PlanChange
from planchange.services import plan_change_request
from portal.api import serializers
from tests.factories import PaymentMethodFactory, SubscriptionFactory, TenantFactory, admin_of, product

pytestmark = pytest.mark.django_db


@pytest.fixture
def change():
    tenant = TenantFactory()
    card = PaymentMethodFactory(tenant=tenant, is_default=True)
    sub = SubscriptionFactory(tenant=tenant, product=product("O365_BUSINESS_PREMIUM"), payment_method=card)
    SubscriptionFactory(tenant=tenant, product=product("O365_BUSINESS_ESSENTIALS"), payment_method=card)
    change = plan_change_request(tenant=tenant, user=admin_of(tenant), subscription_id=sub.pk, target_sku="SPB")
    workflow.run(change.pk)
    return PlanChange.objects.prefetch_related("steps").select_related("target_product").get(pk=change.pk)


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


def _plain(serializer_class):
    """The serializer as DRF builds it, every field anew from the model and deep-copied declarations."""
    return type(f"Plain{serializer_class.__name__}", (serializer_class,), {
        "get_fields": serializers.ModelSerializer.get_fields})


def test_a_change_with_nested_steps_lists_and_dicts_reads_as_drf_builds_it(change):
    plain = _plain(PlanChangeSerializer)
    first, second = PlanChangeSerializer(change), PlanChangeSerializer(change)
    assert first.data == plain(change).data == second.data
    assert [s["name"] for s in first.data["steps"]] == ["validate", "provision", "migrate_licenses", "bill",
                                                        "cancel_source", "complete"]
    steps, other = first.fields["steps"], second.fields["steps"]
    assert steps is not other and steps.child is not other.child
    assert (steps.child.parent, other.child.parent) == (steps, other)
    assert steps.child.fields is not other.child.fields
    plans = first.fields["disabled_plans_before"]
    assert (plans.child.parent, plans.child.child.parent) == (plans, plans.child)


def test_a_list_of_subscriptions_reads_as_drf_builds_it(change):
    subs = list(subscriptions_shown(tenant=change.tenant))
    context = {"today": date(2026, 6, 1)}
    assert SubscriptionSerializer(subs, many=True, context=context).data == _plain(SubscriptionSerializer)(
        subs, many=True, context=context).data
