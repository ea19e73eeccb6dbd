"""The API's busiest GETs read with SQL compiled once per process (``portal.compiled``, issue 24 part 3):
GET subscriptions/ and plan-changes/ (their first page), subscriptions/{id}/ and plan-changes/{id}/ answer
what the ORM's queryset answers, for every tenant the process serves one after the other, with pages,
add-ons, steps, the status filter and 404s as before."""

from datetime import date

import pytest
from django.test import RequestFactory
from rest_framework.test import APIClient

from billing.api.serializers import SubscriptionSerializer
from billing.models import Subscription, SubscriptionAddOn
from billing.selectors import subscriptions_shown
from planchange import workflow
from planchange.api.serializers import PlanChangeSerializer
from planchange.models import PlanChange
from planchange.services import plan_change_request
from portal import clock, compiled
from portal.compiled import Compiled, children_attach
from portal.errors import Missing, NotFound
from tests.factories import (
    BillingProfileFactory,
    PaymentMethodFactory,
    SubscriptionFactory,
    TenantFactory,
    addon,
    admin_of,
    product,
    token_for,
)

pytestmark = pytest.mark.django_db


def client_for(tenant) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(admin_of(tenant))}")
    return api


@pytest.fixture
def contoso():
    tenant = TenantFactory(name="Contoso", domain="contoso.example")
    card = PaymentMethodFactory(tenant=tenant, is_default=True)
    profile = BillingProfileFactory(tenant=tenant, name="Contoso billing")
    premium = SubscriptionFactory(tenant=tenant, product=product("O365_BUSINESS_PREMIUM"), licenses=25,
                                  payment_method=card, start_date=date(2026, 1, 1))
    basic = SubscriptionFactory(tenant=tenant, product=product("O365_BUSINESS_ESSENTIALS"), licenses=10,
                                payment_method=card, billing_profile=profile, start_date=date(2026, 2, 1))
    SubscriptionFactory(tenant=tenant, product=product("O365_BUSINESS"), licenses=3, payment_method=card,
                        status=Subscription.Status.CANCELLED, start_date=date(2025, 3, 1))
    for sub, code in ((premium, "AUDIO_CONFERENCING"), (premium, "EXTRA_FILE_STORAGE"), (basic, "EXTRA_FILE_STORAGE")):
        SubscriptionAddOn.objects.create(subscription=sub, addon=addon(code), added_on=date(2026, 1, 1))
    return tenant


@pytest.fixture
def fabrikam():
    tenant = TenantFactory(name="Fabrikam", domain="fabrikam.example")
    SubscriptionFactory(tenant=tenant, product=product("O365_BUSINESS_PREMIUM"), licenses=7,
                        payment_method=PaymentMethodFactory(tenant=tenant, is_default=True))
    return tenant


def orm_answer(tenant) -> list[dict]:
    """What the serializer answers for the ORM's queryset (the path every other request takes)."""
    request = RequestFactory().get("/api/v1/subscriptions/")
    return SubscriptionSerializer(subscriptions_shown(tenant=tenant), many=True,
                                  context={"request": request, "today": clock.today()}).data


def test_the_list_is_what_the_querysets_serializer_answers_tenant_after_tenant(contoso, fabrikam):
    for tenant in (contoso, fabrikam, contoso):  # the second and third reuse the SQL compiled for the first
        body = client_for(tenant).get("/api/v1/subscriptions/").json()
        assert body["results"] == orm_answer(tenant)
        assert (body["count"], body["next"], body["previous"]) == (len(body["results"]), None, None)
    contoso_body = client_for(contoso).get("/api/v1/subscriptions/").json()
    assert [(s["sku"], s["status"], s["licenses"], sorted(s["addons"]),
             s["billing_profile"] and s["billing_profile"]["name"]) for s in contoso_body["results"]] == [
        ("O365_BUSINESS_ESSENTIALS", "active", 10, ["EXTRA_FILE_STORAGE"], "Contoso billing"),  # by product name
        ("O365_BUSINESS_PREMIUM", "active", 25, ["AUDIO_CONFERENCING", "EXTRA_FILE_STORAGE"], None),
        ("O365_BUSINESS", "cancelled", 3, [], None),  # active ones first
    ]
    assert [s["licenses"] for s in client_for(fabrikam).get("/api/v1/subscriptions/").json()["results"]] == [7]


def test_the_add_ons_come_in_the_order_the_queryset_gives_them(contoso):
    premium = Subscription.objects.get(tenant=contoso, licenses=25)
    expected = [sa.addon.code for sa in subscriptions_shown(tenant=contoso).get(pk=premium.pk).subscription_addons.all()]
    body = client_for(contoso).get("/api/v1/subscriptions/").json()
    assert next(s for s in body["results"] if s["id"] == premium.pk)["addons"] == expected


def test_pages_after_the_first_and_a_full_first_page_count_as_before(contoso):
    api = client_for(contoso)
    everything = orm_answer(contoso)
    first = api.get("/api/v1/subscriptions/?page_size=2").json()
    assert (first["count"], first["previous"], first["results"]) == (3, None, everything[:2])
    assert first["next"] == "http://testserver/api/v1/subscriptions/?page=2&page_size=2"
    second = api.get(first["next"]).json()
    assert (second["count"], second["next"], second["results"]) == (3, None, everything[2:])
    assert second["previous"] == "http://testserver/api/v1/subscriptions/?page_size=2"
    exact = api.get("/api/v1/subscriptions/?page_size=3").json()
    assert (exact["count"], exact["next"], exact["results"]) == (3, None, everything)
    assert api.get("/api/v1/subscriptions/?page=3&page_size=2").status_code == 404


def test_a_tenant_without_subscriptions_lists_none(fabrikam):
    Subscription.objects.filter(tenant=fabrikam).delete()
    assert client_for(fabrikam).get("/api/v1/subscriptions/").json() == {
        "count": 0, "next": None, "previous": None, "results": []}


def test_a_subscription_is_what_the_querysets_serializer_answers(contoso, fabrikam):
    request = RequestFactory().get("/")
    for tenant in (contoso, fabrikam):
        for sub in subscriptions_shown(tenant=tenant):
            body = client_for(tenant).get(f"/api/v1/subscriptions/{sub.pk}/").json()
            assert body == SubscriptionSerializer(sub, context={"request": request, "today": clock.today()}).data
    premium = Subscription.objects.get(tenant=contoso, licenses=25)
    assert sorted(client_for(contoso).get(f"/api/v1/subscriptions/{premium.pk}/").json()["addons"]) == [
        "AUDIO_CONFERENCING", "EXTRA_FILE_STORAGE"]
    for api, pk in ((client_for(fabrikam), premium.pk), (client_for(contoso), premium.pk + 1000),
                    (client_for(contoso), 0), (client_for(contoso), 9999999999999999999)):
        response = api.get(f"/api/v1/subscriptions/{pk}/")
        assert (response.status_code, response.json()["code"]) == (404, "subscription_not_found"), pk


@pytest.fixture
def change(contoso):
    premium = Subscription.objects.get(tenant=contoso, licenses=25)
    SubscriptionAddOn.objects.filter(subscription=premium).delete()  # an add-on blocks the change
    change = plan_change_request(tenant=contoso, user=admin_of(contoso), subscription_id=premium.pk, target_sku="SPB")
    workflow.run(change.pk)
    return PlanChange.objects.get(pk=change.pk)


def test_a_change_is_what_the_querysets_serializer_answers(contoso, change):
    api = client_for(contoso)
    body = api.get(f"/api/v1/plan-changes/{change.pk}/").json()
    orm = PlanChange.objects.select_related("target_product").prefetch_related("steps").get(pk=change.pk)
    assert body == PlanChangeSerializer(orm).data
    assert (body["status"], body["target_sku"]) == ("completed", "SPB")
    assert [(s["name"], s["status"]) for s in body["steps"]] == [
        ("validate", "done"), ("provision", "done"), ("migrate_licenses", "done"), ("bill", "done"),
        ("cancel_source", "done"), ("complete", "done")]


def test_the_changes_list_and_its_status_filter_are_what_the_queryset_answers(contoso, fabrikam, change):
    basic = Subscription.objects.get(tenant=contoso, licenses=10)
    SubscriptionAddOn.objects.filter(subscription=basic).delete()
    queued = plan_change_request(tenant=contoso, user=admin_of(contoso), subscription_id=basic.pk, target_sku="SPB")
    api = client_for(contoso)
    body = api.get("/api/v1/plan-changes/").json()
    orm = PlanChange.objects.filter(tenant=contoso).select_related("target_product").prefetch_related("steps")
    assert body["results"] == PlanChangeSerializer(orm.order_by("-requested_at", "-id"), many=True).data
    assert [c["id"] for c in body["results"]] == [queued.pk, change.pk]
    assert (body["count"], body["next"]) == (2, None)
    for status, ids in (("completed", [change.pk]), ("queued", [queued.pk]), ("failed", [])):
        assert [c["id"] for c in api.get(f"/api/v1/plan-changes/?status={status}").json()["results"]] == ids
    assert api.get("/api/v1/plan-changes/?status=done").status_code == 400
    second = api.get("/api/v1/plan-changes/?page=2&page_size=1").json()
    assert ([c["id"] for c in second["results"]], second["count"]) == ([change.pk], 2)
    assert client_for(fabrikam).get("/api/v1/plan-changes/").json()["results"] == []


def test_another_tenants_change_a_missing_one_and_id_zero_are_the_same_404(contoso, fabrikam, change):
    for api, pk in ((client_for(fabrikam), change.pk), (client_for(contoso), change.pk + 1000),
                    (client_for(contoso), 0), (client_for(contoso), 9999999999999999999)):
        response = api.get(f"/api/v1/plan-changes/{pk}/")
        assert (response.status_code, response.json()["code"]) == (404, "plan_change_not_found"), pk
    assert client_for(contoso).get(f"/api/v1/plan-changes/{change.pk}/").status_code == 200


def test_a_change_and_its_steps_are_one_round_trip_on_postgresql(contoso, change, settings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.PORTAL_API_KEEP = True
    api = client_for(contoso)
    api.get(f"/api/v1/plan-changes/{change.pk}/")  # the token, its login and tenant kept
    with CaptureQueriesContext(connection) as executed:
        assert api.get(f"/api/v1/plan-changes/{change.pk}/").status_code == 200
    statements = [sql for query in executed.captured_queries for sql in query["sql"].split("; ")]
    assert [sql.split(" FROM ")[1].split()[0] for sql in statements] == [
        '"planchange_planchange"', '"planchange_planchangestep"']
    assert len(executed.captured_queries) == (1 if connection.vendor == "postgresql" else 2)


def test_a_subscription_and_its_add_ons_are_one_round_trip_on_postgresql(contoso, settings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.PORTAL_API_KEEP = True
    premium = Subscription.objects.get(tenant=contoso, licenses=25)
    api = client_for(contoso)
    api.get(f"/api/v1/subscriptions/{premium.pk}/")  # the token, its login and tenant kept
    with CaptureQueriesContext(connection) as executed:
        assert sorted(api.get(f"/api/v1/subscriptions/{premium.pk}/").json()["addons"]) == [
            "AUDIO_CONFERENCING", "EXTRA_FILE_STORAGE"]
    reads = [query["sql"] for query in executed.captured_queries if 'FROM "billing_subscription' in query["sql"]]
    assert [('FROM "billing_subscription"' in sql, 'FROM "billing_subscriptionaddon"' in sql) for sql in reads] == (
        [(True, True)] if connection.vendor == "postgresql" else [(True, False), (False, True)])


def test_compiled_get_with_children_is_what_children_attach_gives(contoso, fabrikam, change):
    from planchange.models import PlanChangeStep

    change_of = Compiled(lambda tenant, id: PlanChange.objects.filter(tenant=tenant, pk=id))
    steps_of = Compiled(lambda parents: PlanChangeStep.objects.filter(plan_change__in=parents))
    missing = Missing("plan_change_not_found", "No such change.")
    together = change_of.get(change.pk, missing, children=("steps", steps_of), tenant=contoso.pk)
    apart = change_of.get(change.pk, missing, tenant=contoso.pk)
    children_attach([apart], relation="steps", children=steps_of)
    assert [(s.pk, s.name, s.plan_change is together) for s in together.steps.all()] == [
        (s.pk, s.name, True) for s in PlanChangeStep.objects.filter(plan_change=change)]
    assert [s.pk for s in together.steps.all()] == [s.pk for s in apart.steps.all()]
    for tenant, pk in ((fabrikam, change.pk), (contoso, change.pk + 1000), (contoso, "0x1")):
        with pytest.raises(NotFound) as refused:
            change_of.get(pk, missing, children=("steps", steps_of), tenant=tenant.pk)
        assert refused.value.code == "plan_change_not_found"


# portal.compiled itself


def test_compiled_rows_take_each_calls_values_in_lists_of_any_length(contoso, fabrikam):
    by_tenant = Compiled(lambda tenant, ids: Subscription.objects.filter(tenant=tenant, pk__in=ids).order_by("pk"))
    contoso_ids = list(Subscription.objects.filter(tenant=contoso).order_by("pk").values_list("pk", flat=True))
    fabrikam_id = Subscription.objects.get(tenant=fabrikam).pk
    assert [s.pk for s in by_tenant.rows(tenant=contoso.pk, ids=contoso_ids)] == contoso_ids
    assert [s.pk for s in by_tenant.rows(tenant=contoso.pk, ids=contoso_ids[:1] + [fabrikam_id])] == contoso_ids[:1]
    assert [s.pk for s in by_tenant.rows(tenant=fabrikam.pk, ids=[fabrikam_id])] == [fabrikam_id]
    assert [s.pk for s in by_tenant.rows(limit=2, tenant=contoso.pk, ids=contoso_ids)] == contoso_ids[:2]
    by_status = Compiled(lambda status: Subscription.objects.filter(status=status).order_by("pk"))
    assert len(by_status.rows(status="cancelled")) == 1
    assert len(by_status.rows(status="active")) == 3


def test_compiled_keeps_at_most_shapes_max_shapes_and_still_answers(contoso, monkeypatch):
    monkeypatch.setattr(compiled, "SHAPES_MAX", 2)
    by_tenant = Compiled(lambda tenant: Subscription.objects.filter(tenant=tenant).order_by("pk"))
    everything = [s.pk for s in by_tenant.rows(tenant=contoso.pk)]
    for limit in (1, 2, 3, 1, 2):
        assert [s.pk for s in by_tenant.rows(limit=limit, tenant=contoso.pk)] == everything[:limit]
        assert len(next(iter(by_tenant._shapes.values()))) <= 2  # noqa: SLF001


def test_compiled_refuses_a_value_the_sql_does_not_take_and_a_prefetch():
    with pytest.raises(ValueError, match="isn't a parameter"):
        Compiled(lambda tenant: Subscription.objects.all()).rows(tenant=1)
    with pytest.raises(ValueError, match="prefetch_related"):
        Compiled(lambda tenant: Subscription.objects.filter(tenant=tenant)
                 .prefetch_related("subscription_addons")).rows(tenant=1)


def test_children_attach_is_what_prefetch_related_gives(contoso):
    subs = Compiled(lambda tenant: Subscription.objects.filter(tenant=tenant).order_by("pk")).rows(tenant=contoso.pk)
    children_attach(subs, relation="subscription_addons",
                    children=Compiled(lambda parents: SubscriptionAddOn.objects.filter(subscription__in=parents)))
    prefetched = Subscription.objects.filter(tenant=contoso).order_by("pk").prefetch_related("subscription_addons")
    assert [[(sa.pk, sa.subscription is sub) for sa in sub.subscription_addons.all()] for sub in subs] == [
        [(sa.pk, True) for sa in sub.subscription_addons.all()] for sub in prefetched]
